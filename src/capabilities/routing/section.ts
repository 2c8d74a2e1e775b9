/**
 * The `routing` section of `/stats`: the registry in use, each provider's circuit breaker and
 * the attempts per provider since start or `/stats/reset` (fed by the routing sink from each
 * outcome's `ext.routing`; provider names capped at 32, the rest under `other`).
 */
import type { RequestOutcome } from '../../core/outcome.js';
import type { RoutingSection } from './api.js';
import type { RoutingState } from './state.js';

const MAX_PROVIDERS = 32;

export class RoutingCounters {
  private readonly attempts = new Map<string, { ok: number; failed: number; skipped: number }>();

  reset(): void {
    this.attempts.clear();
  }

  record(o: RequestOutcome): void {
    const r = o.ext.routing;
    if (!r) return;
    for (const a of r.attempts) {
      let name = a.provider;
      if (!this.attempts.has(name) && this.attempts.size >= MAX_PROVIDERS) name = 'other';
      let c = this.attempts.get(name);
      if (!c) this.attempts.set(name, (c = { ok: 0, failed: 0, skipped: 0 }));
      if (a.error === 'breaker_open') c.skipped++;
      else if (a.status !== null && a.status < 400) c.ok++;
      else if (a.status !== null && a.status !== 429 && a.status < 500) c.ok++;
      else c.failed++;
    }
  }

  section(state: RoutingState): RoutingSection {
    const d = state.describe(true);
    const breakers: RoutingSection['breakers'] = {};
    for (const [name, b] of Object.entries(state.breakers.snapshot()).sort(([x], [y]) => x.localeCompare(y))) {
      breakers[name] = {
        state: b.state,
        consecutive_failures: b.consecutiveFailures,
        retry_at: b.retryAt === null ? null : new Date(b.retryAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        opened: b.opened,
      };
    }
    const attempts: RoutingSection['attempts'] = {};
    for (const [name, c] of [...this.attempts].sort(([x], [y]) => x.localeCompare(y))) attempts[name] = { ...c };
    return { file: d.file, providers: d.providers, aliases: d.aliases, patterns: d.patterns, fallbacks: d.fallbacks, breakers, attempts };
  }
}
