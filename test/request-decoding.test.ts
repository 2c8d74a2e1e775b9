/**
 * Encoded request bodies: one decoder for every route, the `--max-body-bytes` cap applied to
 * the decoded size (a 1 MB gzip body that inflates to 1 GiB gets 413 at once, without the
 * proxy allocating the gigabyte or stalling), and each body decoded once per request.
 */
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MockUpstream } from '../src/mock/upstream.js';
import { type ChildProxy, startChildProxy } from './helpers/child-proxy.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { anthropicHeaders, openaiHeaders, send } from './helpers/http.js';

// Count decodes (the module is used by every route; the spy keeps its behaviour).
const decodes = vi.hoisted(() => ({ request: 0 }));
vi.mock('../src/providers/content-encoding.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../src/providers/content-encoding.js')>();
  return {
    ...m,
    decodeRequestBody: (...args: Parameters<typeof m.decodeRequestBody>) => {
      decodes.request++;
      return m.decodeRequestBody(...args);
    },
  };
});

const GiB = 1024 ** 3;

/** 1 GiB of zeros as concatenated gzip members (~1 MB on the wire). */
function gzipBomb(): Buffer {
  const member = gzipSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 });
  return Buffer.concat(Array.from({ length: GiB / (16 * 1024 * 1024) }, () => member));
}

/** A zstd frame of raw blocks (valid zstd without a compressor), optionally declaring its content size. */
function zstdRaw(data: Buffer, declare: boolean): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd])];
  if (declare) {
    const fcs = Buffer.alloc(4);
    fcs.writeUInt32LE(data.length);
    parts.push(Buffer.from([0xa0]), fcs); // single segment, 4-byte content size
  } else parts.push(Buffer.from([0x00, 0x50])); // window 2^20
  const MAX = 128 * 1024 - 1;
  for (let at = 0; at < data.length || at === 0; at += MAX) {
    const chunk = data.subarray(at, Math.min(data.length, at + MAX));
    const last = at + MAX >= data.length ? 1 : 0;
    const h = (chunk.length << 3) | last;
    parts.push(Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff]), chunk);
    if (data.length === 0) break;
  }
  return Buffer.concat(parts);
}

/** A zstd frame header claiming 2 GiB of content, with one RLE block (a lie the decoder must not allocate for). */
function zstdLiar(): Buffer {
  const fcs = Buffer.alloc(4);
  fcs.writeUInt32LE(0x7fffffff);
  const rle = (128 * 1024 - 1) << 3 | (1 << 1) | 1;
  return Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xa0]), fcs, Buffer.from([rle & 0xff, (rle >> 8) & 0xff, (rle >> 16) & 0xff, 0x20])]);
}

const MESSAGE = { model: 'claude-haiku-5-5', max_tokens: 8, messages: [{ role: 'user', content: 'hello' }] };

describe('a decompression bomb against the running proxy', () => {
  const mock = new MockUpstream({ record: true });
  let p: ChildProxy;
  beforeAll(async () => {
    await mock.start();
    p = await startChildProxy(['--anthropic-api-url', mock.url, '--openai-api-url', mock.url]);
  });
  afterAll(async () => {
    await p?.close();
    await mock.close();
  });

  it('1 MB of gzip inflating to 1 GiB: 413 in the provider shape, no stall, no gigabyte allocated', async () => {
    const bomb = gzipBomb();
    expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
    await send(`${p.url}/v1/messages`, { body: JSON.stringify(MESSAGE), headers: anthropicHeaders(FAKE_ANTHROPIC_KEY) }); // warm up
    const before = p.memory();
    const req = send(`${p.url}/v1/messages`, { body: bomb, headers: { ...anthropicHeaders(FAKE_ANTHROPIC_KEY), 'content-encoding': 'gzip' } });
    const r = await req;
    expect(r.status).toBe(413);
    expect(r.json()).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
    expect(r.json<{ error: { message: string } }>().error.message).toMatch(/exceeds the 33554432-byte limit once decoded/);
    // inflating the whole gigabyte synchronously took ~7 s and +1.9 GB here; the cap stops at 32 MiB.
    // No wall-clock bound (the machine is shared and timings are noisy): the peak-memory bound below is
    // what shows the cap held, since inflating past it would allocate the gigabyte.
    const after = p.memory();
    if (before && after) expect(after.peak - before.rss).toBeLessThan(512 * 1024 * 1024);
    expect(mock.requests.filter((q) => q.headers['content-encoding'] === 'gzip')).toHaveLength(0);
  }, 30_000);

  it('the same bomb on /v1/compress, and zstd bombs (declared or not): 413, nothing allocated', async () => {
    const c = await send(`${p.url}/v1/compress`, { body: gzipBomb(), headers: { 'content-encoding': 'gzip' } });
    expect(c.status).toBe(413);
    expect(c.json()).toMatchObject({ error: { type: 'request_too_large' } });
    const before = p.memory();
    const liar = await send(`${p.url}/v1/chat/completions`, { body: zstdLiar(), headers: { ...openaiHeaders(FAKE_OPENAI_KEY), 'content-encoding': 'zstd' } });
    expect(liar.status).toBe(413);
    expect(liar.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'request_too_large' } });
    const big = zstdRaw(Buffer.alloc(40 * 1024 * 1024, 0x20), false);
    const streamed = await send(`${p.url}/v1/chat/completions`, { body: big, headers: { ...openaiHeaders(FAKE_OPENAI_KEY), 'content-encoding': 'zstd' } });
    expect(streamed.status).toBe(413);
    const after = p.memory();
    if (before && after) expect(after.peak - before.rss).toBeLessThan(512 * 1024 * 1024);
  }, 30_000);
});

describe('encoded bodies on the proxy path', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { maxBodyBytes: 64 * 1024, budget: 100, logFile: '', logMessages: true } });
  });
  afterAll(() => h.close());

  it('gzip, deflate, br and zstd bodies are read; unmodified ones are forwarded still encoded, byte for byte', async () => {
    const json = Buffer.from(JSON.stringify(MESSAGE));
    const cases: [string, Buffer][] = [
      ['gzip', gzipSync(json)], ['deflate', deflateSync(json)], ['br', brotliCompressSync(json)],
      ['zstd', zstdRaw(json, true)], ['zstd', zstdRaw(json, false)],
    ];
    for (const [coding, body] of cases) {
      await h.reset();
      const r = await send(`${h.url}/v1/messages`, { body, headers: { ...anthropicHeaders(FAKE_ANTHROPIC_KEY), 'content-encoding': coding } });
      expect(r.status, coding + r.text).toBe(200);
      expect(h.mock.last!.body.equals(body), coding).toBe(true);
      expect(h.mock.last!.headers['content-encoding']).toBe(coding);
      const [o] = await h.waitForOutcomes(1);
      expect(o!.requestedModel).toBe('claude-haiku-5-5');
      expect(o!.bytesIn).toBe(body.length);
    }
  });

  it('each body is decoded exactly once per request, whatever stages read it', async () => {
    await h.reset();
    const before = decodes.request;
    const r = await send(`${h.url}/v1/messages`, { body: gzipSync(JSON.stringify(MESSAGE)), headers: { ...anthropicHeaders(FAKE_ANTHROPIC_KEY), 'content-encoding': 'gzip' } });
    expect(r.status).toBe(200);
    const [o] = await h.waitForOutcomes(1);
    // the log sink receives the decoded body, not the encoded one
    expect(o!.messages?.contentEncoding).toBeNull();
    expect(JSON.parse(o!.messages!.request.toString())).toEqual(MESSAGE);
    expect(decodes.request - before).toBe(1);
  });

  it('over the decoded cap -> 413; corrupt -> 400; a coding list or an unknown coding -> 415', async () => {
    await h.reset();
    const big = gzipSync(JSON.stringify({ ...MESSAGE, messages: [{ role: 'user', content: 'x'.repeat(100 * 1024) }] }));
    expect(big.length).toBeLessThan(64 * 1024);
    const over = await send(`${h.url}/v1/messages`, { body: big, headers: { ...anthropicHeaders(FAKE_ANTHROPIC_KEY), 'content-encoding': 'gzip' } });
    expect(over.status).toBe(413);
    const corrupt = await send(`${h.url}/v1/chat/completions`, { body: Buffer.from('not gzip'), headers: { ...openaiHeaders(FAKE_OPENAI_KEY), 'content-encoding': 'gzip' } });
    expect(corrupt.status).toBe(400);
    expect(corrupt.json<{ error: { message: string } }>().error.message).toMatch(/could not be decoded: invalid gzip body/);
    for (const coding of ['gzip, br', 'compress']) {
      const r = await send(`${h.url}/v1/chat/completions`, { body: gzipSync('{}'), headers: { ...openaiHeaders(FAKE_OPENAI_KEY), 'content-encoding': coding } });
      expect(r.status, coding).toBe(415);
      expect(r.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    }
    expect(h.mock.requests).toHaveLength(0);
  });
});
