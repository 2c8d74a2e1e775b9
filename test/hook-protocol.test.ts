/** The hook protocol against a standalone hook server with real engine workers. */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptsGzip, MAX_DECODED_BYTES, normaliseCoding } from '../src/capabilities/hook/encoding.js';
import { decodeRequestBody } from '../src/providers/content-encoding.js';
import { fileListingEnvelope } from '../src/mock/file-listing.js';
import { postHook, startHookServer, type HookHarness } from './helpers/hook.js';

/** A zstd frame made of raw (stored) blocks: valid zstd without a compressor. */
function zstdRawFrame(data: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.from([0x00, 0x50])]; // descriptor: no checksum, window log 10+...
  const MAX = 128 * 1024 - 1;
  if (data.length === 0) parts.push(Buffer.from([0x01, 0x00, 0x00]));
  for (let at = 0; at < data.length; at += MAX) {
    const chunk = data.subarray(at, Math.min(data.length, at + MAX));
    const last = at + MAX >= data.length ? 1 : 0;
    const header = (chunk.length << 3) | (0 << 1) | last;
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]), chunk);
  }
  return Buffer.concat(parts);
}

function rawPost(url: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(body.length), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const listing = () => fileListingEnvelope(400);
const small = (extra: Record<string, unknown> = {}) => ({
  metadata: { provider: 'openai', model: 'gpt-4o', session_id: 's-small' },
  request_body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }], ...extra },
});

let h: HookHarness;
beforeAll(async () => {
  h = await startHookServer();
});
afterAll(async () => {
  await h.close();
});

describe('hook protocol', () => {
  it('modify: only messages change; every other byte of request_body is kept, in order', async () => {
    const env = listing();
    const raw = JSON.stringify(env);
    const before = h.outcomes.length;
    const r = await postHook(h.url, raw);
    expect(r.status).toBe(200);
    expect(r.headers.get('accept-encoding')).toBe('zstd, gzip');
    expect(r.json?.action).toBe('modify');
    expect(r.text.endsWith('}\n')).toBe(true);
    const rb = r.json?.request_body as Record<string, unknown>;
    const orig = env.request_body as Record<string, unknown>;
    expect(Object.keys(rb)).toEqual(Object.keys(orig));
    for (const k of Object.keys(orig)) if (k !== 'messages') expect(rb[k]).toEqual(orig[k]);
    // the raw text before "messages" is byte-identical
    const origRb = raw.slice(raw.indexOf('"request_body":') + 15);
    const head = origRb.slice(0, origRb.indexOf('"messages":'));
    expect(r.text.startsWith(`{"action":"modify","request_body":${head}"messages":`)).toBe(true);
    const msgs = rb.messages as { content: unknown }[];
    expect(msgs.length).toBe(3);
    expect(msgs[0]).toEqual((orig.messages as unknown[])[0]);
    const out = JSON.stringify(msgs);
    expect(out.length).toBeLessThan(JSON.stringify(orig.messages).length * 0.6);
    expect(out).toContain('headroom_retrieve');
    const [o] = (await h.waitForOutcomes(before + 1)).slice(before);
    expect(o).toMatchObject({ kind: 'hook', api: 'hook', provider: 'anthropic', requestedModel: 'claude-sonnet-4-5', status: 200, ok: true, modified: true, messageCount: 3 });
    expect(o!.ext.hook).toMatchObject({ outcome: 'modify', reason: 'modify', inMsgs: 3, metadataProvider: 'anthropic', metadataModel: 'claude-sonnet-4-5', modelLimit: 200000 });
    expect(o!.ext.hook!.slot).toBeGreaterThanOrEqual(0);
    expect(o!.compression.tokensSaved).toBeGreaterThan(0);
    expect(o!.compression.tokensAfter).toBe(o!.compression.tokensBefore - o!.compression.tokensSaved);
    expect(o!.compression.transforms.length).toBeGreaterThan(0);
    expect(h.lines.at(-1)).toMatch(/^request in_msgs=3 in_bytes=\d+ out_bytes=\d+ wire_bytes=\d+ dur_ms=\d+ read_ms=\d+ write_ms=\d+ queue_ms=\d+ worker_ms=\d+ slot=\d cold=(true|false) model_limit=200000 -> modify$/);
  });

  it('the body model is used when metadata has none', async () => {
    const env = listing();
    delete (env.metadata as Record<string, unknown>).model;
    const before = h.outcomes.length;
    await postHook(h.url, env);
    const [o] = (await h.waitForOutcomes(before + 1)).slice(before);
    expect(o!.requestedModel).toBe('claude-sonnet-4-5');
    expect(o!.ext.hook!.metadataModel).toBeNull();
  });

  it('noop: nothing worth compressing -> allow, and an empty message list -> allow', async () => {
    const before = h.outcomes.length;
    const r = await postHook(h.url, small());
    expect(r.status).toBe(200);
    expect(r.text).toBe('{"action":"allow"}\n');
    const r2 = await postHook(h.url, small({ messages: [] }));
    expect(r2.json).toEqual({ action: 'allow' });
    const os = (await h.waitForOutcomes(before + 2)).slice(before);
    expect(os.map((o) => o.ext.hook!.outcome)).toEqual(['noop', 'noop']);
    expect(os[0]!.ext.hook!.slot).toBeGreaterThanOrEqual(0);
    expect(os[0]!.modified).toBe(false);
    expect(h.lines.at(-2)).toMatch(/ -> allow\(noop\)$/);
  });

  const malformed: [string, string | Record<string, unknown>][] = [
    ['invalid JSON', '{"request_body": {'],
    ['a JSON array', '[1,2]'],
    ['no request_body', { metadata: { provider: 'anthropic' } }],
    ['request_body null', { request_body: null }],
    ['request_body a string', { request_body: 'hello' }],
    ['Gemini contents', { metadata: { provider: 'gemini', model: 'gemini-2.5-pro' }, request_body: { contents: [{ parts: [{ text: 'x' }] }] } }],
    ['messages not an array', { request_body: { messages: { role: 'user' } } }],
    ['empty body', ''],
  ];
  for (const [name, body] of malformed) {
    it(`passthrough: ${name} -> 200 allow`, async () => {
      const before = h.outcomes.length;
      const r = await postHook(h.url, body);
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ action: 'allow' });
      const [o] = (await h.waitForOutcomes(before + 1)).slice(before);
      expect(o!.ext.hook!.outcome).toBe('passthrough');
      expect(o!.ext.hook!.slot).toBe(-1);
      expect(o!.errorMessage).toBeTruthy();
      expect(h.lines.at(-1)).toMatch(/ -> allow\(passthrough\)$/);
    });
  }

  it('passthrough keeps the metadata provider and model for the figures', async () => {
    const before = h.outcomes.length;
    await postHook(h.url, { metadata: { provider: 'openai', model: 'text-embedding-3-small' }, request_body: { input: 'embed me' } });
    const [o] = (await h.waitForOutcomes(before + 1)).slice(before);
    expect(o).toMatchObject({ provider: 'openai', requestedModel: 'text-embedding-3-small' });
  });

  it('any path is the hook; GET is 405 (not recorded) with Accept-Encoding', async () => {
    const before = h.outcomes.length;
    const r = await fetch(`${h.url}/some/where`, { method: 'GET' });
    expect(r.status).toBe(405);
    expect(await r.text()).toBe('method not allowed\n');
    expect(r.headers.get('accept-encoding')).toBe('zstd, gzip');
    // The POST after it is the barrier: one funnel delivers outcomes in the order they are
    // emitted, so the first outcome after `before` would be the GET's if it had one.
    const p = await fetch(`${h.url}/hooks/anything`, { method: 'POST', body: JSON.stringify(small()) });
    expect(await p.json()).toEqual({ action: 'allow' });
    const id = p.headers.get('x-headroom-request-id');
    expect(id).toBeTruthy();
    const os = (await h.waitForOutcomes(before + 1)).slice(before);
    expect(os.map((o) => [o.requestId, o.method, o.path])).toEqual([[id, 'POST', '/hooks/anything']]);
  });
});

describe('hook encodings', () => {
  const envBytes = () => Buffer.from(JSON.stringify(listing()));

  it('gzip request bodies are decoded', async () => {
    const before = h.outcomes.length;
    const body = gzipSync(envBytes());
    const r = await rawPost(h.url, body, { 'content-encoding': 'gzip' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString()).action).toBe('modify');
    const [o] = (await h.waitForOutcomes(before + 1)).slice(before);
    expect(o!.ext.hook).toMatchObject({ coding: 'gzip', wireBytes: body.length });
    expect(h.lines.at(-1)).toMatch(/^request\(gzip\) .* -> modify$/);
  });

  it('zstd request bodies are decoded (real compressor output and stored blocks)', async () => {
    const real = readFileSync(new URL('./fixtures/hook-file-listing.json.zst', import.meta.url));
    expect((await decodeRequestBody(real, 'zstd', MAX_DECODED_BYTES)).toString()).toBe(JSON.stringify(fileListingEnvelope(400)));
    const r = await rawPost(h.url, real, { 'content-encoding': 'zstd' });
    expect(JSON.parse(r.body.toString()).action).toBe('modify');
    const r2 = await rawPost(h.url, zstdRawFrame(envBytes()), { 'content-encoding': 'ZSTD' });
    expect(JSON.parse(r2.body.toString()).action).toBe('modify');
    expect(h.lines.at(-1)).toMatch(/^request\(zstd\) /);
  });

  it('identity and empty codings need no decoding', async () => {
    for (const enc of ['identity', '']) {
      const r = await rawPost(h.url, Buffer.from(JSON.stringify(small())), { 'content-encoding': enc });
      expect(JSON.parse(r.body.toString())).toEqual({ action: 'allow' });
    }
  });

  it('corrupt gzip or zstd -> allow(decode-error)', async () => {
    const before = h.outcomes.length;
    const r1 = await rawPost(h.url, Buffer.from('definitely not gzip'), { 'content-encoding': 'gzip' });
    const r2 = await rawPost(h.url, Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xff, 0xff, 0xff]), { 'content-encoding': 'zstd' });
    for (const r of [r1, r2]) {
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body.toString())).toEqual({ action: 'allow' });
    }
    const os = (await h.waitForOutcomes(before + 2)).slice(before);
    expect(os.map((o) => o.ext.hook!.outcome)).toEqual(['decode_error', 'decode_error']);
    expect(h.lines.at(-1)).toMatch(/^request\(zstd\) .* -> allow\(decode-error\)$/);
  });

  it('a decoded body above 50 MiB is refused by the bomb guard', async () => {
    const bomb = gzipSync(Buffer.alloc(51 * 1024 * 1024, 0x20));
    await expect(decodeRequestBody(bomb, 'gzip', MAX_DECODED_BYTES)).rejects.toThrow(/exceeds/);
    const zbomb = zstdRawFrame(Buffer.alloc(2 * 1024 * 1024, 0x20));
    await expect(decodeRequestBody(zbomb, 'zstd', 1024 * 1024)).rejects.toThrow(/exceeds/);
  });

  it('an unsupported coding -> 415 with Accept-Encoding (even with advertising off)', async () => {
    const off = await startHookServer({ hookAcceptCompressed: false, hookPoolSize: 1 });
    try {
      const ok = await postHook(off.url, small());
      expect(ok.headers.get('accept-encoding')).toBeNull();
      const r = await rawPost(off.url, Buffer.from('xx'), { 'content-encoding': 'br' });
      expect(r.status).toBe(415);
      expect(r.body.toString()).toBe('unsupported content-encoding\n');
      expect(r.headers['accept-encoding']).toBe('zstd, gzip');
      const os = await off.waitForOutcomes(2);
      expect(os[1]!.ext.hook!.outcome).toBe('reject_encoding');
      expect(os[1]!.status).toBe(415);
      expect(off.lines.at(-1)).toBe('request(br) wire_bytes=2 read_ms=0 -> reject(encoding)');
    } finally {
      await off.close();
    }
  });

  it('gzip responses when the caller accepts gzip (q=0 refuses), off with --no-hook-gzip-response', async () => {
    const body = envBytes();
    const gz = await rawPost(h.url, body, { 'accept-encoding': 'br, GZIP;q=0.5' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(Number(gz.headers['content-length'])).toBe(gz.body.length);
    expect(JSON.parse(gunzipSync(gz.body).toString()).action).toBe('modify');
    const refused = await rawPost(h.url, body, { 'accept-encoding': 'gzip;q=0' });
    expect(refused.headers['content-encoding']).toBeUndefined();
    const plain = await rawPost(h.url, body, {});
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
    const off = await startHookServer({ hookGzipResponse: false, hookPoolSize: 1 });
    try {
      const r = await rawPost(off.url, body, { 'accept-encoding': 'gzip' });
      expect(r.headers['content-encoding']).toBeUndefined();
      expect(JSON.parse(r.body.toString()).action).toBe('modify');
    } finally {
      await off.close();
    }
  });

  it('coding and Accept-Encoding parsing', () => {
    expect(normaliseCoding(undefined)).toBeNull();
    expect(normaliseCoding(' Identity ')).toBeNull();
    expect(normaliseCoding('GZIP; foo=bar')).toBe('gzip');
    expect(normaliseCoding('x-gzip')).toBe('gzip');
    expect(normaliseCoding('br')).toBe('br');
    expect(acceptsGzip('deflate, gzip')).toBe(true);
    expect(acceptsGzip('*')).toBe(true);
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('br')).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
  });
});

describe('hook read errors', () => {
  it('a client that goes away mid-body -> read_error outcome', async () => {
    const before = h.outcomes.length;
    const u = new URL(h.url);
    await new Promise<void>((resolve) => {
      const req = request({ host: u.hostname, port: u.port, path: '/', method: 'POST', headers: { 'content-length': '100000' } });
      req.on('error', () => resolve());
      req.write('{"request_body":');
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
    const [o] = (await h.waitForOutcomes(before + 1)).slice(before);
    expect(o!.ext.hook!.outcome).toBe('read_error');
    expect(o!.status).toBe(499);
    expect(o!.errorType).toBe('client_abort');
  });
});
