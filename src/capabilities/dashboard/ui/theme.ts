/** Dark and light themes: auto (follows the system), dark or light, remembered in localStorage. */
import { useCallback, useEffect, useState } from 'preact/hooks';

export type ThemeChoice = 'system' | 'dark' | 'light';
const KEY = 'headroom-ts.theme';
const ORDER: ThemeChoice[] = ['system', 'dark', 'light'];

function readChoice(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'dark' || v === 'light' ? v : 'system';
  } catch {
    return 'system';
  }
}

const systemDark = () => matchMedia('(prefers-color-scheme: dark)').matches;

export function useTheme(): { choice: ThemeChoice; resolved: 'dark' | 'light'; cycle(): void } {
  const [choice, setChoice] = useState<ThemeChoice>(readChoice);
  const [dark, setDark] = useState(systemDark);
  useEffect(() => {
    const mq = matchMedia('(prefers-color-scheme: dark)');
    const on = () => setDark(mq.matches);
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, []);
  const resolved = choice === 'system' ? (dark ? 'dark' : 'light') : choice;
  // set while rendering, so that children (charts) read the right colours in their effects
  document.documentElement.dataset.theme = resolved;
  const cycle = useCallback(() => {
    setChoice((c) => {
      const next = ORDER[(ORDER.indexOf(c) + 1) % ORDER.length]!;
      try {
        if (next === 'system') localStorage.removeItem(KEY);
        else localStorage.setItem(KEY, next);
      } catch {
        // storage disabled: the choice lasts for this page
      }
      return next;
    });
  }, []);
  return { choice, resolved, cycle };
}
