/**
 * Wildcard filters a client sends (live running-totals filters, `/v1/compress` tool
 * exclusions) are matched without backtracking: the worst patterns against many long names
 * finish in milliseconds and the proxy keeps answering `/livez` meanwhile. Runs the built
 * proxy in its own process, so a freeze shows as unanswered probes instead of hanging the test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nameMatcher } from '../src/capabilities/live/glob.js';
import { isExcludedTool } from '../src/compress/options.js';
import { MockUpstream } from '../src/mock/upstream.js';
import { type ChildProxy, longestLivezGap, startChildProxy } from './helpers/child-proxy.js';
import { FAKE_ANTHROPIC_KEY } from './helpers/harness.js';
import { anthropicHeaders, send } from './helpers/http.js';

const MODELS = 150;
const longModel = (i: number) => `${'a'.repeat(496)}${String(i).padStart(4, '0')}`;
/** Patterns a backtracking RegExp takes minutes (or ~1 s per bucket) on. */
const WORST = ['*a*a*a*a*a*a*b', '*?'.repeat(20), `${'?*'.repeat(60)}b`, `*${'a'.repeat(120)}*b*`];

describe('wildcard matching semantics', () => {
  it('matches like a glob: * any run, ? one character, everything else literal, case-insensitive', () => {
    const m = (p: string, s: string) => nameMatcher(p)!(s);
    expect(m('GPT-4*', 'gpt-4o-mini')).toBe(true);
    expect(m('gpt-4?', 'gpt-4o')).toBe(true);
    expect(m('gpt-4?', 'gpt-4o-mini')).toBe(false);
    expect(m('*:FREE', 'kwaipilot/kat-coder-pro:free')).toBe(true);
    expect(m('a*b*c', 'abc')).toBe(true);
    expect(m('a*b*c', 'acb')).toBe(false);
    expect(m('*ab*ab', 'abab')).toBe(true);
    expect(m('*ab*ab', 'aba')).toBe(false);
    expect(m('a*a', 'a')).toBe(false);
    expect(m('?*?', 'ab')).toBe(true);
    expect(m('?*?', 'a')).toBe(false);
    expect(m('**', '')).toBe(true);
    expect(m('[ab]', 'a')).toBe(false);
    expect(m('a.c', 'abc')).toBe(false);
    expect(isExcludedTool('mcp__github__search', ['mcp__*'])).toBe(true);
    expect(isExcludedTool('Read', ['read'])).toBe(true);
    expect(isExcludedTool('bash', ['b?sh', 'x'])).toBe(true);
    expect(isExcludedTool('bash', ['[b]ash'])).toBe(false);
  });
});

describe('worst-case filters against the running proxy', () => {
  const mock = new MockUpstream({ record: false });
  let p: ChildProxy;
  beforeAll(async () => {
    await mock.start();
    p = await startChildProxy(['--anthropic-api-url', mock.url, '--openai-api-url', mock.url]);
    // 150 model buckets with 500-character names
    for (let i = 0; i < MODELS; i += 15) {
      await Promise.all(Array.from({ length: 15 }, (_, j) => send(`${p.url}/v1/messages`, {
        body: JSON.stringify({ model: longModel(i + j), max_tokens: 4, messages: [{ role: 'user', content: 'x' }] }),
        headers: anthropicHeaders(FAKE_ANTHROPIC_KEY),
      })));
    }
  }, 60_000);
  afterAll(async () => {
    await p?.close();
    await mock.close();
  });

  it('running-totals filters finish at once while /livez keeps answering', async () => {
    for (const pattern of WORST) {
      const t0 = performance.now();
      const req = fetch(`${p.url}/metrics/running-totals?format=json&model=${encodeURIComponent(pattern)}`, { signal: AbortSignal.timeout(8_000) });
      const gap = await longestLivezGap(p.url, req);
      const res = await req;
      const ms = performance.now() - t0;
      expect(res.status, pattern).toBe(200);
      const body = (await res.json()) as { providers: Record<string, { models: Record<string, unknown> }> };
      expect(Object.keys(body.providers.anthropic?.models ?? {}).length, pattern).toBe(pattern.endsWith('b') || pattern.endsWith('b*') ? 0 : MODELS);
      // a backtracking matcher takes minutes here; the bound is ~100x what the linear one needs
      expect(ms, pattern).toBeLessThan(2_000);
      expect(gap, pattern).toBeLessThan(2_000);
    }
  }, 60_000);

  it('an over-long pattern is refused with a 400 naming the parameter', async () => {
    const r = await send(`${p.url}/metrics/running-totals?model=${'*a'.repeat(200)}`);
    expect(r.status).toBe(400);
    expect(r.json()).toEqual({ error: { type: 'invalid_request', message: 'model is longer than 256 characters.' } });
  });

  it('/v1/compress tool exclusions from the client are matched without backtracking', async () => {
    const tool = longModel(1);
    const body = JSON.stringify({
      model: 'gpt-4o',
      config: { exclude_tools: ['*a*a*a*a*a*a*b', '*?'.repeat(20) + 'b'] },
      messages: [
        { role: 'user', content: 'list the files' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: tool, arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: Array.from({ length: 400 }, (_, i) => `src/module${i % 9}/file${i}.ts`).join('\n') },
      ],
    });
    const t0 = performance.now();
    const req = fetch(`${p.url}/v1/compress`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(8_000) });
    const gap = await longestLivezGap(p.url, req);
    const res = await req;
    expect(res.status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(gap).toBeLessThan(2_000);
  }, 30_000);
});
