import { useEffect, useState } from "preact/hooks";

/**
 * Secure mode in the browser: the server's API answers 401 until it gets `Authorization: Bearer
 * <signing key>`. The first 401 shows a form that asks for the key once; it is kept in this tab's
 * sessionStorage (gone when the tab closes, never in a cookie or a URL) and sent with every request.
 * Without a signing key on the server nothing of this shows.
 */

const STORAGE_KEY = "inngest-dev-server.signing-key";

function savedKey(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

/** The headers every API request carries: the key, once there is one. */
export function authHeaders(): Record<string, string> {
  const key = savedKey();
  return key ? { authorization: `Bearer ${key}` } : {};
}

let refusal: string | null = null;
const listeners = new Set<() => void>();

/** A request got a 401: the UI asks for the key, showing the server's reason. */
export function refused(message: string): void {
  refusal = message;
  for (const listener of listeners) listener();
}

/** The server's reason for the last 401, or null while requests are let through. */
export function useRefusal(): string | null {
  const [value, setValue] = useState(refusal);
  useEffect(() => {
    const listener = () => setValue(refusal);
    listeners.add(listener);
    listener();
    return () => {
      listeners.delete(listener);
    };
  }, []);
  return value;
}

export function hasSavedKey(): boolean {
  return savedKey() !== null;
}

/** Keeps the key for this tab and starts the UI over with it. */
export function saveKey(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key);
  location.reload();
}
