/**
 * withHeadroom() around the official SDK clients, talking straight to the mock upstream (no
 * proxy): messages are compressed before they are sent, responses and streams reach the
 * caller unchanged, and every call is recorded with the provider's usage. Then the metrics API
 * (getStats, getMetrics, getSummary, validateSetup) over those calls.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findMarkers, HeadroomClient, withHeadroom } from '../src/index.js';
import { generateOutput } from '../src/mock/agent-outputs.js';
import { MockUpstream } from '../src/mock/upstream.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY } from './helpers/harness.js';

const S = generateOutput('search_json', 30_000, 51);
const L = generateOutput('build_log', 30_000, 52);

let mock: MockUpstream;
let url: string;
let dir: string;
const clients: HeadroomClient[] = [];

beforeAll(async () => {
  mock = new MockUpstream();
  url = await mock.start();
  dir = mkdtempSync(join(tmpdir(), 'headroom-sdk-'));
});
afterAll(async () => {
  for (const c of clients) c.close();
  await mock.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => mock.reset());

function headroomAt(name: string, opts: ConstructorParameters<typeof HeadroomClient>[0] = {}): HeadroomClient {
  const c = new HeadroomClient({ metricsPath: join(dir, `${name}.sqlite`), ...opts });
  clients.push(c);
  return c;
}

const anthropicMessages = (text: string): Anthropic.MessageParam[] => [
  { role: 'user', content: 'Why does the build fail?' },
  { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'build', input: {} }] },
  { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: text }] },
];
const chatMessages = (text: string): OpenAI.ChatCompletionMessageParam[] => [
  { role: 'user', content: S.query },
  { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'search', arguments: '{}' } }] },
  { role: 'tool', tool_call_id: 'call_1', content: text },
];

const sentToolText = (kind: 'anthropic' | 'chat'): string => {
  const body = mock.last!.json as { messages: Record<string, unknown>[] };
  const last = body.messages[2]!;
  return kind === 'anthropic' ? ((last.content as Record<string, unknown>[])[0]!.content as string) : (last.content as string);
};

describe('withHeadroom() with the official SDKs', () => {
  it('Anthropic messages.create: the upstream gets compressed messages, the caller the SDK response', async () => {
    const headroom = headroomAt('anthropic');
    const client = withHeadroom(new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: url, maxRetries: 0 }), { headroom });
    const msg = await client.messages.create({ model: 'claude-opus-4-6', max_tokens: 64, messages: anthropicMessages(L.text) });
    expect(msg.type).toBe('message');
    expect(msg.usage.input_tokens).toBeGreaterThan(0);
    const sent = sentToolText('anthropic');
    expect(sent.length).toBeLessThan(L.text.length / 3);
    for (const n of L.needles) expect(sent).toContain(n);
    const [hash] = findMarkers(sent).map((m) => m.hash);
    expect(headroom.retrieve(hash!)?.original).toBe(L.text);
    expect(headroom.retrieve(hash!, 'error')?.search).toBeDefined();
    const stats = await headroom.getStats();
    expect(stats.session.requests_total).toBe(1);
    expect(stats.session.tokens_saved_total).toBeGreaterThan(0);
    const u = msg.usage;
    const input = u.input_tokens + (u.cache_read_input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0);
    expect(stats.session.tokens_input_after).toBe(input); // the provider's count of what was sent
    expect(stats.session.tokens_input_before).toBe(input + stats.session.tokens_saved_total);
    expect(stats.session.tokens_output_total).toBe(u.output_tokens);
  });

  it('Anthropic messages.stream and create({stream:true}) are compressed and measured as they are read', async () => {
    const headroom = headroomAt('anthropic-stream');
    const client = withHeadroom(new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: url, maxRetries: 0 }), { headroom });
    const final = await client.messages.stream({ model: 'claude-opus-4-6', max_tokens: 64, messages: anthropicMessages(L.text) }).finalMessage();
    expect(final.content.length).toBeGreaterThan(0);
    expect(sentToolText('anthropic').length).toBeLessThan(L.text.length / 3);
    const events: string[] = [];
    const raw = await client.messages.create({ model: 'claude-opus-4-6', max_tokens: 64, stream: true, messages: anthropicMessages(L.text) });
    for await (const ev of raw) events.push(ev.type);
    expect(events[0]).toBe('message_start');
    expect(events.at(-1)).toBe('message_stop');
    const metrics = await headroom.getMetrics();
    expect(metrics).toHaveLength(2);
    for (const m of metrics) {
      expect(m).toMatchObject({ provider: 'anthropic', api: 'messages', stream: true, mode: 'optimize', error: null });
      expect(m.tokens_saved).toBeGreaterThan(0);
      expect(m.tokens_output).toBeGreaterThan(0);
      expect(m.cost_usd).toBeGreaterThan(0);
    }
    // newest first: the second call resent the same tool output, which got its first result back
    expect(metrics.map((m) => m.transforms_applied)).toEqual([['replay'], ['log_compressor']]);
  });

  it('resent history keeps the bytes it was first sent with, so the prompt cache holds across turns', async () => {
    const headroom = headroomAt('turns');
    const client = withHeadroom(new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: url, maxRetries: 0 }), { headroom });
    const turn1: Anthropic.MessageParam[] = [
      { role: 'user', content: S.query },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'search', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: S.text }] },
    ];
    await client.messages.create({ model: 'claude-opus-4-6', max_tokens: 16, messages: turn1 });
    const first = sentToolText('anthropic');
    // the next question names a row the first cut left out: re-cutting the old output for it
    // would change bytes the provider already cached
    const rows = JSON.parse(S.text) as { id: string; title: string }[];
    const missing = rows.find((r) => !first.includes(r.id))!;
    expect(missing).toBeDefined();
    const turn2: Anthropic.MessageParam[] = [
      ...turn1,
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_2', name: 'logs', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_2', content: L.text }, { type: 'text', text: `What does ${missing.id} (${missing.title}) say?` }] },
    ];
    await client.messages.create({ model: 'claude-opus-4-6', max_tokens: 16, messages: turn2 });
    expect(sentToolText('anthropic')).toBe(first);
    const sent = mock.last!.json as { messages: { content: { content?: string }[] }[] };
    expect(sent.messages[4]!.content[0]!.content!.length).toBeLessThan(L.text.length / 3);
  });

  it('the newest turn is what the client added since the model spoke: tool results followed by a question are compressed', async () => {
    const headroom = headroomAt('newest-turn');
    const client = withHeadroom(new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: url, maxRetries: 0 }), { headroom });
    const messages: Anthropic.MessageParam[] = [...anthropicMessages(L.text), { role: 'user', content: 'Which step failed first?' }];
    await client.messages.create({ model: 'claude-opus-4-6', max_tokens: 64, messages });
    const sent = sentToolText('anthropic');
    expect(sent.length).toBeLessThan(L.text.length / 3);
    for (const n of L.needles) expect(sent).toContain(n);
    expect((mock.last!.json as { messages: unknown[] }).messages[3]).toEqual(messages[3]);
  });

  it('OpenAI chat.completions.create (stream and not) and responses.create', async () => {
    const headroom = headroomAt('openai');
    const client = withHeadroom(new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${url}/v1`, maxRetries: 0 }), { headroom });
    const res = await client.chat.completions.create({ model: 'gpt-4o', messages: chatMessages(S.text) });
    expect(res.object).toBe('chat.completion');
    const sent = sentToolText('chat');
    expect(sent.length).toBeLessThan(S.text.length / 3);
    for (const n of S.needles) expect(sent).toContain(n);

    const chunks = await client.chat.completions.create({ model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, messages: chatMessages(S.text) });
    let usageChunks = 0;
    for await (const c of chunks) if (c.usage) usageChunks++;
    expect(usageChunks).toBe(1);

    const r = await client.responses.create({
      model: 'gpt-4o',
      input: [
        { role: 'user', content: S.query },
        { type: 'function_call', call_id: 'fc_1', name: 'search', arguments: '{}' },
        { type: 'function_call_output', call_id: 'fc_1', output: S.text },
      ],
    });
    expect(r.object).toBe('response');
    const input = (mock.last!.json as { input: Record<string, unknown>[] }).input;
    expect((input[2]!.output as string).length).toBeLessThan(S.text.length / 3);

    const metrics = await headroom.getMetrics();
    expect(metrics.map((m) => [m.api, m.stream])).toEqual([['responses', false], ['chat', true], ['chat', false]]);
    for (const m of metrics) {
      expect(m.tokens_saved).toBeGreaterThan(0);
      expect(m.tokens_output).toBeGreaterThan(0);
    }
  });

  it('a failed call is recorded with its error and rethrown unchanged; compression never blocks a call', async () => {
    const headroom = headroomAt('errors');
    const client = withHeadroom(new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: url, maxRetries: 0 }), { headroom });
    await expect(client.messages.create({ model: 'claude-opus-4-6', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] },
      { headers: { 'x-mock-scenario': 'status:529' } })).rejects.toBeInstanceOf(Anthropic.APIError);
    const [m] = await headroom.getMetrics();
    expect(m!.error).toMatch(/529/);
    expect(m!.cost_usd).toBeNull();
    expect((await headroom.getStats()).session.errors).toBe(1);
  });

  it('audit mode measures but sends the original messages', async () => {
    const headroom = headroomAt('audit', { mode: 'audit' });
    const client = withHeadroom(new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: url, maxRetries: 0 }), { headroom });
    await client.messages.create({ model: 'claude-opus-4-6', max_tokens: 8, messages: anthropicMessages(L.text) });
    expect(sentToolText('anthropic')).toBe(L.text);
    const [m] = await headroom.getMetrics();
    expect(m).toMatchObject({ mode: 'audit', tokens_saved: 0, compression_ratio: 1 });
  });
});

describe('HeadroomClient metrics API', () => {
  it('getMetrics filters by time and model; getSummary totals every stored call; the store outlives the client', async () => {
    const path = join(dir, 'series.sqlite');
    const first = new HeadroomClient({ metricsPath: path });
    const anthropic = first.wrap(new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: url, maxRetries: 0 }));
    const openai = first.wrap(new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${url}/v1`, maxRetries: 0 }));
    const t0 = Date.now();
    for (let i = 0; i < 3; i++) await anthropic.messages.create({ model: 'claude-opus-4-6', max_tokens: 16, messages: anthropicMessages(L.text) });
    await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: chatMessages(S.text) });
    const direct = first.compress(chatMessages(S.text), { model: 'gpt-4o-mini' });
    expect(direct.tokens_saved).toBeGreaterThan(0);
    const stats = await first.getStats();
    expect(stats.session.requests_total).toBe(5);
    expect(stats.session.compression_ratio_avg).toBeGreaterThan(0);
    expect(stats.session.compression_ratio_avg).toBeLessThan(0.5);
    expect(stats.config).toMatchObject({ mode: 'optimize', provider: null, metrics_path: path });
    first.close();

    const second = new HeadroomClient({ metricsPath: path });
    clients.push(second);
    const all = await second.getMetrics();
    expect(all).toHaveLength(5);
    expect(await second.getMetrics({ model: 'gpt-4o-mini' })).toHaveLength(2);
    expect(await second.getMetrics({ limit: 2 })).toHaveLength(2);
    expect(await second.getMetrics({ startTime: new Date(Date.now() + 60_000) })).toHaveLength(0);
    expect(await second.getMetrics({ startTime: t0 - 1, endTime: new Date().toISOString() })).toHaveLength(5);
    await expect(second.getMetrics({ startTime: 'yesterday' })).rejects.toThrow(/startTime/);
    const summary = await second.getSummary();
    const sum = (k: 'tokens_saved' | 'tokens_input_before') => all.reduce((a, m) => a + m[k], 0);
    expect(summary).toMatchObject({ total_requests: 5, total_tokens_saved: sum('tokens_saved'), total_tokens_before: sum('tokens_input_before'), errors: 0 });
    expect(summary.total_cost_saved_usd).toBeGreaterThan(0);
    expect(summary.avg_compression_ratio).toBeCloseTo(all.reduce((a, m) => a + m.compression_ratio, 0) / 5, 3);
    expect(summary.savings_percent).toBeGreaterThan(50);
  });

  it('validateSetup reports a missing provider key, an unwritable store and bad options', async () => {
    const saved = { a: process.env.ANTHROPIC_API_KEY, o: process.env.OPENAI_API_KEY };
    try {
      delete process.env.ANTHROPIC_API_KEY;
      delete process.env.OPENAI_API_KEY;
      const c = headroomAt('validate', { provider: 'anthropic' });
      const bad = await c.validateSetup();
      expect(bad.valid).toBe(false);
      expect(bad.checks).toEqual({ provider_key: false, metrics_store: true, config: true });
      expect(bad.issues.join('\n')).toMatch(/ANTHROPIC_API_KEY/);
      process.env.ANTHROPIC_API_KEY = FAKE_ANTHROPIC_KEY;
      expect(await c.validateSetup()).toEqual({ valid: true, issues: [], checks: { provider_key: true, metrics_store: true, config: true } });
      expect(() => new HeadroomClient({ metricsPath: ':memory:', compress: { target_ratio: 7 } })).toThrow(/target_ratio/);
      const notDir = join(dir, 'a-file');
      writeFileSync(notDir, 'x');
      // an unusable store never breaks calls: metrics are kept in memory and validateSetup says why
      const memoryOnly = headroomAt('unused', { metricsPath: join(notDir, 'm.sqlite'), provider: 'anthropic' });
      memoryOnly.compress([{ role: 'tool', tool_call_id: 'x', content: L.text }]);
      expect(await memoryOnly.getMetrics()).toHaveLength(1);
      const report = await memoryOnly.validateSetup();
      expect(report.checks).toEqual({ provider_key: true, metrics_store: false, config: true });
      expect(report.issues[0]).toMatch(/metrics store .*a-file.* is not writable: EEXIST|ENOTDIR/);
    } finally {
      if (saved.a === undefined) delete process.env.ANTHROPIC_API_KEY;
      else process.env.ANTHROPIC_API_KEY = saved.a;
      if (saved.o !== undefined) process.env.OPENAI_API_KEY = saved.o;
    }
  });
});
