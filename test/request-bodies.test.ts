/**
 * How the proxy reads request bodies it may change: a chunked body (no Content-Length) is cut
 * off at --max-body-bytes like a declared one, and every Content-Encoding a client may send
 * (gzip, deflate, br) is decoded for compression and forwarded decoded.
 */
import { request } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateOutput } from '../src/mock/agent-outputs.js';
import { FAKE_ANTHROPIC_KEY, type Harness, startHarness } from './helpers/harness.js';

const LIMIT = 64 * 1024;
const HEADERS = { 'content-type': 'application/json', 'x-api-key': FAKE_ANTHROPIC_KEY, 'anthropic-version': '2023-06-01' };

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config: { maxBodyBytes: LIMIT } });
});
afterAll(() => h.close());
beforeEach(() => h.reset());

/** POSTs `pieces` as a chunked body (node:http sends no Content-Length when given none). */
function postChunked(pieces: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${h.url}/v1/messages`, { method: 'POST', headers: HEADERS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    for (const p of pieces) req.write(p);
    req.end();
  });
}

describe('request body limits', () => {
  it('a chunked body that grows past --max-body-bytes gets 413 in the provider shape; nothing reaches upstream', async () => {
    const head = '{"model":"claude-haiku-4-5","max_tokens":8,"messages":[{"role":"user","content":"';
    const filler = Array.from({ length: 10 }, () => 'x'.repeat(8 * 1024));
    const r = await postChunked([head, ...filler, '"}]}']);
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body)).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
    const [o] = await h.waitForOutcomes(1);
    expect(o!.errorType).toBe('body_too_large');
    expect(h.mock.requests).toHaveLength(0);
  });

  it('a chunked body under the limit goes through', async () => {
    const r = await postChunked(['{"model":"claude-haiku-4-5","max_tokens":8,', '"messages":[{"role":"user","content":"hi"}]}']);
    expect(r.status).toBe(200);
    expect(h.mock.requests).toHaveLength(1);
  });
});

describe('encoded request bodies', () => {
  const LOG = generateOutput('logs_json', 30_000, 3);
  const body = JSON.stringify({
    model: 'claude-sonnet-4-5',
    max_tokens: 64,
    messages: [
      { role: 'user', content: 'why did checkout fail?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'tu', name: 'logs', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'tu', content: LOG.text }] },
    ],
  });
  const encodings = [
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ] as const;

  for (const [name, encode] of encodings) {
    it(`${name}: decoded, compressed and forwarded without the encoding`, async () => {
      const res = await fetch(`${h.url}/v1/messages`, { method: 'POST', headers: { ...HEADERS, 'content-encoding': name }, body: encode(Buffer.from(body)) });
      expect(res.status).toBe(200);
      const [o] = await h.waitForOutcomes(1);
      expect(o!.modified).toBe(true);
      expect(o!.compression.tokensSaved).toBeGreaterThan(0);
      expect(h.mock.requests).toHaveLength(1);
      const fwd = h.mock.requests[0]!;
      expect(fwd.headers['content-encoding']).toBeUndefined();
      const content = (fwd.json as { messages: { content: { content: string }[] }[] }).messages[2]!.content[0]!.content;
      for (const n of LOG.needles) expect(content).toContain(n);
    });
  }
});
