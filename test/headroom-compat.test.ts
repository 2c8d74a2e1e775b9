/**
 * Headroom compatibility, the rest: `/stats` fields that used to be hard-coded report the truth
 * (`summary.mode`, `litellm_available`, the `compression` block, `config`), `requests.failed`
 * and TTFB are counted as Headroom counts them, and the CLI accepts Headroom's `headroom proxy`
 * flags and variables (mapping those with an equivalent, warning once for the others).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateOutput } from '../src/mock/agent-outputs.js';
import { MockUpstream } from '../src/mock/upstream.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';

type Json = Record<string, any>;

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const LOG = generateOutput('service_log', 20_000, 3);

async function stats(url: string): Promise<Json> {
  return (await (await fetch(`${url}/stats`)).json()) as Json;
}

describe('/stats reports the truth', () => {
  let h: Harness;
  let anthropic: Anthropic;
  let openai: OpenAI;
  beforeAll(async () => {
    h = await startHarness({ config: { mode: 'cache_mode' } });
    anthropic = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
    openai = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
  });
  afterAll(() => h.close());

  it('summary.mode and compression_cache.mode are the configured mode (Headroom aliases accepted)', async () => {
    const s = await stats(h.url);
    expect(s.summary.mode).toBe('cache');
    expect(s.compression_cache).toEqual({ mode: 'cache' });
  });

  it('litellm_available says whether price data is loaded: the dollar figures are real, not zero', async () => {
    await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
    const s = await stats(h.url);
    expect(s.litellm_available).toBe(true);
    expect(s.cost.total_input_cost_usd).toBeGreaterThan(0);
  });

  it('the compression block counts the originals the CCR store holds (it was all zeros)', async () => {
    await anthropic.messages.create({
      model: 'claude-sonnet-4-5', max_tokens: 16,
      messages: [
        { role: 'user', content: 'why did the deploy fail?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'read_logs', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: LOG.text }] },
      ],
    });
    const s = await stats(h.url);
    const store = ((await (await fetch(`${h.url}/v1/retrieve/stats`)).json()) as Json).store;
    expect(s.compression.ccr_entries).toBe(1);
    expect(s.compression).toEqual({
      ccr_entries: store.entry_count,
      ccr_max_entries: store.max_entries,
      original_tokens_cached: store.total_original_tokens,
      compressed_tokens_cached: store.total_compressed_tokens,
      ccr_retrievals: 0,
    });
    expect(s.compression.original_tokens_cached).toBeGreaterThan(s.compression.compressed_tokens_cached);
  });

  it('config (loopback) reports the minimum size and item cap that apply, not null', async () => {
    const s = await stats(h.url);
    expect(s.config.min_tokens_to_crush).toBe(250);
    expect(s.config.max_items_after_crush).toBe(15);
  });

  it('requests.failed counts what Headroom counts (no answer from the upstream); requests.errors counts every error', async () => {
    await h.reset();
    await (await fetch(`${h.url}/stats/reset`, { method: 'POST' })).text();
    await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-mock-scenario': 'status:500' } }).catch(() => undefined);
    await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-mock-scenario': 'reset-before-headers' } }).catch(() => undefined);
    await h.waitForOutcomes(2);
    const s = await stats(h.url);
    expect(s.requests.total).toBe(2);
    expect(s.requests.failed).toBe(1);
    expect(s.requests.errors).toBe(2);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/^headroom_requests_failed_total 1$/m);
  });

  it('TTFB is sampled for streamed requests only', async () => {
    await h.reset();
    await (await fetch(`${h.url}/stats/reset`, { method: 'POST' })).text();
    await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] });
    const stream = anthropic.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] });
    await stream.finalMessage();
    await h.waitForOutcomes(2);
    const s = await stats(h.url);
    expect(s.latency.total_requests).toBe(2);
    expect(s.ttfb.samples).toBe(1);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/^headroom_ttfb_ms_count 1$/m);
  });
});

interface Started {
  url: string;
  lines: Json[];
  stop(): Promise<number | null>;
}

/** `headroom-ts proxy <args>` as a child process (stdout is a pipe: JSON logs). */
function startCli(args: string[], env: NodeJS.ProcessEnv): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'proxy', '--port', '0', ...args], { env: { ...process.env, HEADROOM_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const lines: Json[] = [];
    const timer = setTimeout(() => reject(new Error(`proxy did not start:\n${out}\n${err}`)), 20_000);
    child.stderr.on('data', (d: Buffer) => void (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const done = out.split('\n');
      out = done.pop() ?? '';
      for (const l of done) {
        if (!l.trim()) continue;
        const j = JSON.parse(l) as Json;
        lines.push(j);
        const m = /listening on (http:\/\/\S+)/.exec(String(j.msg));
        if (m) {
          clearTimeout(timer);
          resolve({
            url: m[1]!, lines,
            stop: () => new Promise((r) => {
              child.once('exit', (code) => r(code));
              child.kill('SIGTERM');
            }),
          });
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`proxy exited ${code}:\n${out}\n${err}`)));
  });
}

describe('Headroom\'s `headroom proxy` flags and variables', () => {
  const mock = new MockUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'headroom-compat-cli-'));
  beforeAll(() => mock.start());
  afterAll(async () => {
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts with flags it has no equivalent for, warns once for each, and maps --mode', async () => {
    const p = await startCli(
      ['--anthropic-api-url', mock.url, '--mode', 'cache', '--workers', '4', '--limit-concurrency', '100', '--cloudcode-api-url', 'http://127.0.0.1:1',
        '--no-ccr-marker', '--backend', 'anthropic', '--no-telemetry', '--no-subscription-tracking'],
      { HEADROOM_WORKSPACE_DIR: join(dir, 'a'), HEADROOM_CORS_ORIGINS: '*' },
    );
    try {
      const warns = p.lines.filter((l) => l.level === 'warn').map((l) => String(l.msg));
      expect(warns.filter((w) => w.startsWith('--workers is a Headroom option with no equivalent'))).toHaveLength(1);
      expect(warns.some((w) => w.startsWith('--limit-concurrency is a Headroom option'))).toBe(true);
      expect(warns.some((w) => w.startsWith('--cloudcode-api-url is a Headroom option'))).toBe(true);
      expect(warns.some((w) => w.startsWith('--no-ccr-marker is a Headroom option'))).toBe(true);
      expect(warns.some((w) => w.startsWith('HEADROOM_CORS_ORIGINS is a Headroom variable'))).toBe(true);
      // asking for what headroom-ts does anyway is not warned about
      expect(warns.some((w) => /--backend|telemetry|subscription/.test(w))).toBe(false);
      expect((await stats(p.url)).summary.mode).toBe('cache');
    } finally {
      expect(await p.stop()).toBe(0);
    }
  });

  it('HEADROOM_* variables: Headroom ones are mapped, a typo is warned about once with the closest name', async () => {
    const p = await startCli([], {
      HEADROOM_WORKSPACE_DIR: join(dir, 'b'), ANTHROPIC_TARGET_API_URL: mock.url, HEADROOM_MODE: 'cost_savings', HEADROOM_WORKERS: '2',
      HEADROOM_OPTIMISE: 'false', HEADROOM_BASE_URL: 'http://127.0.0.1:8787',
    });
    try {
      const warns = p.lines.filter((l) => l.level === 'warn').map((l) => String(l.msg));
      expect(warns.filter((w) => w.startsWith('HEADROOM_OPTIMISE'))).toEqual(['HEADROOM_OPTIMISE is not a headroom-ts or Headroom variable and is ignored; did you mean HEADROOM_OPTIMIZE?']);
      expect(warns.filter((w) => w.startsWith('HEADROOM_WORKERS'))).toHaveLength(1);
      // a client-side variable (the SDKs' base URL) is not a typo
      expect(warns.some((w) => w.includes('HEADROOM_BASE_URL'))).toBe(false);
      expect((await stats(p.url)).summary.mode).toBe('cache');
    } finally {
      expect(await p.stop()).toBe(0);
    }
  });
});
