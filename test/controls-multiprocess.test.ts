/** Two proxy processes (real child processes, built package) sharing one budget store. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateRequest, reservationFor } from '../src/capabilities/controls/estimate.js';
import { MockUpstream } from '../src/mock/upstream.js';
import { until } from './helpers/controls.js';
import { FAKE_ANTHROPIC_KEY } from './helpers/harness.js';
import { anthropicHeaders, type RawResponse, send } from './helpers/http.js';
import { UpstreamGate } from './helpers/upstream-gate.js';

type Json = Record<string, any>;

const CHILD = resolve('test/fixtures/stats-child.mjs');
const MODEL = 'claude-sonnet-4-6';
const body = JSON.stringify({ model: MODEL, max_tokens: 300, messages: [{ role: 'user', content: 'Explain the failing test.' }] });
const reservation = reservationFor('anthropic', MODEL, estimateRequest('messages', JSON.parse(body) as Json, 4096));

interface Child {
  proc: ChildProcess;
  url: string;
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
        res(m[1]!);
      }
    };
    proc.stdout!.on('data', check);
    void exited.then((code) => rej(new Error(`child exited (${code}) before it was ready:\n${out}`)));
  });
  return { proc, url, exited };
}

describe('budget shared by two processes', () => {
  let mock: MockUpstream;
  let gate: UpstreamGate;
  let dir: string;
  const children: Child[] = [];

  beforeAll(async () => {
    mock = new MockUpstream();
    await mock.start();
    gate = new UpstreamGate(mock.url);
    await gate.start();
    dir = mkdtempSync(join(tmpdir(), 'headroom-budget-mp-'));
    const config = { budget: 10.5 * reservation, workspaceDir: dir, anthropicApiUrl: gate.url, logLevel: 'warn' };
    children.push(await startChild(config), await startChild(config));
  });
  afterAll(async () => {
    for (const c of children) {
      c.proc.kill('SIGTERM');
      await c.exited;
    }
    await gate.stop();
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('50 concurrent requests across both: exactly 10 admitted, spend within the limit, both report it', async () => {
    let refused = 0;
    const pending = Array.from({ length: 50 }, (_, i) =>
      send(`${children[i % 2]!.url}/v1/messages`, { body, headers: anthropicHeaders(FAKE_ANTHROPIC_KEY) }).then((r: RawResponse) => {
        if (r.status === 429) refused++;
        return r;
      }),
    );
    await until(() => gate.held + refused === 50, 'every request held upstream or refused', 30_000);
    expect(gate.held).toBe(10);
    gate.open();
    const responses = await Promise.all(pending);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(10);
    expect(refused).toBe(40);
    for (const r of responses.filter((x) => x.status === 429)) expect(r.json<Json>().error.type).toBe('budget_exceeded');

    const read = async (c: Child): Promise<Json> => (await send(`${c.url}/stats`)).json<Json>();
    let a: Json = {};
    let b: Json = {};
    // each /stats writes its own process's settled spend: read until both have written everything
    for (let i = 0; i < 200; i++) {
      b = await read(children[1]!);
      a = await read(children[0]!);
      if (a.requests.total + b.requests.total === 50 && a.budget.reserved_usd === 0 && b.budget.reserved_usd === 0) {
        b = await read(children[1]!);
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(a.requests.total + b.requests.total).toBe(50);
    expect(a.budget.rejected_requests.total + b.budget.rejected_requests.total).toBe(40);
    expect(a.budget.spent_usd).toBeCloseTo(a.cost.total_cost_usd + b.cost.total_cost_usd, 3);
    expect(b.budget.spent_usd).toBeCloseTo(a.budget.spent_usd, 9);
    expect(a.budget.spent_usd).toBeGreaterThan(0);
    expect(a.budget.spent_usd).toBeLessThanOrEqual(10.5 * reservation);
  });
});
