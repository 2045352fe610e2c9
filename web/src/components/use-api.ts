import { useCallback, useEffect, useRef, useState } from 'react';

export interface Loadable<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/**
 * Runs `load` when `deps` (JSON-serialisable: which resource) or `refresh` (the same resource,
 * fetched again after a change) change. A refresh keeps the shown data while it loads, so the
 * page does not collapse and lose the user's focus; a newer run wins over an older late one.
 */
export function useLoad<T>(load: (() => Promise<T>) | null, deps: unknown[], refresh: unknown = 0): Loadable<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: !!load });
  const [tick, setTick] = useState(0);
  const run = useRef(0);
  const lastDeps = useRef<string | null>(null);
  useEffect(() => {
    if (!load) {
      setState({ loading: false });
      return;
    }
    const id = ++run.current;
    const depsKey = JSON.stringify(deps);
    const same = lastDeps.current === depsKey;
    lastDeps.current = depsKey;
    setState((s) => ({ data: same ? s.data : undefined, loading: true }));
    load().then(
      (data) => id === run.current && setState({ data, loading: false }),
      (error: unknown) => id === run.current && setState({ error, loading: false }),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick, refresh]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}
