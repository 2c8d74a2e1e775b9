import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { definePlugin } from '../src/core/plugin.js';
import { defaultPlugins } from '../src/compose/proxy.js';
import { RotatingJsonlFile } from '../src/capabilities/stats/log-file.js';
import pino from 'pino';
import { fakeCompressorPlugin } from './helpers/fake-compressor.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';

type Json = Record<string, any>;

const HEADROOM_FIELDS = [
  'request_id', 'timestamp', 'provider', 'model', 'input_tokens_original', 'input_tokens_optimized', 'output_tokens', 'tokens_saved',
  'savings_percent', 'optimization_latency_ms', 'total_latency_ms', 'tags', 'cache_hit', 'transforms_applied', 'waste_signals',
];
const BIG = 'build step ok; '.repeat(400);

let dir: string;
let h: Harness | null = null;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'headroom-logs-'));
});
afterEach(async () => {
  await h?.close();
  h = null;
  rmSync(dir, { recursive: true, force: true });
});

const readLines = (path: string): Json[] => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Json);

describe('--log-file', () => {
  it('writes one JSONL record per request with Headroom\'s field names, in order', async () => {
    const logFile = join(dir, 'requests.jsonl');
    h = await startHarness({ config: { logFile }, plugins: [...defaultPlugins(), fakeCompressorPlugin] });
    const client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
    await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: BIG }] }, { headers: { 'x-headroom-project': 'web' } });
    const openai = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
    await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    await h.waitForOutcomes(2);
    await h.app.close();
    const [a, b] = readLines(logFile);
    expect(Object.keys(a!).slice(0, HEADROOM_FIELDS.length)).toEqual(HEADROOM_FIELDS);
    expect(Object.keys(a!)).not.toContain('request_messages');
    expect(a).toMatchObject({ provider: 'anthropic', model: 'claude-sonnet-4-5', transforms_applied: ['log_compressor'], error: null, turn_id: null });
    expect(a!.tokens_saved).toBeGreaterThan(0);
    expect(a!.input_tokens_original).toBe(a!.input_tokens_optimized + a!.tokens_saved);
    expect(a!.savings_percent).toBeCloseTo((a!.tokens_saved / a!.input_tokens_original) * 100, 8);
    expect(a!.tags).toMatchObject({ project: 'web', client: 'anthropic-sdk-js' });
    expect(a!.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    expect(b).toMatchObject({ provider: 'openai', model: 'gpt-4o', tokens_saved: 0 });
    expect(a!.request_id).toBe(h.outcomes[0]!.requestId);
  });

  it('--log-messages adds the messages as received and as forwarded', async () => {
    const logFile = join(dir, 'requests.jsonl');
    h = await startHarness({ config: { logFile, logMessages: true }, plugins: [...defaultPlugins(), fakeCompressorPlugin] });
    const client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
    await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: BIG }] });
    await h.waitForOutcomes(1);
    await h.app.close();
    const [r] = readLines(logFile);
    const keys = Object.keys(r!);
    expect(keys.slice(HEADROOM_FIELDS.length, HEADROOM_FIELDS.length + 5)).toEqual(['request_messages', 'compressed_messages', 'response_content', 'error', 'turn_id']);
    expect(r!.request_messages).toEqual([{ role: 'user', content: BIG }]);
    expect(r!.compressed_messages[0].content).toMatch(/\[compressed\]$/);
    expect(r!.turn_id).toMatch(/^[0-9a-f]{16}$/);
  });

  it('rotates by size and keeps the configured number of generations', async () => {
    const logFile = join(dir, 'rotating.jsonl');
    h = await startHarness({ config: { logFile, logFileMaxBytes: 1024, logFileBackups: 2 } });
    const client = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
    for (let i = 0; i < 12; i++) await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: `n${i}` }] });
    await h.waitForOutcomes(12);
    await h.app.close();
    expect(existsSync(`${logFile}.1`)).toBe(true);
    expect(existsSync(`${logFile}.2`)).toBe(true);
    expect(existsSync(`${logFile}.3`)).toBe(false);
    for (const f of [logFile, `${logFile}.1`, `${logFile}.2`]) expect(readFileSync(f).length).toBeLessThanOrEqual(1024);
    const current = readLines(logFile);
    expect(current.at(-1)!.request_id).toBe(h.outcomes[11]!.requestId);
    const ids = [...readLines(`${logFile}.2`), ...readLines(`${logFile}.1`), ...current].map((r) => r.request_id);
    expect(ids).toEqual(h.outcomes.slice(12 - ids.length).map((o) => o.requestId));
  });

  it('a burst of long lines rotates cleanly: every generation within the limit, nothing lost or reordered', async () => {
    const logFile = join(dir, 'burst.jsonl');
    const file = new RotatingJsonlFile(logFile, 200, 3, pino({ level: 'silent' }));
    // written in one tick, as a batch of outcomes is: each line forces a rotation
    for (let i = 0; i < 6; i++) file.write(JSON.stringify({ n: i, pad: 'x'.repeat(120) }));
    await file.close();
    const files = [`${logFile}.3`, `${logFile}.2`, `${logFile}.1`, logFile];
    for (const f of files) expect(readFileSync(f).length).toBeLessThanOrEqual(200);
    expect(files.flatMap((f) => readLines(f)).map((r) => r.n)).toEqual([2, 3, 4, 5]);
  });

  it('is off in stateless mode', async () => {
    const logFile = join(dir, 'stateless.jsonl');
    h = await startHarness({ config: { logFile, stateless: true } });
    const client = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
    await h.waitForOutcomes(1);
    await h.app.close();
    expect(existsSync(logFile)).toBe(false);
    expect(h.logs.some((l) => l.includes('ignored in stateless mode'))).toBe(true);
  });
});

describe('correlation ids', () => {
  it('every log line written while handling a request carries that request\'s id, under concurrency', async () => {
    const probe = definePlugin({
      name: 'probe',
      needs: ['proxy'],
      setup({ app, need }) {
        need('proxy').addStage({
          name: 'probe',
          async beforeUpstream(ex) {
            const marker = String(((ex.json?.messages as Json[])[0] as Json).content);
            app.log.info({ marker, phase: 'before' }, 'probe');
            await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 20)));
            app.log.info({ marker, phase: 'after' }, 'probe');
          },
        });
      },
    });
    h = await startHarness({ plugins: [...defaultPlugins(), probe], mock: { latencyMs: 5 } });
    const client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
    const results = await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const { response } = await client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 8, messages: [{ role: 'user', content: `m${i}` }] }).withResponse();
        return [`m${i}`, response.headers.get('x-headroom-request-id')] as const;
      }),
    );
    await h.waitForOutcomes(24);
    const idOf = new Map(results);
    const probes = h.logs.map((l) => JSON.parse(l) as Json).filter((l) => l.msg === 'probe');
    expect(probes).toHaveLength(48);
    for (const line of probes) expect(line.request_id).toBe(idOf.get(line.marker));
    const requestLines = h.logs.map((l) => JSON.parse(l) as Json).filter((l) => l.msg === 'request');
    expect(new Set(requestLines.map((l) => l.request_id))).toEqual(new Set(idOf.values()));
  });
});

describe('secret redaction', () => {
  it('no fake key appears in stdout logs, the log file, /stats, /stats-history, /metrics or /health', async () => {
    const logFile = join(dir, 'requests.jsonl');
    h = await startHarness({ config: { logFile, logMessages: true } });
    const anthropic = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
    const openai = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const leak = { 'x-headroom-note': `Bearer ${FAKE_OPENAI_KEY}`, 'x-headroom-key': FAKE_ANTHROPIC_KEY };
    await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content: `my key is ${FAKE_ANTHROPIC_KEY}` }] }, { headers: leak });
    await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: `use ${FAKE_OPENAI_KEY}` }] }, { headers: leak });
    h.mock.enqueue('status:401');
    await expect(openai.chat.completions.create({ model: FAKE_OPENAI_KEY, messages: [{ role: 'user', content: 'x' }] })).rejects.toThrow();
    await h.waitForOutcomes(3);
    const outputs = [
      await (await fetch(`${h.url}/stats`)).text(),
      await (await fetch(`${h.url}/stats-history?history_mode=full`)).text(),
      await (await fetch(`${h.url}/metrics`)).text(),
      await (await fetch(`${h.url}/health`)).text(),
    ];
    await h.app.close();
    outputs.push(h.logs.join(''), readFileSync(logFile, 'utf8'));
    // the outputs did record the requests (a vacuous pass would hide nothing)
    expect(outputs[5]).toContain('my key is sk-***');
    expect(outputs[0]).toContain('"note":"Bearer sk-***"');
    for (const text of outputs) {
      expect(text).not.toContain(FAKE_ANTHROPIC_KEY);
      expect(text).not.toContain(FAKE_OPENAI_KEY);
      expect(text).not.toContain('FAKEFAKEFAKEtestkey');
    }
  });
});
