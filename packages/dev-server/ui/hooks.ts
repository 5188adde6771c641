import { useCallback, useEffect, useRef, useState } from "preact/hooks";

/** How often a page asks again: runs progress without a reload. */
export const POLL_MS = 1000;

export interface Polled<T> {
  data: T | undefined;
  error: string | null;
  reload: () => void;
}

/**
 * Loads `load()` now and again every second while the page is shown; a new `key` (other filters,
 * another id) starts over. An answer that arrives after the key changed is dropped.
 */
export function usePoll<T>(load: () => Promise<T>, key: string): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const reload = useCallback(() => setTick((value) => value + 1), []);

  useEffect(() => {
    setData(undefined);
    setError(null);
  }, [key]);

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        const value = await loadRef.current();
        if (!live) return;
        setData(value);
        setError(null);
      } catch (caught) {
        if (!live) return;
        setError((caught as Error).message);
      }
      if (live) timer = setTimeout(run, POLL_MS);
    };
    void run();
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [key, tick]);

  return { data, error, reload };
}
