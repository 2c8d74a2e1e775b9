/**
 * Shown when the proxy answers 401: it requires its token (HEADROOM_PROXY_TOKEN) from
 * callers that are not on loopback. The token is checked against `/stats`, then kept for this
 * tab only (sessionStorage) and sent as a header; it never goes into a URL or a cookie.
 */
import { useState } from 'preact/hooks';
import { AuthError, getJson, setToken } from './api.js';
import { STATS_PATH } from './session-view.js';

export function SignIn({ onDone }: { onDone(): void }) {
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const token = value.trim();
    if (!token) return;
    setBusy(true);
    setError(null);
    try {
      await getJson(STATS_PATH, token);
      setToken(token);
      onDone();
    } catch (err) {
      setError(err instanceof AuthError ? 'That token was not accepted.' : (err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="view signin" data-testid="signin">
      <form class="card signin-card" onSubmit={submit}>
        <h2>Proxy token required</h2>
        <p>
          This proxy asks callers outside this machine for its token (<code>HEADROOM_PROXY_TOKEN</code>). It is kept in this tab only
          and sent as a request header.
        </p>
        <input
          type="password" autocomplete="current-password" placeholder="Proxy token" aria-label="Proxy token" data-testid="token-input"
          value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} autofocus
        />
        {error && <div class="tone-bad" role="alert" data-testid="signin-error">{error}</div>}
        <button type="submit" class="btn primary" disabled={busy || !value.trim()} data-testid="token-submit">{busy ? 'Checking…' : 'Sign in'}</button>
      </form>
    </div>
  );
}
