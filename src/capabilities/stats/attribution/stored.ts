/** `/stats-history.attribution`: per session and per user totals over the retained range, from the durable store. */
import type { Attribution } from '../schema.js';
import type { StoredAttribution } from '../store/attribution-table.js';
import { type AttributionRow, attributionJson, type Dimension } from './breakdown.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));

export function storedAttributionJson(rows: readonly StoredAttribution[], retentionDays: number): Attribution {
  const byDim: Record<Dimension, AttributionRow[]> = { session: [], user: [] };
  let from: number | null = null;
  let to: number | null = null;
  for (const { dim, ...r } of rows) {
    byDim[dim].push(r);
    if (r.firstTs !== null) from = from === null ? r.firstTs : Math.min(from, r.firstTs);
    if (r.lastTs !== null) to = to === null ? r.lastTs : Math.max(to, r.lastTs);
  }
  return attributionJson(`range: every request in the durable store (the last ${retentionDays} days), all processes sharing it`, byDim, {
    range: { from: iso(from), to: iso(to) },
  });
}
