/** The one row a query by unique key found, or null. */
export const first = <T>(rows: T[]): T | null => rows[0] ?? null;
