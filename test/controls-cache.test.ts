import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheKey, canonicalBody } from '../src/capabilities/controls/cache/key.js';
import { type CachedResponse, entrySize, LruCache } from '../src/capabilities/controls/cache/lru.js';
import { accountingOf } from '../src/capabilities/stats/accounting.js';
import { startControlsHarness } from './helpers/controls.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness } from './helpers/harness.js';
import { anthropicHeaders, rawRequest, REMOTE_HOST, send } from './helpers/http.js';

type Json = Record<string, any>;

const base = {
  model: 'claude-haiku-4-5',
  max_tokens: 128,
  temperature: 0,
  system: [{ type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } }],
  messages: [{ role: 'user', content: [{ type: 'text', text: 'Summarise the diff.', cache_control: { type: 'ephemeral', ttl: '1h' } }] }],
  tools: [{ name: 'run_tests', description: 'Run the tests', input_schema: { type: 'object', properties: {} } }],
};
const keyOf = (body: Json, apiKeyHash: string | null = 'abc', headers: Json = {}) => cacheKey('/v1/messages', apiKeyHash, headers, body);

describe('cache key', () => {
  it('ignores cache_control at any depth, key order and labelling fields', () => {
    const stripped = JSON.parse(JSON.stringify(base), (k, v) => (k === 'cache_control' ? undefined : v)) as Json;
    expect(keyOf(stripped)).toBe(keyOf(base));
    const reordered = { messages: base.messages, tools: base.tools, system: base.system, temperature: 0, max_tokens: 128, model: base.model };
    expect(keyOf(reordered)).toBe(keyOf(base));
    expect(keyOf({ ...base, metadata: { user_id: 'session-1' }, stream: false })).toBe(keyOf(base));
    expect(canonicalBody(base)).not.toContain('cache_control');
  });

  it.each([
    ['temperature', { temperature: 0.7 }],
    ['top_p', { top_p: 0.9 }],
    ['top_k', { top_k: 5 }],
    ['max_tokens', { max_tokens: 129 }],
    ['stop_sequences', { stop_sequences: ['END'] }],
    ['model', { model: 'claude-sonnet-4-6' }],
    ['system', { system: 'Be verbose.' }],
    ['tools', { tools: [] }],
    ['tool_choice', { tool_choice: { type: 'any' } }],
    ['thinking', { thinking: { type: 'enabled', budget_tokens: 1024 } }],
    ['a new field', { some_future_option: true }],
    ['messages', { messages: [{ role: 'user', content: 'Summarise the diff!' }] }],
  ])('does not ignore %s', (_name, change) => {
    expect(keyOf({ ...base, ...change })).not.toBe(keyOf(base));
  });

  it('long strings (tool output) are compared in full, and cannot be confused with short ones', () => {
    const long = 'line "quoted" \\ \n'.repeat(100);
    const withContent = (content: string) => ({ ...base, messages: [{ role: 'user', content }] });
    expect(keyOf(withContent(long))).toBe(keyOf(withContent(long.slice(0))));
    expect(keyOf(withContent(long))).not.toBe(keyOf(withContent(`${long.slice(0, -1)}!`)));
    expect(keyOf(withContent(long))).not.toBe(keyOf(withContent(long.slice(1))));
    // a short string that spells out the long form's prefix is still a different key
    expect(canonicalBody(withContent('s4:abcd'))).not.toBe(canonicalBody(withContent('abcd')));
  });

  it('is per API key, route and beta header', () => {
    expect(keyOf(base, 'abc')).not.toBe(keyOf(base, 'abd'));
    expect(keyOf(base, null)).not.toBe(keyOf(base, 'abc'));
    expect(keyOf(base, 'abc', { 'anthropic-beta': 'context-1m-2025-08-07' })).not.toBe(keyOf(base));
    expect(cacheKey('/v1/chat/completions', 'abc', {}, base)).not.toBe(keyOf(base));
  });
});

describe('LRU store', () => {
  const entry = (bytes: number, now = 0, ttlMs = 1000): CachedResponse => {
    const body = Buffer.alloc(bytes);
    return { status: 200, headers: {}, body, storedAt: now, expiresAt: now + ttlMs, size: entrySize('k', {}, body), hits: 0 };
  };

  it('evicts the least recently used beyond the entry bound', () => {
    const c = new LruCache(1e9, 2);
    c.set('a', entry(10));
    c.set('b', entry(10));
    expect(c.get('a', 0)).toBeDefined(); // a is now the most recent
    c.set('c', entry(10));
    expect(c.get('b', 0)).toBeUndefined();
    expect(c.get('a', 0)).toBeDefined();
    expect(c.get('c', 0)).toBeDefined();
    expect(c.counters).toMatchObject({ evictions: 1, stores: 3, hits: 3, misses: 1 });
  });

  it('stays within its byte bound; one entry above it is not stored', () => {
    const one = entry(1000).size;
    const c = new LruCache(one * 3, 1000);
    for (const k of ['a', 'b', 'c', 'd', 'e']) c.set(k, entry(1000));
    expect(c.size).toBe(3);
    expect(c.bytes).toBeLessThanOrEqual(one * 3);
    expect(c.set('huge', entry(one * 4))).toBe(false);
    expect(c.counters.tooLarge).toBe(1);
    expect(c.clear()).toEqual({ entries: 3, bytes: one * 3 });
    expect(c.bytes).toBe(0);
  });

  it('expires entries at their TTL', () => {
    const c = new LruCache(1e9, 10);
    c.set('a', entry(10, 0, 1000));
    expect(c.get('a', 999)).toBeDefined();
    expect(c.get('a', 1000)).toBeUndefined();
    expect(c.counters).toMatchObject({ expired: 1, misses: 1, hits: 1 });
    expect(c.size).toBe(0);
  });
});

describe('response cache through the proxy', () => {
  let h: Harness | null = null;
  afterEach(async () => {
    await h?.close();
    h = null;
  });
  const post = (hh: Harness, body: Json, headers: Record<string, string> = {}) =>
    send(`${hh.url}/v1/messages`, { body: JSON.stringify(body), headers: { ...anthropicHeaders(FAKE_ANTHROPIC_KEY), ...headers } });
  const stats = async (hh: Harness): Promise<Json> => (await send(`${hh.url}/stats`)).json<Json>();

  it('off by default', async () => {
    h = await startControlsHarness({ config: {} });
    await post(h, base);
    await post(h, base);
    expect(h.mock.requests).toHaveLength(2);
    expect((await stats(h)).cache).toBeNull();
    const clear = await send(`${h.url}/cache/clear`, { method: 'POST' });
    expect(clear.json()).toEqual({ status: 'cache disabled' });
  });

  it('a repeated request is answered from the cache: same bytes, one upstream call, a cached outcome', async () => {
    h = await startControlsHarness({ config: { cache: true } });
    const first = await post(h, base);
    const second = await post(h, base);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body.equals(first.body)).toBe(true);
    expect(second.headers).toMatchObject({ 'x-headroom-cached': 'true', age: '0', 'content-type': 'application/json' });
    expect(first.headers['x-headroom-cached']).toBeUndefined();
    expect(second.headers['request-id']).toBe(first.headers['request-id']);
    expect(second.headers['x-headroom-request-id']).not.toBe(first.headers['x-headroom-request-id']);
    expect(h.mock.requests).toHaveLength(1);
    const [o1, o2] = await h.waitForOutcomes(2);
    expect(o1).toMatchObject({ cached: false, ok: true });
    expect(o2).toMatchObject({ cached: true, ok: true, status: 200, usage: null, errorType: null, timing: { upstreamAttempts: 0 } });

    const s = await stats(h);
    expect(s.requests.cached).toBe(1);
    expect(s.cache).toMatchObject({ entries: 1, max_entries: 1000, total_hits: 1, ttl_seconds: 3600, misses: 1, hit_rate: 50, stores: 1, evictions: 0 });
    expect(s.cache.bytes).toBeGreaterThan(first.body.length);
    const metrics = (await send(`${h.url}/metrics`)).text;
    expect(metrics).toMatch(/^headroom_requests_cached_total 1$/m);
    expect(metrics).toMatch(/^headroom_response_cache_hits_total 1$/m);
    expect(metrics).toMatch(/^headroom_response_cache_entries 1$/m);
    expect((await send(`${h.url}/health`)).json<Json>().checks.cache).toMatchObject({ enabled: true, status: 'healthy', entries: 1 });
  });

  it('the key ignores cache_control but not sampling parameters', async () => {
    h = await startControlsHarness({ config: { cache: true } });
    await post(h, base);
    const noMarkers = JSON.parse(JSON.stringify(base), (k, v) => (k === 'cache_control' ? undefined : v)) as Json;
    expect((await post(h, noMarkers)).headers['x-headroom-cached']).toBe('true');
    expect((await post(h, { ...base, temperature: 0.5 })).headers['x-headroom-cached']).toBeUndefined();
    expect((await post(h, { ...base, top_p: 0.5 })).headers['x-headroom-cached']).toBeUndefined();
    expect(h.mock.requests).toHaveLength(3);
  });

  it('never serves one API key another key\'s response', async () => {
    h = await startControlsHarness({ config: { cache: true } });
    await post(h, base);
    const other = await send(`${h.url}/v1/messages`, { body: JSON.stringify(base), headers: anthropicHeaders('sk-ant-api03-FAKEotherkey0000000000000000000000') });
    expect(other.headers['x-headroom-cached']).toBeUndefined();
    expect(h.mock.requests).toHaveLength(2);
  });

  it('streams, errors and Cache-Control: no-cache / no-store are not served from or stored in the cache', async () => {
    h = await startControlsHarness({ config: { cache: true } });
    for (let i = 0; i < 2; i++) await post(h, { ...base, stream: true });
    expect(h.mock.requests).toHaveLength(2);
    for (let i = 0; i < 2; i++) expect((await post(h, base, { 'x-mock-scenario': 'status:400' })).status).toBe(400);
    expect(h.mock.requests).toHaveLength(4);
    await post(h, base, { 'cache-control': 'no-store' });
    await post(h, base, { 'cache-control': 'no-cache' }); // stored, not read
    expect(h.mock.requests).toHaveLength(6);
    expect((await post(h, base)).headers['x-headroom-cached']).toBe('true');
    expect((await post(h, base, { 'cache-control': 'no-cache' })).headers['x-headroom-cached']).toBeUndefined();
    expect((await stats(h)).cache).toMatchObject({ entries: 1, bypassed: 3 });
  });

  it('entries expire after the TTL (injected clock) and the LRU bound holds', async () => {
    let t = 1_000_000;
    h = await startControlsHarness({ config: { cache: true, cacheTtl: 60, cacheMaxEntries: 2 }, now: () => t });
    await post(h, base);
    t += 59_000;
    const hit = await post(h, base);
    expect(hit.headers).toMatchObject({ 'x-headroom-cached': 'true', age: '59' });
    t += 1_000;
    expect((await post(h, base)).headers['x-headroom-cached']).toBeUndefined();
    expect((await stats(h)).cache).toMatchObject({ expired: 1, entries: 1 });
    await post(h, { ...base, max_tokens: 1 });
    await post(h, { ...base, max_tokens: 2 });
    const s = (await stats(h)).cache;
    expect(s).toMatchObject({ entries: 2, evictions: 1 });
  });

  it('POST /cache/clear empties it (admin only, audited)', async () => {
    h = await startControlsHarness({ config: { cache: true } });
    await post(h, base);
    const denied = await rawRequest(`${h.url}/cache/clear`, { method: 'POST', headers: REMOTE_HOST });
    expect(denied.status).toBe(404);
    expect(denied.json()).toEqual({ detail: 'Not Found' });
    const r = await send(`${h.url}/cache/clear`, { method: 'POST' });
    expect(r.json()).toMatchObject({ status: 'cleared', entries_removed: 1 });
    expect(r.json<Json>().bytes_freed).toBeGreaterThan(0);
    expect((await post(h, base)).headers['x-headroom-cached']).toBeUndefined();
    const audits = h.logs.filter((l) => l.includes('headroom_admin_audit') && l.includes('/cache/clear'));
    expect(audits.map((l) => JSON.parse(l).status_code)).toEqual([404, 200]);
  });

  it('OpenAI SDK: the second identical completion comes from the cache', async () => {
    h = await startControlsHarness({ config: { cache: true } });
    const client = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const params = { model: 'gpt-4o', temperature: 0, messages: [{ role: 'user' as const, content: 'What is 2+2?' }] };
    const a = await client.chat.completions.create(params);
    const b = await client.chat.completions.create(params).withResponse();
    expect(b.data.id).toBe(a.id);
    expect(b.data.choices[0]!.message.content).toBe(a.choices[0]!.message.content);
    expect(b.response.headers.get('x-headroom-cached')).toBe('true');
    expect(h.mock.requests).toHaveLength(1);
  });

  it('a cache hit costs nothing: no budget spend, budget headers present; it still counts against the request rate', async () => {
    h = await startControlsHarness({ config: { cache: true, budget: 1, rpm: 2, tpm: 1_000_000 }, now: () => Date.parse('2026-05-05T05:05:05Z') });
    await post(h, base);
    const [o1] = await h.waitForOutcomes(1);
    const hit = await post(h, base);
    expect(hit.headers['x-headroom-cached']).toBe('true');
    expect(hit.headers['x-headroom-budget-limit-usd']).toBe('1');
    await h.waitForOutcomes(2);
    const s = await stats(h);
    expect(s.budget.spent_usd).toBeCloseTo(accountingOf(o1!).cost!.totalUsd, 6);
    expect(s.budget.reserved_usd).toBe(0);
    expect((await post(h, base)).status).toBe(429); // third request in the minute
    const limiter = h.app.service('controls')!.limiter!;
    // the hit's token charge was refunded: only the first request's usage is taken
    expect(limiter.tokens!.available(`key:${o1!.apiKeyHash}`, Date.parse('2026-05-05T05:05:05Z'))).toBe(1_000_000 - o1!.usage!.input - o1!.usage!.output);
  });
});
