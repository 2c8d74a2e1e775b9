/**
 * The one time zone and the locale every time and figure of the page is shown in: the
 * browser's locale, and the browser's zone (default) or UTC, remembered in localStorage.
 * Set while rendering, so that every child (tables, charts, the header) formats alike.
 */
import { useCallback, useState } from 'preact/hooks';
import { setDisplay, zoneLabel } from './format.js';

export type ZoneChoice = 'local' | 'utc';
const KEY = 'headroom-ts.time-zone';

function readChoice(): ZoneChoice {
  try {
    return localStorage.getItem(KEY) === 'utc' ? 'utc' : 'local';
  } catch {
    return 'local';
  }
}

const browserZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
const browserLocale = (): string => {
  try {
    return new Intl.NumberFormat(navigator.language).resolvedOptions().locale;
  } catch {
    return 'en-US';
  }
};

export function useDisplay(): { choice: ZoneChoice; timeZone: string; label: string; locale: string; choose(c: ZoneChoice): void } {
  const [choice, setChoice] = useState<ZoneChoice>(readChoice);
  const timeZone = choice === 'utc' ? 'UTC' : browserZone();
  const locale = browserLocale();
  setDisplay({ locale, timeZone });
  const choose = useCallback((c: ZoneChoice) => {
    try {
      if (c === 'local') localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, c);
    } catch {
      // storage disabled: the choice lasts for this page
    }
    setChoice(c);
  }, []);
  return { choice, timeZone, label: zoneLabel(timeZone), locale, choose };
}
