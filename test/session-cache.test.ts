/**
 * Acceptance: a 30-turn agent session (a fixed system prompt and tools, realistic tool outputs,
 * some large, user text next to and after tool results; Anthropic breakpoints moved forward
 * every turn) sent through the proxy and, the same session, direct to the mock upstream that
 * models the provider's prompt cache. Through the proxy: no earlier message changes between
 * two consecutive forwarded requests, the tools array never changes, every request reads all
 * the previous one cached, fewer tokens are sent, and the cache hit rate is at least the
 * direct run's. The same for an OpenAI chat session (automatic prefix caching).
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheSummary, prefixReport, runAnthropicSession, runChatSession, type SendFn, type SessionPrefix } from '../src/mock/agent-session.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';

type Json = Record<string, unknown>;

const anthropicSend = (baseURL: string): SendFn => {
  const client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL, maxRetries: 0 });
  return async (body) => (await client.messages.stream(body as unknown as Anthropic.MessageCreateParamsStreaming).finalMessage()) as unknown as Json;
};

const chatSend = (baseURL: string): SendFn => {
  const client = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${baseURL}/v1`, maxRetries: 0 });
  return async (body) => (await client.chat.completions.create(body as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming)) as unknown as Json;
};

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

describe('a 30-turn agent session: direct vs through the proxy', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  /** Runs the session direct to the mock, then through the proxy, each against a cold cache. */
  async function both(api: 'anthropic' | 'chat', prefix: SessionPrefix) {
    const run = api === 'anthropic' ? runAnthropicSession : runChatSession;
    const send = api === 'anthropic' ? anthropicSend : chatSend;
    h.mock.reset();
    const directUsage = await run(send(h.mock.url), { prefix });
    const directBodies = h.mock.requests.map((r) => r.body);
    h.mock.reset();
    const proxyUsage = await run(send(h.url), { prefix });
    const proxyBodies = h.mock.requests.map((r) => r.body);
    const direct = cacheSummary(directUsage, api === 'anthropic');
    const proxy = cacheSummary(proxyUsage, api === 'anthropic');
    for (const [name, s] of [['direct', direct], ['proxy', proxy]] as const) {
      console.log(`${api} (${prefix} prefix) ${name}: sent ${s.tokensSent}, cache read ${s.cacheRead}, cache write ${s.cacheWrite}, hit rate ${pct(s.hitRate)}, prefix reuse ${pct(s.prefixReuse)}`);
    }
    return { direct, proxy, d: prefixReport(directBodies), p: prefixReport(proxyBodies), proxyUsage };
  }

  it('Anthropic: zero history and tools changes, nothing cached is lost, hit rate at least the direct run, fewer tokens sent', async () => {
    const { direct, proxy, d, p, proxyUsage } = await both('anthropic', 'agent');
    expect(d.requests).toBe(30);
    expect(p.requests).toBe(30);
    // the client moves its breakpoint every turn; nothing else in history may change
    expect(d).toMatchObject({ historyChanges: 0, toolsChanges: 0, shrunk: 0 });
    expect(p).toMatchObject({ historyChanges: 0, toolsChanges: 0, shrunk: 0, breakpointMoves: d.breakpointMoves });
    expect(p.breakpointMoves).toBeGreaterThan(20);
    expect(proxy.prefixReuse).toBe(1);
    expect(proxy.requestHitRate).toBe(1);
    expect(proxy.hitRate).toBeGreaterThanOrEqual(direct.hitRate);
    expect(proxy.tokensSent).toBeLessThan(direct.tokensSent * 0.5);
    expect(proxy.cacheWrite).toBeLessThan(direct.cacheWrite);
    expect(proxyUsage.slice(1).every((u) => u.cacheRead > 0)).toBe(true);
    const outcomes = await h.waitForOutcomes(30);
    expect(outcomes.filter((o) => o.compression.transforms.some((t) => t !== 'replay')).length).toBeGreaterThanOrEqual(8);
  });

  it('Anthropic with a small fixed prefix: still zero changes, nothing cached lost, no more tokens missing the cache', async () => {
    const { direct, proxy, p } = await both('anthropic', 'compact');
    expect(p).toMatchObject({ requests: 30, historyChanges: 0, toolsChanges: 0, shrunk: 0 });
    expect(proxy.prefixReuse).toBe(1);
    expect(direct.prefixReuse).toBe(1);
    expect(proxy.tokensSent).toBeLessThan(direct.tokensSent * 0.3);
    // the hit rate (reads / tokens sent) can sit below the direct run's here: compression
    // shrinks the cached history, not the turn's uncached tail; what must not grow is the tail
    const uncached = (s: typeof proxy) => s.tokensSent - s.cacheRead - s.cacheWrite;
    expect(uncached(proxy)).toBeLessThanOrEqual(uncached(direct));
  });

  it('OpenAI chat: zero history and tools changes, hit rate at least the direct run, fewer tokens sent', async () => {
    const { direct, proxy, d, p } = await both('chat', 'agent');
    expect(d).toMatchObject({ requests: 30, historyChanges: 0, toolsChanges: 0, breakpointMoves: 0 });
    expect(p).toMatchObject({ requests: 30, historyChanges: 0, toolsChanges: 0, breakpointMoves: 0, shrunk: 0 });
    expect(proxy.requestHitRate).toBe(1);
    expect(proxy.hitRate).toBeGreaterThanOrEqual(direct.hitRate);
    expect(proxy.tokensSent).toBeLessThan(direct.tokensSent * 0.5);
  });
});
