/**
 * `/stats.attribution`: per session and per user figures of this process (since start or
 * `/stats/reset`), from the outcomes. At most {@link MAX_TRACKED_IDS} ids are tracked per
 * dimension; later new ids are summed under `(other)`, so memory stays bounded whatever ids
 * clients send.
 */
import type { RequestOutcome } from '../../../core/outcome.js';
import type { Accounting } from '../accounting.js';
import { type AttributionRow, type AttributionTotals, attributionJson, type Dimension, OTHER_ID, zeroAttribution } from './breakdown.js';
import type {} from '../api.js';

export const MAX_TRACKED_IDS = 1000;

/** The additive figures one outcome adds. */
export function attributionOf(o: RequestOutcome, a: Accounting): AttributionTotals {
  return {
    requests: 1,
    inputTokens: a.inputTokens,
    outputTokens: a.outputTokens,
    tokensSaved: a.tokensSaved,
    inputCostUsd: a.inputCostUsd,
    outputCostUsd: a.outputCostUsd,
    savingsUsd: a.compressionSavingsUsd,
    firstTs: o.endedAt,
    lastTs: o.endedAt,
  };
}

class DimensionTotals {
  readonly byId = new Map<string | null, AttributionTotals>();

  add(id: string | null, t: AttributionTotals): void {
    let key = id;
    if (key !== null && !this.byId.has(key) && this.byId.size >= MAX_TRACKED_IDS) key = OTHER_ID;
    let cur = this.byId.get(key);
    if (!cur) {
      cur = zeroAttribution();
      this.byId.set(key, cur);
    }
    cur.requests += t.requests;
    cur.inputTokens += t.inputTokens;
    cur.outputTokens += t.outputTokens;
    cur.tokensSaved += t.tokensSaved;
    cur.inputCostUsd += t.inputCostUsd;
    cur.outputCostUsd += t.outputCostUsd;
    cur.savingsUsd += t.savingsUsd;
    cur.firstTs ??= t.firstTs;
    cur.lastTs = t.lastTs;
  }

  rows(): AttributionRow[] {
    return [...this.byId].map(([id, t]) => ({ id, ...t }));
  }
}

export class AttributionTracker {
  private dims: Record<Dimension, DimensionTotals> = { session: new DimensionTotals(), user: new DimensionTotals() };

  record(o: RequestOutcome, a: Accounting): void {
    if (!a.counted) return;
    const t = attributionOf(o, a);
    const ids = o.ext.attribution;
    this.dims.session.add(ids?.session ?? null, t);
    this.dims.user.add(ids?.user ?? null, t);
  }

  reset(): void {
    this.dims = { session: new DimensionTotals(), user: new DimensionTotals() };
  }

  payload(): Record<string, unknown> {
    return attributionJson('process: since start or the last POST /stats/reset', { session: this.dims.session.rows(), user: this.dims.user.rows() });
  }
}
