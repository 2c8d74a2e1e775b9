/**
 * Hierarchical running totals (provider -> model), optionally filtered by wildcard and
 * optionally including the requests in flight. Every figure has exactly one path into the
 * result: each model section (completed copy + its active requests) is summed into its
 * provider rollup, and the rollups into the summary, so nothing is counted twice.
 */
import type { NameMatcher } from './glob.js';
import { type Section, Split } from './section.js';
import { type LiveTracker, NO_MODEL } from './tracker.js';
import type { ModelTotals, ProviderTotals, RunningTotals, SplitTotals, TotalsSection } from './schema.js';
import { round2, round4 } from '../../util/round.js';

export type { RunningTotals } from './schema.js';

export interface TotalsQuery {
  provider: NameMatcher | null;
  model: NameMatcher | null;
  providerPattern: string | null;
  modelPattern: string | null;
  includeActive: boolean;
}

type SectionOut = TotalsSection;
type SplitOut = SplitTotals;

const iso = (ms: number) => (ms > 0 ? new Date(ms).toISOString() : null);

function sectionOut(s: Section): SectionOut {
  return {
    requests: s.requests,
    errors: s.errors,
    input_tokens: s.inputTokens,
    output_tokens: s.outputTokens,
    cache_read_tokens: s.cacheReadTokens,
    cache_creation_tokens: s.cacheWriteTokens,
    tool_uses: s.toolCalls,
    tool_definitions: s.toolDefinitions,
    tool_results: s.toolResults,
    tool_calls: s.toolCalls,
    tokens_saved: s.tokensSaved,
    active_requests: s.active,
    total_duration_ms: round2(s.durationMs),
    average_duration_ms: s.completed > 0 ? Math.round(s.durationMs / s.completed) : 0,
  };
}

function sortedRecord(m: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of [...m.keys()].sort()) out[k] = m.get(k) as number;
  return out;
}

function splitOut(s: Split): SplitOut {
  const total = sectionOut(s.total);
  if (s.errorTypes.size > 0) total.error_types = sortedRecord(s.errorTypes);
  const out: SplitOut = { total };
  if (s.streaming.requests > 0) out.streaming = sectionOut(s.streaming);
  if (s.nonStreaming.requests > 0) out.non_streaming = sectionOut(s.nonStreaming);
  return out;
}

export function runningTotals(t: LiveTracker, q: TotalsQuery, now: number = Date.now()): RunningTotals {
  const view = new Map<string, Map<string, Split>>();
  const modelView = (provider: string, model: string): Split | null => {
    if (q.provider && !q.provider(provider)) return null;
    if (q.model && !q.model(model)) return null;
    let models = view.get(provider);
    if (!models) {
      models = new Map();
      view.set(provider, models);
    }
    let s = models.get(model);
    if (!s) {
      s = new Split();
      models.set(model, s);
    }
    return s;
  };

  for (const [provider, bucket] of t.providers) {
    for (const [model, split] of bucket.models) modelView(provider, model)?.addSplit(split);
  }
  if (q.includeActive) {
    for (const a of t.active.values()) {
      const model = t.bucketName(a.provider, a.resolvedModel ?? a.requestedModel ?? NO_MODEL);
      modelView(a.provider, model)?.addActive(a, a.stream, a.startedAt);
    }
  }

  const all = new Split();
  const providers: Record<string, ProviderTotals> = {};
  for (const provider of [...view.keys()].sort()) {
    const models = view.get(provider) as Map<string, Split>;
    const rollup = new Split();
    const modelsOut: Record<string, ModelTotals> = {};
    for (const model of [...models.keys()].sort()) {
      const s = models.get(model) as Split;
      rollup.addSplit(s);
      modelsOut[model] = { last_accessed: iso(s.lastAccessed), ...splitOut(s) };
    }
    all.addSplit(rollup);
    providers[provider] = { last_accessed: iso(rollup.lastAccessed), rollup: splitOut(rollup), models: modelsOut };
  }

  const s = all.total;
  return {
    summary: {
      since: new Date(t.since).toISOString(),
      generated_at: new Date(now).toISOString(),
      last_accessed: all.lastAccessed > 0 ? { top: new Date(all.lastAccessed).toISOString() } : null,
      total_requests: s.requests,
      completed_requests: s.completed,
      active_requests: s.active,
      total_errors: s.errors,
      error_rate: s.completed > 0 ? round4((s.errors / s.completed)) : 0,
      total_input_tokens: s.inputTokens,
      total_output_tokens: s.outputTokens,
      total_cache_read_tokens: s.cacheReadTokens,
      total_cache_creation_tokens: s.cacheWriteTokens,
      total_tool_uses: s.toolCalls,
      total_tool_definitions: s.toolDefinitions,
      total_tool_results: s.toolResults,
      total_tool_calls: s.toolCalls,
      total_tokens_saved: s.tokensSaved,
      average_duration_ms: s.completed > 0 ? Math.round(s.durationMs / s.completed) : 0,
      total_duration_ms: round2(s.durationMs),
      error_types: sortedRecord(all.errorTypes),
    },
    filters: { provider: q.providerPattern, model: q.modelPattern, include_active: q.includeActive },
    providers,
  };
}
