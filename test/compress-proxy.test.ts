/**
 * Compression through the real proxy with the mock upstream: a 50-turn agent conversation
 * whose forwarded requests always extend the previous forwarded request byte for byte,
 * byte-exact forwarding of what is not compressed, fail-open, per-request modes, encoded
 * bodies, and replay decisions surviving a restart.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryReplayStore } from '../src/compress/replay.js';
import { settingsFromConfig } from '../src/capabilities/compression/plugin.js';
import { contentHash } from '../src/compress/hash.js';
import { findMarkers } from '../src/compress/markers.js';
import { generateOutput, type OutputType } from '../src/mock/agent-outputs.js';
import { proxyPlugin } from '../src/capabilities/proxy/plugin.js';
import { compressionStage } from '../src/capabilities/compression/stage.js';
import { definePlugin } from '../src/core/plugin.js';
import { healthPlugin } from '../src/capabilities/health/plugin.js';
import { messageSlices } from './helpers/bodies.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';

const TYPES: OutputType[] = ['search_json', 'service_log', 'grep', 'api_listing', 'build_log', 'diff', 'db_rows', 'logs_json', 'file_listing', 'html', 'prose'];
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Asserts that every forwarded request's messages start with the previous forwarded request's messages, byte for byte. */
function expectPrefixStable(bodies: Buffer[], key = 'messages'): void {
  for (let k = 1; k < bodies.length; k++) {
    const prev = messageSlices(bodies[k - 1]!, key);
    const cur = messageSlices(bodies[k]!, key);
    expect(cur.length, `request ${k}`).toBeGreaterThan(prev.length);
    for (let i = 0; i < prev.length; i++) {
      if (!cur[i]!.equals(prev[i]!)) throw new Error(`request ${k}: message ${i} differs from the previous forwarded request`);
    }
  }
}

describe('prefix stability over a 50-turn agent conversation', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('Anthropic Messages (official SDK): history is replayed byte for byte, the newest turn compressed', async () => {
    const client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
    const system: Anthropic.TextBlockParam[] = [{ type: 'text', text: 'You are a careful coding agent. '.repeat(80), cache_control: { type: 'ephemeral' } }];
    const tools: Anthropic.Tool[] = [{ name: 'run', description: 'Run a shell command', input_schema: { type: 'object', properties: { cmd: { type: 'string' } } } }];
    const messages: Anthropic.MessageParam[] = [];
    let outputs = 0;
    for (let k = 0; k < 50; k++) {
      const last = messages[messages.length - 1];
      const call = last?.role === 'assistant' && Array.isArray(last.content) ? last.content.find((b): b is Anthropic.ToolUseBlockParam => b.type === 'tool_use') : undefined;
      if (call) {
        const s = generateOutput(TYPES[outputs % TYPES.length]!, 8_000 + (outputs % 5) * 6_000, 100 + outputs);
        outputs++;
        messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: s.text }] });
      } else {
        messages.push({ role: 'user', content: `Step ${k}: ${generateOutput(TYPES[outputs % TYPES.length]!, 1000, 7).query}` });
      }
      const reply = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 512, system, tools, messages });
      messages.push({ role: 'assistant', content: reply.content });
    }
    const outcomes = await h.waitForOutcomes(50);
    expect(h.mock.requests).toHaveLength(50);
    expectPrefixStable(h.mock.requests.map((r) => r.body));

    const toolTurns = outcomes.filter((o) => o.tools.results > 0);
    expect(toolTurns).toHaveLength(25);
    const compressed = toolTurns.filter((o) => o.compression.tokensSaved > 0 && o.modified);
    expect(compressed.length).toBeGreaterThanOrEqual(20);
    for (const o of outcomes) {
      expect(o.ok).toBe(true);
      expect(o.compression.mode).toBe('optimize');
      expect(o.compression.error).toBeNull();
      expect(o.compression.tokensAfter).toBe(o.compression.tokensBefore - o.compression.tokensSaved);
    }
    // later turns re-save the compressed history through replay
    const lastOutcome = outcomes[49]!;
    expect(lastOutcome.compression.transforms).toContain('replay');
    expect(lastOutcome.compression.tokensSaved).toBeGreaterThan(compressed[0]!.compression.tokensSaved);
    // lossy cuts in the newest turn carry markers whose hash is that of the client's tool output
    let marked = 0;
    for (const r of h.mock.requests) {
      const fwd = r.json as { messages: { content: unknown }[] };
      const newest = fwd.messages[fwd.messages.length - 1]!.content;
      if (!Array.isArray(newest)) continue;
      const text = newest[0].content as string;
      const found = findMarkers(text);
      if (!found.length) continue;
      marked++;
      const index = fwd.messages.length - 1;
      const original = ((messages[index]!.content as Anthropic.ToolResultBlockParam[])[0]!.content) as string;
      expect(found[0]!.hash).toBe(contentHash(original));
    }
    expect(marked).toBeGreaterThanOrEqual(12);
    expect(outcomes[1]!.compression.newInputTokens).toBeGreaterThan(outcomes[1]!.compression.tokensSaved);
    // the system prompt (and its cache breakpoint) is read from cache after the first turn
    expect(outcomes[49]!.usage!.cacheRead).toBeGreaterThan(0);
  });

  it('OpenAI Chat (official SDK): history replayed, and the provider prefix cache keeps hitting', async () => {
    h.mock.reset();
    h.outcomes.length = 0;
    const client = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'run', description: 'Run', parameters: { type: 'object', properties: {} } } }];
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'system', content: 'You are an agent.' }];
    let outputs = 0;
    for (let k = 0; k < 50; k++) {
      const last = messages[messages.length - 1] as OpenAI.ChatCompletionMessageParam;
      const calls = last.role === 'assistant' ? last.tool_calls ?? [] : [];
      if (calls.length) {
        for (const c of calls) {
          const s = generateOutput(TYPES[outputs % TYPES.length]!, 10_000 + (outputs % 4) * 5_000, 500 + outputs);
          outputs++;
          messages.push({ role: 'tool', tool_call_id: c.id, content: s.text });
        }
      } else messages.push({ role: 'user', content: `Step ${k}: what is the status?` });
      const reply = await client.chat.completions.create({ model: 'gpt-4o', messages, tools });
      messages.push(reply.choices[0]!.message as OpenAI.ChatCompletionMessageParam);
    }
    const outcomes = await h.waitForOutcomes(50);
    expectPrefixStable(h.mock.requests.map((r) => r.body));
    expect(outcomes.filter((o) => o.compression.tokensSaved > 0).length).toBeGreaterThanOrEqual(40);
    // cached prompt tokens keep growing with the (compressed, replayed) history
    const cached = outcomes.map((o) => o.usage?.cacheRead ?? 0);
    expect(cached[49]).toBeGreaterThan(cached[20]!);
    expect(cached.slice(10).every((c) => c > 0)).toBe(true);
  });
});

describe('compression stage on the proxy path', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.mock.reset();
    h.outcomes.length = 0;
  });

  const toolBody = (content: string) => JSON.stringify({
    model: 'claude-sonnet-4-5',
    max_tokens: 100,
    messages: [
      { role: 'user', content: 'why did checkout fail?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'tu', name: 'logs', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'tu', content }] },
    ],
  });
  const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
    fetch(`${h.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': FAKE_ANTHROPIC_KEY, 'anthropic-version': '2023-06-01', ...headers }, body });
  const LOG = generateOutput('logs_json', 30_000, 3);

  it('forwards a request with nothing to compress byte for byte', async () => {
    const body = `{"model":"claude-sonnet-4-5",  "max_tokens":10,"messages":[{"role":"user","content":"hi \\u00e9 1.0"}]}`;
    const res = await post(body);
    expect(res.status).toBe(200);
    const [o] = await h.waitForOutcomes(1);
    expect(h.mock.last!.sha256).toBe(sha(Buffer.from(body)));
    expect(o!.modified).toBe(false);
    expect(o!.compression).toMatchObject({ mode: 'optimize', tokensSaved: 0, error: null });
    expect(o!.compression.tokensBefore).toBeGreaterThan(0);
    expect(o!.compression.timingsMs.pipeline_total).toBeGreaterThanOrEqual(0);
  });

  it('compresses the newest tool result and records it in the outcome', async () => {
    const res = await post(toolBody(LOG.text));
    expect(res.status).toBe(200);
    const [o] = await h.waitForOutcomes(1);
    const fwd = JSON.parse(h.mock.last!.body.toString());
    const content = fwd.messages[2].content[0].content as string;
    for (const n of LOG.needles) expect(content).toContain(n);
    expect(o!.modified).toBe(true);
    expect(o!.compression.transforms).toEqual(['json_crusher']);
    expect(o!.compression.tokensSaved).toBeGreaterThan(o!.compression.tokensBefore * 0.5);
    expect(o!.compression.potentialTokensSaved).toBe(o!.compression.tokensSaved);
    expect(o!.compression.savedByTransform).toEqual({ json_crusher: o!.compression.tokensSaved });
    expect(o!.compression.timingsMs.json_crusher).toBeGreaterThan(0);
    expect(o!.compression.timingsMs.pipeline_total).toBeGreaterThanOrEqual(o!.compression.timingsMs.json_crusher!);
    expect(Number(h.mock.last!.headers['content-length'])).toBe(h.mock.last!.body.length);
    // /stats times transforms only: the run's total and its internal steps (`_scan`, ...) are not transforms
    const stats = (await (await fetch(`${h.url}/stats`)).json()) as { pipeline_timing: Record<string, unknown> };
    expect(Object.keys(stats.pipeline_timing)).toEqual(['json_crusher']);
  });

  it('bypass and passthrough headers forward the original; audit measures without changing anything', async () => {
    const body = toolBody(LOG.text);
    await post(body, { 'x-headroom-bypass': 'true' });
    await post(body, { 'x-headroom-mode': 'passthrough' });
    await post(body, { 'x-headroom-mode': 'audit' });
    const [b, p, a] = await h.waitForOutcomes(3);
    for (const r of h.mock.requests) {
      expect(r.sha256).toBe(sha(Buffer.from(body)));
      expect(r.headers['x-headroom-mode']).toBeUndefined();
    }
    expect(b!.compression.mode).toBe('bypass');
    expect(p!.compression.mode).toBe('passthrough');
    expect(a!.compression.mode).toBe('audit');
    expect(a!.compression.tokensSaved).toBe(0);
    expect(a!.compression.potentialTokensSaved).toBeGreaterThan(0);
    expect(a!.modified).toBe(false);
  });

  it('decodes a gzip body, compresses it and forwards it without the encoding', async () => {
    const res = await post(gzipSync(Buffer.from(toolBody(LOG.text))), { 'content-encoding': 'gzip' });
    expect(res.status).toBe(200);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.modified).toBe(true);
    expect(h.mock.last!.headers['content-encoding']).toBeUndefined();
    expect(h.mock.last!.json).not.toBeNull();
  });

  it('count_tokens counts what will be sent, without taking decisions for later turns', async () => {
    const fresh = generateOutput('logs_json', 30_000, 77).text;
    const res = await fetch(`${h.url}/v1/messages/count_tokens`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': FAKE_ANTHROPIC_KEY, 'anthropic-version': '2023-06-01' }, body: toolBody(fresh) });
    expect(res.status).toBe(200);
    await post(toolBody(fresh));
    const [count, msg] = await h.waitForOutcomes(2);
    expect(count!.api).toBe('count_tokens');
    expect(count!.modified).toBe(true);
    // nothing is billed for a count: the saving is reported by the request that follows
    expect(count!.compression).toMatchObject({ tokensSaved: 0, tokensBefore: count!.compression.tokensAfter });
    expect(count!.compression.potentialTokensSaved).toBe(msg!.compression.tokensSaved);
    expect(msg!.compression.transforms).toEqual(['json_crusher']);
    expect(h.mock.requests[0]!.json!.messages).toEqual(h.mock.requests[1]!.json!.messages);
  });

  it('works for streaming requests (the stream itself is relayed untouched)', async () => {
    const client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
    const stream = client.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 64, messages: JSON.parse(toolBody(LOG.text)).messages });
    const final = await stream.finalMessage();
    expect(final.content[0]!.type).toBe('text');
    const [o] = await h.waitForOutcomes(1);
    expect(o!.stream).toBe(true);
    expect(o!.compression.tokensSaved).toBeGreaterThan(0);
  });
});

describe('fail open and configuration', () => {
  let h: Harness | null = null;
  afterEach(async () => {
    await h?.close();
    h = null;
  });
  const body = JSON.stringify({
    model: 'gpt-4o',
    messages: [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'logs', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c', content: generateOutput('service_log', 20_000, 4).text },
    ],
  });
  const post = (url: string) => fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${FAKE_OPENAI_KEY}` }, body });

  it('any failure inside compression forwards the original bytes and records the error', async () => {
    const broken = new MemoryReplayStore({ ttlMs: 3_600_000, maxBytes: 1 << 20 });
    broken.get = () => {
      throw new Error('replay map unavailable');
    };
    const failing = definePlugin({
      name: 'failing-compression',
      needs: ['proxy'],
      setup({ app, need }) {
        need('proxy').addStage(compressionStage({ config: app.config, log: app.log, settings: settingsFromConfig(app.config), replay: broken, originals: () => undefined }));
      },
    });
    h = await startHarness({ plugins: [healthPlugin, failing, proxyPlugin] });
    const res = await post(h.url);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { choices: { message: unknown }[] }).choices[0]!.message).toBeDefined();
    const [o] = await h.waitForOutcomes(1);
    expect(h.mock.last!.sha256).toBe(sha(Buffer.from(body)));
    expect(o!.ok).toBe(true);
    expect(o!.errorType).toBeNull();
    expect(o!.modified).toBe(false);
    expect(o!.compression.error).toBe('replay map unavailable');
    expect(h.logs.some((l) => l.includes('compression failed; forwarding the request unchanged'))).toBe(true);
  });

  it('--no-optimize forwards everything unchanged', async () => {
    h = await startHarness({ config: { optimize: false } });
    await post(h.url);
    const [o] = await h.waitForOutcomes(1);
    expect(h.mock.last!.sha256).toBe(sha(Buffer.from(body)));
    expect(o!.compression.mode).toBe('off');
  });

  it('replay decisions survive a restart (SQLite in the workspace directory)', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'headroom-ws-'));
    try {
      const S = generateOutput('search_json', 30_000, 8);
      const turn1 = [
        { role: 'user', content: S.query },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'search', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: S.text },
      ];
      const send = (url: string, messages: unknown[]) => fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${FAKE_OPENAI_KEY}` }, body: JSON.stringify({ model: 'gpt-4o', messages }) });
      h = await startHarness({ config: { workspaceDir: workspace } });
      await send(h.url, turn1);
      const first = messageSlices(h.mock.last!.body);
      await h.close();
      h = await startHarness({ config: { workspaceDir: workspace } });
      await send(h.url, [...turn1, { role: 'assistant', content: 'Found it.' }, { role: 'user', content: 'thanks' }]);
      const second = messageSlices(h.mock.last!.body);
      expect(second[2]!.equals(first[2]!)).toBe(true);
      const [o] = await h.waitForOutcomes(1);
      expect(o!.compression.transforms).toEqual(['replay']);
    } finally {
      rmSync(workspace, { recursive: true, force: true });
    }
  });
});
