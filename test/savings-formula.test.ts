/**
 * The savings formula (savings/savings.ts) on hand-computed cases at Claude Sonnet 4.5 list
 * prices (USD per million tokens: input 3, cache read 0.30, 5-minute write 3.75, 1-hour write
 * 6, output 15) and GPT-4.1's (input 2, cached 0.50), and where the compression stage says the
 * saved tokens sit, through the proxy.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateOutput } from '../src/mock/agent-outputs.js';
import { priceFor } from '../src/providers/pricing.js';
import { savingsInputOf } from '../src/capabilities/stats/accounting.js';
import { type CacheContinuity, NO_CONTINUITY } from '../src/savings/continuity.js';
import type { SavedByCache, SavedPlacement } from '../src/savings/placement.js';
import { newInputPercent, savingsOf as savingsOfInput, spendSavedPercent, wholeWirePercent } from '../src/savings/savings.js';
import { FAKE_ANTHROPIC_KEY, type Harness, startHarness } from './helpers/harness.js';
import { type OutcomeOverrides, outcome, usage } from './helpers/outcomes.js';

const savingsOf = (o: Parameters<typeof savingsInputOf>[0], ...rest: [number, Parameters<typeof savingsOfInput>[2], Parameters<typeof savingsOfInput>[3]]) => savingsOfInput(savingsInputOf(o), ...rest);
const SONNET = priceFor('anthropic', 'claude-sonnet-4-5');
const GPT = priceFor('openai', 'gpt-4.1');
const M = 1e-6;

const by = (b: Partial<SavedByCache>): SavedByCache => ({ write1h: 0, write5m: 0, auto: 0, none: 0, ...b });
const placement = (fresh: Partial<SavedByCache>, replayed: Partial<SavedByCache> = {}, extra: Partial<SavedPlacement> = {}): SavedPlacement => ({
  fresh: by(fresh), replayed: by(replayed), freshBefore: 0, retrieveTurn: false, conversation: null, ...extra,
});
const total = (p: SavedPlacement) => Object.values(p.fresh).reduce((a, b) => a + b, 0) + Object.values(p.replayed).reduce((a, b) => a + b, 0);

function saved(p: SavedPlacement, o: OutcomeOverrides, continuity: CacheContinuity = NO_CONTINUITY, price = SONNET) {
  const out = outcome({ modified: true, ...o, ext: { placement: p, ...o.ext }, compression: { tokensAfter: o.usage?.input ?? 1000, tokensSaved: total(p), ...o.compression } });
  return savingsOf(out, total(p), price, continuity);
}

describe('savings formula', () => {
  it('worked example: replayed history at the cache-read price, new content at the write price, minus the retrieval round', () => {
    // round 0 billed: 40,000 read, 6,000 written (5 m), 200 uncached, 60 output (the headroom_retrieve call)
    const u0 = usage({ cacheRead: 40_000, cacheWrite5m: 6_000, uncached: 200, output: 60 });
    // the follow-up round: the prefix read again, the retrieved original uncached, the answer
    const u1 = usage({ cacheRead: 46_000, uncached: 5_000, output: 400 });
    const sum = usage({ cacheRead: 86_000, cacheWrite5m: 6_000, uncached: 5_200, output: 460 });
    const ccr = { toolInjected: 'offered' as const, clientTool: false, markers: 1, retrievals: 1, hits: 1, misses: 0, rounds: 1, tokensRetrieved: 5_000, dropped: 0, hashes: [], roundUsage: [u0, u1] };
    const s = saved(placement({ write5m: 20_000 }, { write5m: 60_000 }), { usage: sum, ext: { ccr } });
    // 60,000 x 0.30 + 20,000 x 3.75 = $0.0930 (the old formula: 80,000 x 3 = $0.24)
    expect(s.compressionUsd).toBeCloseTo(60_000 * 0.3 * M + 20_000 * 3.75 * M, 9);
    // 46,000 x 0.30 + 5,000 x 3 (the follow-up's input) + 60 x 15 (the output that only asked for it) = $0.0297
    expect(s.retrievalUsd).toBeCloseTo(46_000 * 0.3 * M + 5_000 * 3 * M + 60 * 15 * M, 9);
    expect(s.netUsd).toBeCloseTo(0.093 - 0.0297, 9);
    expect(s.replayedReadShare).toBe(1);
    expect(s.counterfactualUsd! - s.actualUsd!).toBeCloseTo(s.netUsd, 12);
  });

  it('new content under a 1-hour breakpoint is a 1-hour write; after the last breakpoint it is uncached input', () => {
    const u = usage({ cacheRead: 10_000, cacheWrite1h: 2_000, uncached: 100 });
    expect(saved(placement({ write1h: 10_000 }), { usage: u }).compressionUsd).toBeCloseTo(10_000 * 6 * M, 9);
    expect(saved(placement({ none: 10_000 }), { usage: u }).compressionUsd).toBeCloseTo(10_000 * 3 * M, 9);
  });

  it('a cold cache (nothing read, no bust): replayed history would have been written, not read', () => {
    const s = saved(placement({}, { write5m: 50_000 }), { usage: usage({ cacheWrite5m: 30_000, uncached: 100 }) });
    expect(s.replayedReadShare).toBe(0);
    expect(s.compressionUsd).toBeCloseTo(50_000 * 3.75 * M, 9);
  });

  it('a partial read the client caused: replayed savings read in proportion to the prefix that was read back', () => {
    const continuity: CacheContinuity = { expected: 80_000, miss: 'prefix_change', compressionBust: false, tokensLost: 0 };
    const s = saved(placement({}, { write5m: 10_000 }), { usage: usage({ cacheRead: 40_000, cacheWrite5m: 41_000, uncached: 100 }) }, continuity);
    expect(s.replayedReadShare).toBeCloseTo(0.5, 12);
    expect(s.compressionUsd).toBeCloseTo(5_000 * 0.3 * M + 5_000 * 3.75 * M, 9);
    expect(s.cacheBustUsd).toBe(0);
  });

  it('a compression-caused bust: the lost prefix is priced at write minus read and taken off', () => {
    // the previous request cached 70,000; this one read 40,000 and wrote 36,000 (30,000 of them lost)
    const continuity: CacheContinuity = { expected: 70_000, miss: 'prefix_change', compressionBust: true, tokensLost: 30_000 };
    const s = saved(placement({ write5m: 4_000 }, { write5m: 20_000 }), { usage: usage({ cacheRead: 40_000, cacheWrite5m: 36_000, uncached: 100 }) }, continuity);
    expect(s.replayedReadShare).toBe(1);
    expect(s.compressionUsd).toBeCloseTo(20_000 * 0.3 * M + 4_000 * 3.75 * M, 9);
    expect(s.cacheBustUsd).toBeCloseTo(30_000 * (3.75 - 0.3) * M, 9);
    expect(s.netUsd).toBeCloseTo(s.compressionUsd - s.cacheBustUsd, 12);
    expect(s.netUsd).toBeLessThan(0);
  });

  it('a request that only answers the client\'s own headroom_retrieve calls costs its whole input', () => {
    const u = usage({ cacheRead: 50_000, uncached: 8_000, output: 500 });
    const s = saved(placement({}, { write5m: 30_000 }, { retrieveTurn: true }), { usage: u });
    expect(s.compressionUsd).toBe(0);
    expect(s.retrievalUsd).toBeCloseTo(50_000 * 0.3 * M + 8_000 * 3 * M, 9);
    expect(s.netUsd).toBeCloseTo(-s.retrievalUsd, 12);
  });

  it('OpenAI: replayed history at the cached-input price when the provider read the prefix, new content at the input price', () => {
    const o = { provider: 'openai' as const, api: 'chat' as const, model: 'gpt-4.1', requestedModel: 'gpt-4.1', usage: usage({ cacheRead: 20_480, uncached: 3_000 }) };
    const s = saved(placement({ auto: 8_000 }, { auto: 30_000 }), o, NO_CONTINUITY, GPT);
    expect(s.compressionUsd).toBeCloseTo(30_000 * 0.5 * M + 8_000 * 2 * M, 9);
  });

  it('no provider usage: a failed request saved nothing; /v1/compress is priced at the input price', () => {
    const failed = outcome({ ok: false, status: 502, errorType: 'upstream_server_error', usage: null, ext: { placement: placement({ write5m: 5000 }) }, compression: { tokensAfter: 1000, tokensSaved: 5000 } });
    expect(savingsOf(failed, 5000, SONNET, NO_CONTINUITY).netUsd).toBe(0);
    const c = outcome({ kind: 'compress', api: 'compress', usage: null, compression: { tokensBefore: 6000, tokensAfter: 1000, tokensSaved: 5000 } });
    expect(savingsOf(c, 5000, SONNET, NO_CONTINUITY).netUsd).toBeCloseTo(5000 * 3 * M, 12);
  });

  it('percentages are within 0-100 by their definitions', () => {
    expect(wholeWirePercent(3000, 17_000)).toBe(15);
    expect(wholeWirePercent(0, 0)).toBe(0);
    expect(newInputPercent(3000, 5000)).toBe(60);
    expect(newInputPercent(10, 0)).toBeNull();
    expect(spendSavedPercent(0.5, 1.5)).toBe(25);
    expect(spendSavedPercent(-0.1, 1)).toBe(0);
  });
});

describe('where the compression stage says saved tokens sit (through the proxy)', () => {
  let h: Harness;
  let client: Anthropic;
  beforeAll(async () => {
    h = await startHarness();
    client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
  });
  afterAll(() => h.close());

  const logs = (seed: number) => generateOutput('logs_json', 30_000, seed).text;
  type Block = Anthropic.ContentBlockParam;
  const convo = (outputs: string[], ttl: '5m' | '1h' | null): Anthropic.MessageParam[] => {
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Why does the checkout fail?' }];
    outputs.forEach((text, i) => {
      messages.push({ role: 'assistant', content: [{ type: 'tool_use', id: `toolu_p${i}`, name: 'fetch_logs', input: { q: 'checkout' } }] });
      const block: Block = { type: 'tool_result', tool_use_id: `toolu_p${i}`, content: text };
      if (ttl) (block as Block & { cache_control: unknown }).cache_control = ttl === '1h' ? { type: 'ephemeral', ttl: '1h' } : { type: 'ephemeral' };
      messages.push({ role: 'user', content: [block] });
    });
    return messages;
  };
  const send = async (messages: Anthropic.MessageParam[]) => {
    const n = h.outcomes.length;
    await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages, tools: [{ name: 'fetch_logs', input_schema: { type: 'object' } }] }, { headers: { 'x-mock-tools': 'off' } });
    const [o] = (await h.waitForOutcomes(n + 1)).slice(n);
    return o!;
  };

  it('turn 1: the new tool output is fresh and under its breakpoint; turn 2: it is replayed, the new one fresh', async () => {
    const a = logs(1);
    const b = logs(2);
    const first = await send(convo([a], '1h'));
    const p1 = first.ext.placement!;
    expect(first.compression.tokensSaved).toBeGreaterThan(0);
    expect(p1.fresh.write1h).toBe(first.compression.tokensSaved);
    expect(p1.replayed).toEqual({ write1h: 0, write5m: 0, auto: 0, none: 0 });
    expect(first.compression.newInputTokens).toBeGreaterThanOrEqual(p1.freshBefore);

    // the breakpoint moved to the newest message (5 m): the first output is now history under it
    const messages = convo([a, b], null);
    const last = messages[messages.length - 1]!.content as Block[];
    (last[0] as Block & { cache_control: unknown }).cache_control = { type: 'ephemeral' };
    const second = await send(messages);
    const p2 = second.ext.placement!;
    expect(p2.replayed.write5m).toBe(p1.fresh.write1h);
    expect(p2.fresh.write5m).toBeGreaterThan(0);
    expect(p2.fresh.write5m + p2.replayed.write5m).toBe(second.compression.tokensSaved);
    expect(p2.conversation).toBe(p1.conversation);
  });

  it('without a breakpoint the saved tokens would never have been cached', async () => {
    const o = await send(convo([logs(3)], null));
    expect(o.ext.placement!.fresh.none).toBe(o.compression.tokensSaved);
    expect(o.compression.tokensSaved).toBeGreaterThan(0);
  });
});
