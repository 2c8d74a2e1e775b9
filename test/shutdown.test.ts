/**
 * Graceful shutdown of the built CLI proxy (its own process) with a slow stream in flight:
 * SIGTERM turns readiness off and refuses new requests, lets the stream finish within
 * `--shutdown-grace-seconds`, ends a stream that outlives it with the provider's SSE error
 * event (recorded as `shutdown`, not a client abort), and exits 0. The grace period is given
 * through the environment.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MockUpstream } from '../src/mock/upstream.js';
import { type ChildProxy, startChildProxy } from './helpers/child-proxy.js';
import { FAKE_ANTHROPIC_KEY } from './helpers/harness.js';
import { anthropicHeaders, send } from './helpers/http.js';

type Json = Record<string, any>;

const mock = new MockUpstream();
const workspace = mkdtempSync(join(tmpdir(), 'headroom-shutdown-'));
let proxy: ChildProxy | null = null;

beforeAll(() => mock.start());
afterEach(() => {
  if (proxy && proxy.child.exitCode === null && proxy.child.signalCode === null) proxy.child.kill('SIGKILL');
  proxy = null;
});
afterAll(async () => {
  await mock.close();
  rmSync(workspace, { recursive: true, force: true });
});

const start = (graceSeconds: number) =>
  startChildProxy(['--anthropic-api-url', mock.url, '--workspace-dir', workspace, '--skip-upstream-check'], { HEADROOM_SHUTDOWN_GRACE_SECONDS: String(graceSeconds) });

/** Opens a stream that sends one frame every `dripMs`; resolves once its first event arrived, with the rest to come. */
async function slowStream(url: string, dripMs: number): Promise<{ rest: Promise<{ events: string[]; error: unknown }> }> {
  const client = new Anthropic({ baseURL: url, apiKey: FAKE_ANTHROPIC_KEY, maxRetries: 0, defaultHeaders: { 'x-mock-scenario': `slow-drip:${dripMs}` } });
  const stream = await client.messages.create({ model: 'claude-haiku-5-5', max_tokens: 16, stream: true, messages: [{ role: 'user', content: 'hello' }] });
  const it = stream[Symbol.asyncIterator]();
  const first = await it.next();
  const events: string[] = [(first.value as { type: string }).type];
  const rest = (async () => {
    try {
      for (;;) {
        const n = await it.next();
        if (n.done) return { events, error: null as unknown };
        events.push((n.value as { type: string }).type);
      }
    } catch (err) {
      return { events, error: err };
    }
  })();
  return { rest };
}

/** The `request` / `request failed` log lines the proxy printed. */
const requestLines = (p: ChildProxy) =>
  p
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes('"request_id"'))
    .map((l) => JSON.parse(l) as Json);

const newRequest = (url: string) =>
  send(`${url}/v1/messages`, {
    body: JSON.stringify({ model: 'claude-haiku-5-5', max_tokens: 8, messages: [{ role: 'user', content: 'late' }] }),
    headers: anthropicHeaders(FAKE_ANTHROPIC_KEY),
  });

describe('graceful shutdown', () => {
  it('SIGTERM: readiness 503, new requests get a provider-shaped 503, the slow stream in flight finishes, exit 0', async () => {
    proxy = await start(30);
    const p = proxy;
    await expect.poll(async () => (await send(`${p.url}/readyz`)).status, { timeout: 20_000, interval: 50 }).toBe(200);
    // 15 frames 250 ms apart: about 3.75 s, longer than the 2 s after which streams used to be cut
    const { rest } = await slowStream(p.url, 250);
    p.child.kill('SIGTERM');
    await expect.poll(async () => (await send(`${p.url}/readyz`)).status, { timeout: 5_000, interval: 50 }).toBe(503);
    const ready = (await send(`${p.url}/readyz`)).json<Json>();
    expect(ready.checks.startup).toMatchObject({ ready: false, draining: true, in_flight: 1 });
    const late = await newRequest(p.url);
    expect(late.status).toBe(503);
    expect(late.headers.connection).toBe('close');
    expect(late.json<Json>()).toEqual({ type: 'error', error: { type: 'overloaded_error', message: expect.stringContaining('shutting down') } });
    const done = await rest;
    expect(done.error).toBeNull();
    expect(done.events.at(-1)).toBe('message_stop');
    expect(await p.exited).toEqual({ code: 0, signal: null });
    const lines = requestLines(p);
    const streamLine = lines.find((l) => l.stream === true);
    expect(streamLine).toMatchObject({ status: 200, error_type: null });
    expect(lines.find((l) => l.stream === false)).toMatchObject({ status: 503, error_type: 'shutdown' });
  }, 30_000);

  it('a stream that outlives the grace period ends with the provider\'s error event, recorded as shutdown (not a client abort); exit 0', async () => {
    proxy = await start(1);
    const p = proxy;
    // 15 frames 1 s apart: far longer than the 1 s grace
    const { rest } = await slowStream(p.url, 1000);
    p.child.kill('SIGTERM');
    const done = await rest;
    // the SDK raises its usual error class for the provider's error event
    expect(done.error).toBeInstanceOf(Anthropic.APIError);
    expect(String((done.error as Error).message)).toMatch(/overloaded_error.*shutting down/);
    expect(done.events).not.toContain('message_stop');
    expect(await p.exited).toEqual({ code: 0, signal: null });
    const streamLine = requestLines(p).find((l) => l.stream === true);
    expect(streamLine).toMatchObject({ status: 200, error_type: 'shutdown' });
    expect(p.output()).toContain('shutdown grace period over');
  }, 30_000);
});
