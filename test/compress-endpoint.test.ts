import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findMarkers } from '../src/compress/markers.js';
import { generateOutput } from '../src/mock/agent-outputs.js';
import { type Harness, startHarness } from './helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config: { maxBodyBytes: 2 * 1024 * 1024 } });
});
afterAll(() => h.close());
beforeEach(() => {
  h.outcomes.length = 0;
});

const S = generateOutput('search_json', 40_000, 31);
const messages = [
  { role: 'user', content: S.query },
  { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'search', arguments: '{}' } }] },
  { role: 'tool', tool_call_id: 'c1', content: S.text },
];

async function call(body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${h.url}/v1/compress`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

describe('POST /v1/compress', () => {
  it('returns Headroom\'s response shape and emits one compress outcome', async () => {
    const { status, json } = await call({ messages, model: 'gpt-4o' });
    expect(status).toBe(200);
    expect(Object.keys(json).sort()).toEqual(['ccr_hashes', 'compression_ratio', 'messages', 'mode', 'tokens_after', 'tokens_before', 'tokens_saved', 'transforms_applied', 'transforms_summary']);
    expect(json.messages).toHaveLength(3);
    expect(json.messages[2].tool_call_id).toBe('c1');
    for (const n of S.needles) expect(json.messages[2].content).toContain(n);
    expect(json.tokens_saved).toBe(json.tokens_before - json.tokens_after);
    expect(json.compression_ratio).toBeCloseTo(json.tokens_after / json.tokens_before, 3);
    expect(json.transforms_applied).toEqual(['json_crusher']);
    expect(json.transforms_summary).toEqual({ json_crusher: 1 });
    expect(json.ccr_hashes).toEqual(findMarkers(json.messages[2].content).map((m) => m.hash));
    const [o] = await h.waitForOutcomes(1);
    expect(o!.kind).toBe('compress');
    expect(o!.api).toBe('compress');
    expect(o!.provider).toBe('openai');
    expect(o!.status).toBe(200);
    expect(o!.usage).toBeNull();
    expect(o!.compression).toMatchObject({ mode: 'optimize', tokensBefore: json.tokens_before, tokensAfter: json.tokens_after, tokensSaved: json.tokens_saved, transforms: ['json_crusher'], error: null });
    expect(o!.compression.timingsMs.pipeline_total).toBeGreaterThan(0);
    expect(h.mock.requests).toHaveLength(0);
  });

  it('applies config options (snake_case) over the server defaults', async () => {
    const user = [{ role: 'user', content: generateOutput('service_log', 20_000, 2).text }];
    expect((await call({ messages: user, model: 'claude-sonnet-4-5' })).json.transforms_applied).toEqual([]);
    const r = await call({ messages: user, model: 'claude-sonnet-4-5', config: { compress_user_messages: true, default_mode: 'optimize', smart_crusher: {} } });
    expect(r.json.transforms_applied).toEqual(['log_compressor']);
    const [, o] = await h.waitForOutcomes(2);
    expect(o!.provider).toBe('anthropic');
  });

  it('bypass echoes the messages with zero figures; audit measures; passthrough changes nothing', async () => {
    const bypass = await call({ messages, model: 'gpt-4o' }, { 'x-headroom-bypass': 'true' });
    expect(bypass.json).toEqual({ messages, tokens_before: 0, tokens_after: 0, tokens_saved: 0, compression_ratio: 1, transforms_applied: [], ccr_hashes: [] });
    const audit = await call({ messages, model: 'gpt-4o' }, { 'x-headroom-mode': 'audit' });
    expect(audit.json.messages).toEqual(messages);
    expect(audit.json.tokens_saved).toBeGreaterThan(0);
    expect(audit.json.ccr_hashes).toEqual([]);
    expect(audit.json.mode).toBe('audit');
    const pass = await call({ messages, model: 'gpt-4o' }, { 'x-headroom-mode': 'passthrough' });
    expect(pass.json.messages).toEqual(messages);
    expect(pass.json.tokens_saved).toBe(0);
    const outs = await h.waitForOutcomes(3);
    expect(outs.map((o) => [o.compression.mode, o.compression.tokensSaved])).toEqual([['bypass', 0], ['audit', 0], ['passthrough', 0]]);
    expect(outs[1]!.compression.potentialTokensSaved).toBe(audit.json.tokens_saved);
  });

  it('answers bad input with Headroom\'s error shapes, one outcome each', async () => {
    expect(await call('{nope')).toEqual({ status: 400, json: { error: { type: 'invalid_request', message: 'Invalid JSON in request body.' } } });
    expect(await call('[1,2]')).toEqual({ status: 400, json: { error: { type: 'invalid_request', message: 'Invalid JSON in request body.' } } });
    expect(await call({ model: 'gpt-4o' })).toEqual({ status: 400, json: { error: { type: 'invalid_request', message: 'Missing required field: messages' } } });
    expect(await call({ messages: [] })).toEqual({ status: 400, json: { error: { type: 'invalid_request', message: 'Missing required field: model' } } });
    expect((await call({ messages: 'x', model: 'gpt-4o' })).status).toBe(400);
    expect((await call({ messages, model: 'gpt-4o', config: [] })).status).toBe(400);
    const bad = await call({ messages, model: 'gpt-4o', config: { target_ratio: 5 } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/target_ratio/);
    const bypassBad = await call('{nope', { 'x-headroom-bypass': 'true' });
    expect(bypassBad.status).toBe(400);
    expect(bypassBad.json.error).toMatch(/^Invalid request body: /);
    const outs = await h.waitForOutcomes(8);
    expect(outs.every((o) => o.kind === 'compress' && o.status === 400 && o.errorType === 'invalid_request')).toBe(true);
  });

  it('empty messages give a zero result', async () => {
    const { status, json } = await call({ messages: [], model: 'gpt-4o' });
    expect(status).toBe(200);
    expect(json).toMatchObject({ messages: [], tokens_before: 0, tokens_after: 0, tokens_saved: 0, compression_ratio: 1, transforms_applied: [], ccr_hashes: [] });
  });

  it('accepts gzip-encoded bodies and rejects unknown encodings', async () => {
    const ok = await call(gzipSync(Buffer.from(JSON.stringify({ messages, model: 'gpt-4o' }))), { 'content-encoding': 'gzip' });
    expect(ok.status).toBe(200);
    expect(ok.json.tokens_saved).toBeGreaterThan(0);
    expect((await call('{}', { 'content-encoding': 'compress' })).status).toBe(415);
  });

  it('is loopback-only: a foreign Host gets 404 {"detail":"Not Found"}', async () => {
    const port = new URL(h.url).port;
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/v1/compress', method: 'POST', headers: { host: 'proxy.example.com', 'content-type': 'application/json' } }, (r) => {
        let body = '';
        r.on('data', (c) => (body += c));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ messages, model: 'gpt-4o' }));
    });
    expect(res).toEqual({ status: 404, body: '{"detail":"Not Found"}' });
  });

  it('gives up with 503 compression_timeout past the configured timeout', async () => {
    const slow = await startHarness({ config: { compressionTimeoutSeconds: 0.000001 } });
    try {
      const res = await fetch(`${slow.url}/v1/compress`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages, model: 'gpt-4o' }) });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { type: string } }).error.type).toBe('compression_timeout');
      const [o] = await slow.waitForOutcomes(1);
      expect(o!.errorType).toBe('compression');
    } finally {
      await slow.close();
    }
  });

  it('413 for bodies over the limit', async () => {
    const { status, json } = await call({ messages: [{ role: 'user', content: 'x'.repeat(3 * 1024 * 1024) }], model: 'gpt-4o' });
    expect(status).toBe(413);
    expect(json.error.type).toBe('request_too_large');
  });
});
