/**
 * The hook's Prometheus families. `tsheadroom_*` (pool, affinity, outcomes, cold starts,
 * tokens after) go on any registry; the `headroom_*` subset tsheadroom emits goes on the
 * standalone hook server's own registry (the proxy's registry already has those names, fed by
 * the same outcomes). Every count comes from outcomes (the funnel), except live state read at
 * scrape time (pool slots, in-flight requests).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { RequestOutcome } from '../../core/outcome.js';
import type { HookOutcomeName } from './facts.js';
import type { InboundCounter } from './handler.js';
import type { WorkerPool } from './pool.js';
import { round2 } from '../../util/round.js';

export const HOOK_OUTCOMES: readonly HookOutcomeName[] = ['modify', 'noop', 'error', 'passthrough', 'read_error', 'decode_error', 'reject_encoding'];

export type RecordOutcome = (o: RequestOutcome) => void;

/** `tsheadroom_*` families; returns the outcome recorder. */
export function registerHookFamilies(registry: Registry, pool: WorkerPool): RecordOutcome {
  const r = [registry];
  const tokensAfter = new Counter({ name: 'tsheadroom_tokens_after_total', help: 'Tokens of the messages after compression (tokens_after)', registers: r });
  const cold = new Counter({ name: 'tsheadroom_cold_starts_total', help: 'Hook calls served by a worker on its first job (cold caches)', registers: r });
  const byOutcome = new Counter({ name: 'tsheadroom_requests_by_outcome', help: 'Requests by outcome', labelNames: ['outcome'], registers: r });
  for (const o of HOOK_OUTCOMES) byOutcome.inc({ outcome: o }, 0);
  new Gauge({ name: 'tsheadroom_pool_slots_total', help: 'Worker slots in the pool', registers: r, collect() { this.set(pool.size); } });
  new Gauge({ name: 'tsheadroom_pool_slots_busy', help: 'Worker slots inside a compression call', registers: r, collect() { this.set(pool.busy); } });
  const hits = new Counter({ name: 'tsheadroom_affinity_hits_total', help: 'Calls queued on their session\'s worker', registers: r });
  const spills = new Counter({ name: 'tsheadroom_affinity_spills_total', help: 'Session calls served by another worker because theirs was taken', registers: r });
  return (o) => {
    const h = o.ext.hook;
    if (o.kind !== 'hook' || !h) return;
    byOutcome.inc({ outcome: h.outcome });
    if (h.outcome === 'modify' || h.outcome === 'noop') tokensAfter.inc(h.tokensAfter);
    if (h.cold) cold.inc();
    if (h.dispatch === 'hit') hits.inc();
    else if (h.dispatch === 'spill') spills.inc();
  };
}

/** The `headroom_*` subset tsheadroom populates (repoint-compatible dashboards). */
export function registerHeadroomSubset(registry: Registry, inbound: InboundCounter): RecordOutcome {
  const r = [registry];
  const requests = new Counter({ name: 'headroom_requests_total', help: 'Total hook requests handled', registers: r });
  const failed = new Counter({ name: 'headroom_requests_failed_total', help: 'Hook requests whose compression failed (answered allow)', registers: r });
  const input = new Counter({ name: 'headroom_tokens_input_total', help: 'Tokens of the messages before compression (tokens_before)', registers: r });
  const saved = new Counter({ name: 'headroom_tokens_saved_total', help: 'Tokens saved by compression (tokens_saved)', registers: r });
  let total = 0;
  new Counter({
    name: 'headroom_overhead_ms_sum', help: 'Sum of hook handling time in ms (read + process + write)', registers: r,
    collect() { this.reset(); this.inc(round2(total)); },
  });
  const count = new Counter({ name: 'headroom_overhead_ms_count', help: 'Number of hook handling time samples', registers: r });
  let min = 0;
  let max = 0;
  let n = 0;
  new Gauge({ name: 'headroom_overhead_ms_min', help: 'Minimum hook handling time in ms', registers: r, collect() { this.set(min); } });
  new Gauge({ name: 'headroom_overhead_ms_max', help: 'Maximum hook handling time in ms', registers: r, collect() { this.set(max); } });
  new Counter({ name: 'headroom_inbound_requests_total', help: 'Requests reaching the hook handler (any method)', registers: r, collect() { this.reset(); this.inc(inbound.total); } });
  new Counter({ name: 'headroom_inbound_requests_completed_total', help: 'Requests the hook handler finished', registers: r, collect() { this.reset(); this.inc(inbound.completed); } });
  new Gauge({ name: 'headroom_inbound_requests_active', help: 'Hook requests in flight', registers: r, collect() { this.set(inbound.active); } });
  const byProvider = new Counter({ name: 'headroom_requests_by_provider', help: 'Hook requests by provider (metadata.provider)', labelNames: ['provider'], registers: r });
  const byModel = new Counter({ name: 'headroom_requests_by_model', help: 'Hook requests by model (metadata.model, else the body model)', labelNames: ['model'], registers: r });
  return (o) => {
    const h = o.ext.hook;
    if (o.kind !== 'hook' || !h) return;
    requests.inc();
    if (h.outcome === 'error') failed.inc();
    if (h.outcome === 'modify' || h.outcome === 'noop') {
      input.inc(o.compression.tokensBefore);
      saved.inc(Math.max(0, o.compression.tokensSaved));
    }
    const ms = o.timing.totalMs;
    total += ms;
    count.inc();
    n++;
    min = n === 1 ? ms : Math.min(min, ms);
    max = Math.max(max, ms);
    byProvider.inc({ provider: h.metadataProvider ?? 'unknown' });
    byModel.inc({ model: o.requestedModel ?? 'unknown' });
  };
}
