import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { configWith } from '../src/config/index.js';
import { MockUpstream } from '../src/mock/upstream.js';
import { openStatsStore } from '../src/capabilities/stats/store/open.js';
import { FAKE_ANTHROPIC_KEY } from './helpers/harness.js';

type Json = Record<string, any>;

const CHILD = resolve('test/fixtures/stats-child.mjs');
const BIG = 'compile ok; test ok; lint ok; '.repeat(200);

interface Child {
  proc: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

async function startChild(config: Record<string, unknown>): Promise<Child> {
  if (!existsSync(resolve('dist/index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  const proc = spawn(process.execPath, [CHILD], { env: { ...process.env, CHILD_CONFIG: JSON.stringify(config) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`child did not start:\n${out}`)), 15_000);
    const check = () => {
      const m = /^READY (\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        proc.stdout!.off('data', check);
        res(m[1]!);
      }
    };
    proc.stdout!.on('data', check);
    void exited.then((code) => rej(new Error(`child exited (${code}) before it was ready:\n${out}`)));
  });
  return { proc, url, output: () => out, exited };
}

/** Waits (bounded) until `fn` is true; the bound is a safety net, not a timing assertion. */
async function until(fn: () => boolean, what: string, maxMs = 15_000): Promise<void> {
  const end = Date.now() + maxMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function lifetimeRequests(path: string): number {
  if (!existsSync(path)) return 0;
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare("SELECT requests FROM totals WHERE scope = 'lifetime'").get() as { requests: number } | undefined)?.requests ?? 0;
  } catch {
    return 0;
  } finally {
    db.close();
  }
}

async function drive(url: string, n: number, concurrency: number, tag: string): Promise<void> {
  const client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: url, maxRetries: 0 });
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      const i = next++;
      await client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 8, messages: [{ role: 'user', content: i % 2 ? `${tag} ${i}\n${BIG}` : `${tag} ${i}` }] });
    }
  }));
}

let mock: MockUpstream;
let dir: string;
const children: Child[] = [];

beforeAll(async () => {
  mock = new MockUpstream({ record: false });
  await mock.start();
});
afterAll(() => mock.close());
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'headroom-mp-'));
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await c.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

const quiet = pino({ level: 'silent' });

describe('one stats store shared by several processes', () => {
  it('two proxy processes writing one store lose nothing', async () => {
    const storePath = join(dir, 'shared.sqlite');
    const config = { savingsPath: storePath, anthropicApiUrl: mock.url, openaiApiUrl: mock.url, statsFlushMs: 20, skipUpstreamCheck: true };
    const a = await startChild(config);
    const b = await startChild(config);
    children.push(a, b);
    await Promise.all([drive(a.url, 40, 4, 'a'), drive(b.url, 40, 4, 'b')]);
    const sa = (await (await fetch(`${a.url}/stats`)).json()) as Json;
    const sb = (await (await fetch(`${b.url}/stats`)).json()) as Json;
    a.proc.kill('SIGTERM');
    b.proc.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
    expect(sa.requests.total + sb.requests.total).toBe(80);

    const store = openStatsStore({ config: configWith({ savingsPath: storePath }), log: quiet });
    try {
      const life = await store.lifetime();
      expect(life.requests).toBe(80);
      expect(store.eventCount()).toBe(80);
      expect(life.tokensSaved).toBe(sa.tokens.saved + sb.tokens.saved);
      expect(life.inputTokens).toBe(sa.tokens.input + sb.tokens.input);
      expect(life.tokensSaved).toBeGreaterThan(0);
      const { points } = await store.history(1000);
      expect(points).toHaveLength(40);
      for (let i = 1; i < points.length; i++) expect(points[i]!.cumTokensSaved).toBeGreaterThan(points[i - 1]!.cumTokensSaved);
      expect(points.at(-1)!.cumTokensSaved).toBe(life.tokensSaved);
      const hourly = await store.rollups('hour');
      expect(hourly.reduce((n, r) => n + r.requests, 0)).toBe(80);
      expect(hourly.reduce((n, r) => n + r.tokensSaved, 0)).toBe(life.tokensSaved);
    } finally {
      await store.close();
    }
    for (const c of [a, b]) expect(c.output()).not.toContain('FAKEFAKEFAKEtestkey');
  });

  it('kill -9 loses at most the last flush window and leaves a usable store', async () => {
    const storePath = join(dir, 'killed.sqlite');
    const config = { savingsPath: storePath, anthropicApiUrl: mock.url, openaiApiUrl: mock.url, statsFlushMs: 250, skipUpstreamCheck: true };
    const c = await startChild(config);
    children.push(c);
    await drive(c.url, 20, 2, 'k');
    // flushed without any shutdown: everything older than one flush window is on disk
    await until(() => lifetimeRequests(storePath) === 20, 'the first 20 requests to be flushed');
    await drive(c.url, 10, 2, 'late');
    c.proc.kill('SIGKILL');
    await c.exited;

    const store = openStatsStore({ config: configWith({ savingsPath: storePath }), log: quiet });
    try {
      expect(store.health().movedAside).toBeNull();
      const life = await store.lifetime();
      expect(life.requests).toBeGreaterThanOrEqual(20);
      expect(life.requests).toBeLessThanOrEqual(30);
      // batches are atomic: the aggregates match the events that made it
      expect(store.eventCount()).toBe(life.requests);
      const hourly = await store.rollups('hour');
      expect(hourly.reduce((n, r) => n + r.requests, 0)).toBe(life.requests);
    } finally {
      await store.close();
    }
  });
});
