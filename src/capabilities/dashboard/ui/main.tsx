/**
 * The headroom-ts dashboard: header (views, health, refresh, theme), the three views and the
 * sign-in screen. Keys: `r` refresh, `1` `2` `3` views, `t` theme.
 */
import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { getToken, setToken } from './api.js';
import { fmtClock } from './format.js';
import { HealthIndicator } from './health.js';
import { HistoryView } from './history-view.js';
import { useDisplay } from './display.js';
import { AppContext, type AppContextValue, useVisible } from './hooks.js';
import { LiveView } from './live-view.js';
import { SessionView } from './session-view.js';
import { SignIn } from './signin.js';
import { type ThemeChoice, useTheme } from './theme.js';

type View = 'session' | 'history' | 'live';
const VIEWS: { id: View; label: string; key: string }[] = [
  { id: 'session', label: 'Session', key: '1' },
  { id: 'history', label: 'History', key: '2' },
  { id: 'live', label: 'Live', key: '3' },
];

const viewFromHash = (): View => {
  const h = location.hash.replace(/^#\/?/, '');
  return VIEWS.some((v) => v.id === h) ? (h as View) : 'session';
};

const THEME_LABEL: Record<ThemeChoice, string> = { system: 'Auto', dark: 'Dark', light: 'Light' };

function App() {
  const [view, setView] = useState<View>(viewFromHash);
  const [refreshTick, setRefreshTick] = useState(0);
  const [needAuth, setNeedAuth] = useState(false);
  const [updatedAt, setUpdatedAt] = useState<number | null>(null);
  const visible = useVisible();
  const { choice, resolved, cycle } = useTheme();
  const zone = useDisplay();
  const refresh = useCallback(() => setRefreshTick((n) => n + 1), []);

  useEffect(() => {
    const onHash = () => setView(viewFromHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.metaKey || e.ctrlKey || e.altKey) return;
      const t = e.target as HTMLElement | null;
      if (t && (t.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(t.tagName))) return;
      const v = VIEWS.find((x) => x.key === e.key);
      if (v) location.hash = `#/${v.id}`;
      else if (e.key === 'r') refresh();
      else if (e.key === 't') cycle();
      else return;
      e.preventDefault();
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, [refresh, cycle]);

  const ctx: AppContextValue = {
    refreshTick,
    visible,
    onAuth: () => setNeedAuth(true),
    onUpdated: setUpdatedAt,
    display: `${zone.locale}|${zone.timeZone}`,
  };

  return (
    <AppContext.Provider value={ctx}>
      <header class="top">
        <div class="brand">
          <span class="logo">headroom</span><span class="logo-ts">-ts</span>
        </div>
        <nav class="tabs" aria-label="Views">
          {VIEWS.map((v) => (
            <a href={`#/${v.id}`} class={v.id === view ? 'on' : ''} aria-current={v.id === view ? 'page' : undefined} data-testid={`tab-${v.id}`} title={`${v.label} (${v.key})`}>
              {v.label}
            </a>
          ))}
        </nav>
        <div class="top-right">
          <HealthIndicator />
          <span class="updated muted" data-testid="updated-at">{updatedAt ? `updated ${fmtClock(updatedAt)}` : ''}</span>
          <label class="zone" title="Every time on this page is shown in this zone">
            <span class="muted" data-testid="zone-label" data-zone={zone.timeZone}>{zone.label}</span>
            <select aria-label="Time zone" data-testid="zone-select" value={zone.choice} onChange={(e) => zone.choose((e.target as HTMLSelectElement).value === 'utc' ? 'utc' : 'local')}>
              <option value="local">Browser time</option>
              <option value="utc">UTC</option>
            </select>
          </label>
          <button type="button" class="btn" onClick={refresh} title="Refresh (r)" data-testid="refresh">Refresh</button>
          <button type="button" class="btn" onClick={cycle} title="Theme: auto, dark, light (t)" data-testid="theme">{THEME_LABEL[choice]} theme</button>
          {getToken() && !needAuth && (
            <button type="button" class="btn" onClick={() => { setToken(null); setNeedAuth(true); }} title="Forget the proxy token in this tab">Sign out</button>
          )}
        </div>
      </header>
      <main>
        {needAuth ? (
          <SignIn onDone={() => { setNeedAuth(false); refresh(); }} />
        ) : view === 'session' ? (
          <SessionView />
        ) : view === 'history' ? (
          <HistoryView theme={resolved} />
        ) : (
          <LiveView />
        )}
      </main>
      <footer class="foot muted">
        <span>Keys: <kbd>r</kbd> refresh · <kbd>1</kbd> <kbd>2</kbd> <kbd>3</kbd> views · <kbd>t</kbd> theme</span>
        <span>Data: <code>/stats</code> · <code>/stats-history</code> · <code>/metrics/*</code> · <code>/health</code></span>
      </footer>
    </AppContext.Provider>
  );
}

render(<App />, document.getElementById('app')!);
