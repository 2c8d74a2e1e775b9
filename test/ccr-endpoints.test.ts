/**
 * `/v1/retrieve*` with Headroom's shapes, the originals a proxied request stored surviving a
 * proxy restart (SQLite in the workspace), the health check and the `/stats` block.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash } from '../src/compress/hash.js';
import { findMarkers } from '../src/compress/markers.js';
import { generateOutput } from '../src/mock/agent-outputs.js';
import { FAKE_ANTHROPIC_KEY, type Harness, startHarness } from './helpers/harness.js';
import { rawRequest, REMOTE_HOST } from './helpers/http.js';

type Json = Record<string, unknown>;

const original = Array.from({ length: 300 }, (_, i) => (i === 211 ? 'ERROR disk quota exceeded on /var' : `INFO line ${i} fine`)).join('\n');
const hash = contentHash(original);

async function call(h: Harness, method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${h.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Json };
}

describe('/v1/retrieve endpoints', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    h.app.service('originals')!.put([{ hash, original, toolName: 'run', originalItems: 300, keptItems: 20, unit: 'lines', transforms: ['log'] }]);
  });
  afterAll(() => h.close());

  it('POST /v1/retrieve returns the original with Headroom fields; a query adds the matching lines', async () => {
    const r = await call(h, 'POST', '/v1/retrieve', { hash });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ hash, original_content: original, original_item_count: 300, compressed_item_count: 20, tool_name: 'run', retrieval_count: 1 });
    expect(r.json.original_tokens).toBeGreaterThan(0);
    const q = await call(h, 'POST', '/v1/retrieve', { hash: hash.toUpperCase(), query: 'disk quota' });
    expect(q.json.original_content).toBe(original);
    expect(q.json.retrieval_count).toBe(2);
    expect(q.json.search).toMatchObject({ query: 'disk quota', matched: 1, total: 300, unit: 'lines' });
    expect((q.json.search as Json).text).toBe('1 of 300 lines of the original mention "disk quota":\nL212: ERROR disk quota exceeded on /var');
  });

  it('GET /v1/retrieve/:hash, 404 with a reason on a miss, 400 without a hash or with bad JSON', async () => {
    expect((await call(h, 'GET', `/v1/retrieve/${hash}`)).json.original_content).toBe(original);
    const miss = await call(h, 'GET', '/v1/retrieve/abcdefabcdefabcdefabcdef');
    expect(miss).toEqual({ status: 404, json: { detail: 'Entry not found (CCR TTL: 1800 seconds)' } });
    expect(await call(h, 'POST', '/v1/retrieve', {})).toEqual({ status: 400, json: { detail: 'hash required' } });
    const bad = await call(h, 'POST', '/v1/retrieve', '{"hash":');
    expect(bad.status).toBe(400);
    expect(String(bad.json.detail)).toMatch(/Invalid JSON/);
  });

  it('POST /v1/retrieve/tool_call answers Anthropic and OpenAI calls; misses are 200 with success false', async () => {
    const a = await call(h, 'POST', '/v1/retrieve/tool_call', { tool_call: { id: 'toolu_1', name: 'headroom_retrieve', input: { hash } } });
    expect(a.status).toBe(200);
    expect(a.json.success).toBe(true);
    expect(a.json.tool_result).toMatchObject({ type: 'tool_result', tool_use_id: 'toolu_1' });
    expect(JSON.parse((a.json.tool_result as Json).content as string)).toMatchObject({ hash, original_content: original, original_item_count: 300 });
    const o = await call(h, 'POST', '/v1/retrieve/tool_call', { provider: 'openai', tool_call: { id: 'call_1', function: { name: 'headroom_retrieve', arguments: JSON.stringify({ hash: hash.slice(0, 12) }) } } });
    expect(o.json.tool_result).toMatchObject({ role: 'tool', tool_call_id: 'call_1' });
    expect(o.json.success).toBe(true);
    const miss = await call(h, 'POST', '/v1/retrieve/tool_call', { tool_call: { id: 't', name: 'headroom_retrieve', input: { hash: 'abcdefabcdef' } } });
    expect(miss.status).toBe(200);
    expect(miss.json).toMatchObject({ success: false, data: { status: 'missing', hash: 'abcdefabcdef', ttl_seconds: 1800 } });
    const wrong = await call(h, 'POST', '/v1/retrieve/tool_call', { tool_call: { name: 'other_tool', input: { hash } } });
    expect(wrong).toEqual({ status: 400, json: { detail: 'Invalid tool call or not a headroom_retrieve call' } });
  });

  it('GET /v1/retrieve/stats wins over /:hash and reports the store and recent retrievals', async () => {
    const s = await call(h, 'GET', '/v1/retrieve/stats');
    expect(s.status).toBe(200);
    const store = s.json.store as Json;
    expect(store).toMatchObject({ entry_count: 1, default_ttl_seconds: 1800, max_entries: 5000 });
    expect((store.backend as Json).backend_type).toBe('sqlite');
    const recent = s.json.recent_retrievals as Json[];
    expect(recent.length).toBeGreaterThanOrEqual(4);
    expect(recent[0]).toMatchObject({ tool_name: 'run', via: 'api' });
  });

  it('are admin routes: a caller that is not strictly loopback gets 404 Not Found', async () => {
    for (const [method, path] of [['GET', '/v1/retrieve/stats'], ['GET', `/v1/retrieve/${hash}`], ['POST', '/v1/retrieve'], ['POST', '/v1/retrieve/tool_call']] as const) {
      const r = await rawRequest(`${h.url}${path}`, { method, headers: { ...REMOTE_HOST, 'content-type': 'application/json' }, ...(method === 'POST' ? { body: JSON.stringify({ hash }) } : {}) });
      expect(r.status, path).toBe(404);
      expect(r.json()).toEqual({ detail: 'Not Found' });
    }
  });

  it('health and /stats carry a ccr block', async () => {
    const health = (await call(h, 'GET', '/health')).json;
    expect((health.checks as Json).ccr).toMatchObject({ enabled: true, backend: 'sqlite', persistent: true });
    const stats = (await call(h, 'GET', '/stats')).json;
    expect(stats.ccr).toMatchObject({ backend: 'sqlite', entries: 1 });
  });
});

describe('originals survive a proxy restart', () => {
  const workspace = mkdtempSync(join(tmpdir(), 'ccr-restart-'));
  afterAll(() => rmSync(workspace, { recursive: true, force: true }));

  it('a marker forwarded before the restart is retrievable after it', async () => {
    const sample = generateOutput('search_json', 12_000, 3);
    const a = await startHarness({ config: { workspaceDir: workspace } });
    const client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: a.url, maxRetries: 0 });
    await client.messages.create({
      model: 'claude-sonnet-4-5', max_tokens: 64,
      messages: [
        { role: 'user', content: 'look' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'search', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: sample.text }] },
      ],
    });
    const marker = findMarkers(a.mock.last!.body.toString())[0];
    expect(marker).toBeDefined();
    await a.close();
    const b = await startHarness({ config: { workspaceDir: workspace } });
    try {
      const r = await call(b, 'GET', `/v1/retrieve/${marker!.hash}`);
      expect(r.status).toBe(200);
      expect(r.json.original_content).toBe(sample.text);
    } finally {
      await b.close();
    }
  });

  it('memory backend (and --stateless) keep nothing across restarts', async () => {
    const h = await startHarness({ config: { ccrBackend: 'memory' } });
    try {
      const health = (await call(h, 'GET', '/health')).json;
      expect((health.checks as Json).ccr).toMatchObject({ backend: 'memory', persistent: false });
    } finally {
      await h.close();
    }
  });
});
