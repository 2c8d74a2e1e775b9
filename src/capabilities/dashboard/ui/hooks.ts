/** Shared hooks: polling the proxy, page visibility, a ticking clock, the app context. */
import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import { AuthError, getJson } from './api.js';

export interface AppContextValue {
  /** Bumped by the refresh button and the `r` key. */
  refreshTick: number;
  /** False while the tab is hidden: nothing polls, the stream is closed. */
  visible: boolean;
  /** A request answered 401: show the sign-in screen. */
  onAuth(): void;
  /** A view received fresh data. */
  onUpdated(at: number): void;
  /** The time zone and locale times and figures are shown in (`format.ts` `setDisplay`); charts redraw when it changes. */
  display?: string;
}

export const AppContext = createContext<AppContextValue>({ refreshTick: 0, visible: true, onAuth: () => {}, onUpdated: () => {} });

export const useApp = (): AppContextValue => useContext(AppContext);

export interface Polled<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
}

/**
 * GETs `path` now, every `everyMs` while the tab is visible (0: only on refresh), and on
 * every refresh. Responses to superseded requests are dropped. `view` data moves the
 * header's "updated" time; background data (health) does not.
 */
export function usePoll<T>(path: string, everyMs: number, view = true): Polled<T> & { reload(): void } {
  const app = useApp();
  const [state, setState] = useState<Polled<T>>({ data: null, error: null, loading: true });
  const seq = useRef(0);
  const [kick, setKick] = useState(0);
  useEffect(() => {
    if (!app.visible) return;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const load = async () => {
      const mine = ++seq.current;
      try {
        const data = await getJson<T>(path);
        if (mine !== seq.current) return;
        setState({ data, error: null, loading: false });
        if (view) app.onUpdated(Date.now());
      } catch (err) {
        if (mine !== seq.current) return;
        if (err instanceof AuthError) return app.onAuth();
        setState((s) => ({ ...s, error: (err as Error).message, loading: false }));
      }
      if (everyMs > 0) timer = setTimeout(() => void load(), everyMs);
    };
    void load();
    return () => {
      seq.current++;
      if (timer) clearTimeout(timer);
    };
  }, [path, everyMs, view, app.visible, app.refreshTick, kick]);
  return { ...state, reload: () => setKick((k) => k + 1) };
}

/** Whether the tab is visible. */
export function useVisible(): boolean {
  const [visible, setVisible] = useState(document.visibilityState !== 'hidden');
  useEffect(() => {
    const on = () => setVisible(document.visibilityState !== 'hidden');
    document.addEventListener('visibilitychange', on);
    return () => document.removeEventListener('visibilitychange', on);
  }, []);
  return visible;
}

/** `Date.now()`, re-rendering every `everyMs` while `active`. */
export function useNow(everyMs: number, active: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs, active]);
  return now;
}
