import { describe, expect, it } from 'vitest';
import { accountingOf } from '../src/capabilities/stats/accounting.js';
import { CacheContinuityTracker } from '../src/capabilities/stats/cache-continuity.js';
import { ProcessStats } from '../src/capabilities/stats/process/process-stats.js';
import { compressed, outcome, usage } from './helpers/outcomes.js';

type Json = Record<string, any>;

describe('process stats from outcomes', () => {
  it('observed TTL buckets and mix exactly as in the spec example (8 x 5m = 20000, 12 x 1h = 50000)', () => {
    const s = new ProcessStats();
    for (let i = 0; i < 8; i++) s.record(outcome({ usage: usage({ cacheWrite5m: 2500 }) }));
    for (let i = 0; i < 12; i++) s.record(outcome({ usage: usage({ cacheWrite1h: i < 2 ? 5000 : 4000 }) }));
    const pc = s.prefixCache.payload(null) as Json;
    const expected = { '5m': { tokens: 20000, requests: 8 }, '1h': { tokens: 50000, requests: 12 } };
    expect(pc.by_provider.anthropic.observed_ttl_buckets).toEqual(expected);
    expect(pc.by_provider.anthropic.observed_ttl_mix).toEqual({ '5m_pct': 28.6, '1h_pct': 71.4, active_buckets: ['5m', '1h'] });
    expect(pc.totals.observed_ttl_buckets).toEqual(expected);
    expect(pc.totals.observed_ttl_mix).toEqual({ '5m_pct': 28.6, '1h_pct': 71.4, active_buckets: ['5m', '1h'] });
  });

  it('totals always carry a TTL mix; providers without TTL writes do not', () => {
    const s = new ProcessStats();
    s.record(outcome({ provider: 'openai', api: 'chat', model: 'gpt-4o', usage: usage({ uncached: 800, cacheRead: 1280 }) }));
    const pc = s.prefixCache.payload(null) as Json;
    expect(pc.by_provider.openai.observed_ttl_mix).toBeUndefined();
    expect(pc.totals.observed_ttl_mix).toEqual({ '5m_pct': 0, '1h_pct': 0, active_buckets: [] });
    expect(pc.by_provider.openai.hit_requests).toBe(1);
    expect(pc.by_provider.openai.savings_usd).toBeGreaterThan(0);
  });

  it('publishes whole-wire and new-input savings percentages with their bases', () => {
    const s = new ProcessStats();
    s.record(compressed(3000, { usage: usage({ uncached: 7000 }), compression: { newInputTokens: 4000 } }));
    s.record(compressed(0, { usage: usage({ uncached: 10_000 }), compression: { tokensSaved: 0, newInputTokens: 1000 } }));
    expect(s.tokensSaved).toBe(3000);
    expect(s.inputTokens).toBe(17_000);
    // whole wire: 3000 / (17000 + 3000) = 15 %; new input: 3000 / 5000 = 60 %
    expect(s.savedWithNewInput / s.newInputTokens).toBeCloseTo(0.6);
    expect(s.tokensSaved / (s.inputTokens + s.tokensSaved)).toBeCloseTo(0.15);
  });

  it('counts /v1/compress and hook outcomes: savings and dollars at the model price, no provider spend', () => {
    const s = new ProcessStats();
    const c = outcome({
      kind: 'compress', api: 'compress', path: '/v1/compress', provider: 'openai', model: 'gpt-4o', requestedModel: 'gpt-4o',
      usage: null, compression: { tokensBefore: 10_000, tokensAfter: 4_000, tokensSaved: 6_000, transforms: ['smart_crusher'] },
    });
    const h = outcome({ kind: 'hook', api: 'hook', path: '/', usage: null, compression: { tokensBefore: 5000, tokensAfter: 4000, tokensSaved: 1000 } });
    s.record(c);
    s.record(h);
    expect(s.total).toBe(2);
    expect(Object.fromEntries(s.byKind)).toEqual({ compress: 1, hook: 1 });
    expect(s.tokensSaved).toBe(7000);
    expect(s.inputTokens).toBe(8000);
    expect(accountingOf(c).compressionSavingsUsd).toBeCloseTo((6000 * 2.5) / 1e6, 12);
    expect(accountingOf(c).inputCostUsd).toBe(0);
    const cost = s.cost.payload(0, { limit: null, period: null }) as Json;
    expect(cost.compression_savings_usd).toBeGreaterThan(0);
    expect(cost.total_input_cost_usd).toBe(0);
    // latency describes proxied requests only
    expect(s.latency.count).toBe(0);
  });

  it('classifies failures, rate limits and aborts; unauthenticated rejections are not counted', () => {
    const s = new ProcessStats();
    s.record(outcome({ ok: false, status: 429, errorType: 'rate_limited', usage: null }));
    s.record(outcome({ ok: false, status: 502, errorType: 'upstream_connect', usage: null }));
    s.record(outcome({ ok: false, status: 499, errorType: 'client_abort', usage: null }));
    s.record(outcome({ ok: false, status: 401, errorType: 'unauthorized', usage: null }));
    s.record(outcome({ cached: true, usage: null }));
    expect([s.total, s.rateLimited, s.failed, s.aborted, s.cached]).toEqual([4, 1, 1, 1, 1]);
  });

  it('flags fallback-priced models and still prices them', () => {
    const s = new ProcessStats();
    s.record(outcome({ model: 'mystery-model-9', requestedModel: 'mystery-model-9' }));
    expect(s.cost.fallbackModels()).toEqual(['mystery-model-9']);
    const cost = s.cost.payload(0, { limit: null, period: null }) as Json;
    expect(cost.per_model['mystery-model-9'].price_fallback).toBe(true);
    expect(cost.per_model['mystery-model-9'].input_cost_usd).toBeGreaterThan(0);
  });

  it('detects provider cache busts after the cold start of a model', () => {
    const s = new ProcessStats();
    s.record(outcome({ usage: usage({ cacheWrite5m: 5000 }) })); // cold start: not a bust
    s.record(outcome({ usage: usage({ cacheRead: 5000, cacheWrite5m: 100 }) }));
    s.record(outcome({ usage: usage({ cacheRead: 1000, cacheWrite5m: 6000 }) })); // write > 50 %: bust
    const c = s.prefixCache.byProvider.get('anthropic')!;
    expect(c.bustCount).toBe(1);
    expect(c.bustWriteTokens).toBe(6000);
  });

  it('attributes misses on an expected-cached prefix: ttl_expiry, prefix_change (compression bust), unknown', () => {
    const s = new ProcessStats();
    // the stats plugin runs the tracker as a funnel annotator, before the sinks
    const tracker = new CacheContinuityTracker();
    const t0 = Date.parse('2026-03-27T09:00:00Z');
    const turn = (at: number, u: ReturnType<typeof usage>, extra: Parameters<typeof outcome>[0] = {}) => {
      const o = outcome({ startedAt: at, endedAt: at + 100, usage: u, ...extra });
      o.ext.cacheContinuity = tracker.observe(o);
      s.record(o);
    };
    turn(t0, usage({ uncached: 100, cacheWrite5m: 10_000 }));
    // 10 minutes later: the 5-minute cache expired
    turn(t0 + 10 * 60_000, usage({ uncached: 200, cacheWrite5m: 10_100 }));
    // 1 minute later, headroom-ts rewrote the prefix: partial read, 4100 tokens lost
    turn(t0 + 11 * 60_000, usage({ uncached: 300, cacheRead: 6000, cacheWrite5m: 4500 }), {
      modified: true, compression: { tokensBefore: 13_000, tokensAfter: 10_800, tokensSaved: 2200 },
    });
    // 1 minute later, nothing read although within TTL and not rewritten
    turn(t0 + 12 * 60_000, usage({ uncached: 11_000 }));
    const pc = s.prefixCache.payload(null) as Json;
    expect(pc.miss_attribution.by_provider.anthropic).toEqual({ ttl_expiry: 1, prefix_change: 1, unknown: 1, total: 3 });
    expect(pc.miss_attribution.totals).toMatchObject({ total: 3, ttl_expiry_pct: 50, prefix_change_pct: 50 });
    expect(pc.compression_vs_cache).toEqual({ tokens_saved_by_compression: 2200, tokens_lost_to_cache_bust: 4100, cache_bust_count: 1, net_tokens: -1900 });
  });

  it('a shorter, unrelated prompt is not treated as a continuation', () => {
    const s = new ProcessStats();
    const tracker = new CacheContinuityTracker();
    for (const o of [outcome({ usage: usage({ uncached: 100, cacheWrite5m: 10_000 }) }), outcome({ usage: usage({ uncached: 500 }) })]) {
      o.ext.cacheContinuity = tracker.observe(o);
      s.record(o);
    }
    expect(s.prefixCache.misses.size).toBe(0);
  });

  it('splits tokens saved across strategies unless the compressor attributed them', () => {
    const s = new ProcessStats();
    s.record(compressed(1001, { compression: { transforms: ['a', 'b'] } }));
    s.record(compressed(900, { compression: { transforms: ['a', 'c'], savedByTransform: { a: 100, c: 800 } } }));
    expect(Object.fromEntries(s.tokensSavedByStrategy)).toEqual({ a: 601, b: 500, c: 800 });
    expect(Object.fromEntries(s.compressionsByStrategy)).toEqual({ a: 2, b: 1, c: 1 });
  });

  it('reset zeroes every counter', () => {
    const s = new ProcessStats();
    s.record(compressed(500, { usage: usage({ cacheWrite5m: 1000 }), stack: 'wrap_claude' }));
    s.reset();
    expect([s.total, s.tokensSaved, s.inputTokens, s.latency.count, s.byStack.size, s.prefixCache.byProvider.size]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(s.cost.byModel.size).toBe(0);
  });

  it('caps integration stacks at 32 distinct slugs (new ones dropped)', () => {
    const s = new ProcessStats();
    for (let i = 0; i < 40; i++) s.record(outcome({ stack: `stack_${i}` }));
    expect(s.byStack.size).toBe(32);
  });
});
