/**
 * A request body sent with a Content-Encoding is decoded exactly once, however many readers
 * it has on its way (parsing, compression, CCR tool injection, the `--log-messages` record):
 * the one decoder is counted through real requests with gzip and br bodies.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { generateOutput } from '../src/mock/agent-outputs.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';

const decodes = vi.hoisted(() => ({ count: 0 }));
vi.mock('../src/providers/content-encoding.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/providers/content-encoding.js')>();
  return {
    ...real,
    decodeRequestBody: (...args: Parameters<typeof real.decodeRequestBody>) => {
      decodes.count++;
      return real.decodeRequestBody(...args);
    },
  };
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let h: Harness;
const logDir = mkdtempSync(join(tmpdir(), 'headroom-decode-'));
beforeAll(async () => {
  // the request log with bodies on: one more reader of the body
  h = await startHarness({ config: { logMessages: true, logFile: join(logDir, 'requests.jsonl') } });
});
afterAll(async () => {
  await h.close();
  rmSync(logDir, { recursive: true, force: true });
});
beforeEach(async () => {
  await h.reset();
  decodes.count = 0;
});

const LOG = generateOutput('logs_json', 30_000, 3).text;
const toolBody = (content: string) =>
  JSON.stringify({
    model: 'claude-sonnet-4-5',
    max_tokens: 100,
    tools: [{ name: 'logs', description: 'read logs', input_schema: { type: 'object', properties: {} } }],
    messages: [
      { role: 'user', content: 'why did checkout fail?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'tu', name: 'logs', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'tu', content }] },
    ],
  });
const anthropic = { 'content-type': 'application/json', 'x-api-key': FAKE_ANTHROPIC_KEY, 'anthropic-version': '2023-06-01' };

describe('the request body is decoded once', () => {
  it('gzip: parsed, compressed, given the CCR tool and logged from one decode', async () => {
    const plain = toolBody(LOG);
    const res = await fetch(`${h.url}/v1/messages`, { method: 'POST', headers: { ...anthropic, 'content-encoding': 'gzip' }, body: gzipSync(plain) });
    expect(res.status).toBe(200);
    const [o] = await h.waitForOutcomes(1);
    expect(decodes.count).toBe(1);
    // every reader saw the decoded body: it was compressed, the tool was added, and it went upstream decoded
    expect(o!.modified).toBe(true);
    expect(o!.compression.tokensSaved).toBeGreaterThan(0);
    expect(o!.ext.ccr?.toolInjected).not.toBeNull();
    expect(h.mock.last!.headers['content-encoding']).toBeUndefined();
    expect(JSON.stringify(h.mock.last!.json)).toContain('headroom_retrieve');
    expect(o!.messages?.request.toString('utf8')).toBe(plain);
    expect(o!.messages?.contentEncoding).toBeNull();
  });

  it('br, nothing to change: one decode, and the encoded bytes go upstream as sent', async () => {
    const wire = brotliCompressSync(Buffer.from(JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })));
    const res = await fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${FAKE_OPENAI_KEY}`, 'content-encoding': 'br' }, body: wire });
    expect(res.status).toBe(200);
    const [o] = await h.waitForOutcomes(1);
    expect(decodes.count).toBe(1);
    expect(o!.modified).toBe(false);
    expect(h.mock.last!.sha256).toBe(sha(wire));
    expect(h.mock.last!.headers['content-encoding']).toBe('br');
  });

  it('a streaming request and POST /v1/compress: one decode each', async () => {
    const stream = await fetch(`${h.url}/v1/messages`, { method: 'POST', headers: { ...anthropic, 'content-encoding': 'br' }, body: brotliCompressSync(JSON.stringify({ ...JSON.parse(toolBody(LOG)), stream: true })) });
    expect(stream.status).toBe(200);
    await stream.text();
    await h.waitForOutcomes(1);
    expect(decodes.count).toBe(1);
    const res = await fetch(`${h.url}/v1/compress`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync(JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: LOG }] })) });
    expect(res.status).toBe(200);
    const [, c] = await h.waitForOutcomes(2);
    expect(c!.kind).toBe('compress');
    expect(decodes.count).toBe(2);
  });
});
