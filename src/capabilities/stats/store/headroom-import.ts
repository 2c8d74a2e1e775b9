/**
 * Reads a Headroom `proxy_savings.json` (schema 1, 2 or 3) with Headroom's own load
 * tolerance: numbers coerced to >= 0, history entries without a parseable timestamp dropped,
 * the rest sorted, lifetime raised to the last history point, an invalid display session
 * reset, project names sanitised and capped.
 */
import { sanitiseProject } from '../../../core/identity.js';
import { emptySession, type HistoryPoint, type ProjectTotals, type SessionTotals, type Totals, zeroTotals } from './types.js';

export interface HeadroomSavings {
  schemaVersion: number | null;
  lifetime: Totals;
  session: SessionTotals;
  history: HistoryPoint[];
  projects: Record<string, ProjectTotals>;
}

type Json = Record<string, unknown>;

const asObj = (v: unknown): Json | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null);

/** Non-negative float; anything non-numeric is 0. */
function float(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : typeof v === 'boolean' ? Number(v) : NaN;
  return Number.isFinite(n) ? Math.max(n, 0) : 0;
}

/** Non-negative integer; floats truncate. */
const int = (v: unknown): number => Math.trunc(float(v));

/** ISO timestamp -> epoch ms; `Z` accepted, naive times are UTC. */
export function parseIsoUtc(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const s = v.trim();
  if (!/^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$/i.test(s)) return null;
  let iso = s.replace(' ', 'T');
  // JS keeps at most millisecond precision; Python writes microseconds.
  iso = iso.replace(/(\.\d{3})\d+/, '$1');
  if (!/(?:Z|[+-]\d{2}:?\d{2})$/i.test(iso)) iso += iso.includes('T') ? 'Z' : 'T00:00:00Z';
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
}

function historyPoint(raw: unknown): HistoryPoint | null {
  if (Array.isArray(raw)) {
    const ts = parseIsoUtc(raw[0]);
    if (ts === null) return null;
    return {
      ts: Math.floor(ts / 1000) * 1000,
      provider: 'unknown',
      model: 'unknown',
      cumTokensSaved: int(raw[1]),
      cumSavingsUsd: float(raw[2]),
      cumInputTokens: int(raw[3]),
      cumInputCostUsd: float(raw[4]),
    };
  }
  const o = asObj(raw);
  if (!o) return null;
  const ts = parseIsoUtc(o.timestamp);
  if (ts === null) return null;
  const name = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim().slice(0, 200) : 'unknown');
  return {
    ts: Math.floor(ts / 1000) * 1000,
    provider: name(o.provider),
    model: name(o.model),
    cumTokensSaved: int(o.total_tokens_saved),
    cumSavingsUsd: float(o.compression_savings_usd),
    cumInputTokens: int(o.total_input_tokens),
    cumInputCostUsd: float(o.total_input_cost_usd),
  };
}

function totalsFrom(o: Json | null): Totals {
  const t = zeroTotals();
  if (!o) return t;
  t.requests = int(o.requests);
  t.tokensSaved = int(o.tokens_saved);
  t.savingsUsd = float(o.compression_savings_usd);
  t.inputTokens = int(o.total_input_tokens);
  t.inputCostUsd = float(o.total_input_cost_usd);
  return t;
}

function sessionFrom(o: Json | null): SessionTotals {
  if (!o) return emptySession();
  const started = parseIsoUtc(o.started_at);
  const last = parseIsoUtc(o.last_activity_at);
  if (started === null || last === null || last < started) return emptySession();
  return { ...totalsFrom(o), startedAt: started, lastActivityAt: last };
}

/** Parses the file text. Throws on invalid JSON or a non-object root. */
export function parseHeadroomSavings(text: string, maxProjects = 50): HeadroomSavings {
  const root = asObj(JSON.parse(text));
  if (!root) throw new Error('proxy_savings.json root is not an object');
  const history = (Array.isArray(root.history) ? root.history : [])
    .map(historyPoint)
    .filter((p): p is HistoryPoint => p !== null)
    .sort((a, b) => a.ts - b.ts);
  const lifetime = totalsFrom(asObj(root.lifetime));
  const last = history[history.length - 1];
  if (last) {
    lifetime.tokensSaved = Math.max(lifetime.tokensSaved, last.cumTokensSaved);
    lifetime.savingsUsd = Math.max(lifetime.savingsUsd, last.cumSavingsUsd);
    lifetime.inputTokens = Math.max(lifetime.inputTokens, last.cumInputTokens);
    lifetime.inputCostUsd = Math.max(lifetime.inputCostUsd, last.cumInputCostUsd);
  }
  const projects: [string, ProjectTotals][] = [];
  for (const [rawName, value] of Object.entries(asObj(root.projects) ?? {})) {
    const o = asObj(value);
    const name = sanitiseProject(rawName);
    if (!o || !name) continue;
    projects.push([name, { ...totalsFrom(o), lastActivityAt: parseIsoUtc(o.last_activity_at) }]);
  }
  projects.sort((a, b) => b[1].tokensSaved - a[1].tokensSaved || (b[1].lastActivityAt ?? 0) - (a[1].lastActivityAt ?? 0));
  return {
    schemaVersion: typeof root.schema_version === 'number' ? root.schema_version : null,
    lifetime,
    session: sessionFrom(asObj(root.display_session)),
    history,
    projects: Object.fromEntries(projects.slice(0, maxProjects)),
  };
}
