import type { ViteUserConfig } from "vitest/config";

/** The one vitest preset (see vitest.js). */
export declare const preset: ViteUserConfig;
/** The preset, with no database default (PGLITE_DATA_DIR=memory://, DATABASE_URL unset). */
export declare const databasePreset: ViteUserConfig;
/** The preset, with the apps' longer timeouts. */
export declare const appPreset: ViteUserConfig;
