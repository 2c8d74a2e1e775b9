/** The health indicator (`GET /health`, every 15 s): a pill that opens the list of checks. */
import { fmtSpan } from './format.js';
import { usePoll } from './hooks.js';
import type { Health } from './types.js';

export function healthTone(h: Health | null, error: string | null): { text: string; tone: string } {
  if (!h) return error ? { text: 'unreachable', tone: 'bad' } : { text: 'checking…', tone: 'muted' };
  if (h.status !== 'healthy' && h.status !== 'degraded') return { text: h.status, tone: 'bad' };
  if (Object.values(h.checks).some((c) => c.enabled && c.degraded)) return { text: 'degraded', tone: 'warn' };
  return { text: 'healthy', tone: 'good' };
}

export function HealthIndicator() {
  const { data, error } = usePoll<Health>('/health', 15_000, false);
  const { text, tone } = healthTone(data, error);
  return (
    <details class="health" data-testid="health" data-status={text}>
      <summary class={`pill tone-${tone}`} title="Proxy health (/health)">
        <i class="dot" />
        {text}
      </summary>
      <div class="popover">
        {data ? (
          <>
            <div class="popover-head">headroom-ts {data.version} · up {fmtSpan(data.uptime_seconds)}</div>
            <ul>
              {Object.entries(data.checks).map(([name, c]) => (
                <li class={c.enabled ? '' : 'muted'}>
                  <i class={`dot bg-${!c.enabled ? 'gray' : !c.ready ? 'red' : c.degraded ? 'amber' : 'green'}`} />
                  <span>{name.replace(/_/g, ' ')}</span>
                  <span class="muted">{c.enabled ? (c.degraded ? 'degraded' : c.status ?? (c.ready ? 'ready' : 'not ready')) : 'disabled'}</span>
                  {c.error && <div class="tone-bad small">{c.error}</div>}
                </li>
              ))}
            </ul>
          </>
        ) : (
          <div class="tone-bad">{error ?? 'Checking…'}</div>
        )}
      </div>
    </details>
  );
}
