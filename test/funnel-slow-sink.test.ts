/**
 * Sinks work off the request's tick: a sink that blocks, or whose work is still pending, never
 * holds back a response, other requests, or the other sinks. Barriers, not timings: the client
 * runs in a worker thread and tells the blocked sink (through shared memory) when it has the
 * whole response.
 */
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { healthPlugin } from '../src/capabilities/health/plugin.js';
import { proxyPlugin } from '../src/capabilities/proxy/plugin.js';
import { Funnel } from '../src/core/funnel.js';
import type { RequestOutcome } from '../src/core/outcome.js';
import { FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { openaiHeaders, send } from './helpers/http.js';

const BODY = '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}';
const fakeOutcome = (id: string) => ({ requestId: id }) as unknown as RequestOutcome;
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

/** Shared flags between the threads of a test: [sink blocked, upstream released, responses received]. */
const BLOCKED = 0;
const RELEASED = 1;
const RECEIVED = 2;

/**
 * An upstream in a worker thread: it answers chat completions only once it holds two requests
 * and the proxy's thread is blocked (flag BLOCKED), then sets RELEASED once both answers are
 * written, so that both reach the proxy together.
 */
function upstreamInWorker(flags: SharedArrayBuffer): Promise<{ url: string; worker: Worker }> {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const http = require('node:http');
     const flags = new Int32Array(workerData.flags);
     const held = [];
     const body = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'gpt-4o',
       choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
       usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } });
     const server = http.createServer((req, res) => {
       req.resume();
       req.on('end', () => {
         held.push(res);
         if (held.length < 2) return;
         parentPort.postMessage({ held: 2 });
         Atomics.wait(flags, 0, 0, 10000); // until the proxy's thread is blocked in a sink
         let finished = 0;
         for (const r of held) {
           r.on('finish', () => { if (++finished === 2) { Atomics.store(flags, 1, 1); Atomics.notify(flags, 1); } });
           r.writeHead(200, { 'content-type': 'application/json' }).end(body);
         }
       });
     });
     server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));`,
    { eval: true, workerData: { flags } },
  );
  return new Promise((resolve, reject) => {
    worker.once('message', (m: { port: number }) => resolve({ url: `http://127.0.0.1:${m.port}`, worker }));
    worker.once('error', reject);
  });
}

/** Two concurrent POSTs from a worker thread; counts whole responses received in flag RECEIVED. */
function clientsInWorker(url: string, flags: SharedArrayBuffer): Worker {
  return new Worker(
    `const { workerData } = require('node:worker_threads');
     const http = require('node:http');
     const flags = new Int32Array(workerData.flags);
     for (let i = 0; i < 2; i++) {
       const req = http.request(workerData.url, { method: 'POST', headers: workerData.headers, agent: false }, (res) => {
         res.resume();
         res.on('end', () => { Atomics.add(flags, 2, 1); Atomics.notify(flags, 2); });
       });
       req.end(workerData.body);
     }`,
    { eval: true, workerData: { url, flags, body: BODY, headers: { 'content-type': 'application/json', ...openaiHeaders(FAKE_OPENAI_KEY) } } },
  );
}

/** Blocks this thread until `flags[i]` reaches `target` (or 10 s pass); whether it did. */
function blockUntil(flags: Int32Array, i: number, target: number): boolean {
  const until = Date.now() + 10_000;
  for (;;) {
    const v = Atomics.load(flags, i);
    if (v >= target) return true;
    const left = until - Date.now();
    if (left <= 0) return false;
    Atomics.wait(flags, i, v, left);
  }
}

describe('a slow sink does not hold back other requests, through the proxy', () => {
  it('two answers that arrive together both reach their clients while a sink blocks on the first one\'s outcome', async () => {
    const shared = new SharedArrayBuffer(12);
    const flags = new Int32Array(shared);
    const upstream = await upstreamInWorker(shared);
    const h = await startHarness({ plugins: [healthPlugin, proxyPlugin], upstreamUrl: upstream.url });
    const waited: string[] = [];
    h.app.addSink({
      name: 'blocking',
      outcome: (o) => {
        if (o.status === 400 && waited.length === 0) {
          // a local refusal: while the proxy's thread is blocked here, the upstream answers both requests
          Atomics.store(flags, BLOCKED, 1);
          Atomics.notify(flags, BLOCKED);
          waited.push(blockUntil(flags, RELEASED, 1) ? 'released' : 'upstream never answered');
        } else if (o.status === 200 && waited.length === 1) {
          // the first of the two answers: the other client must get its response without waiting for this sink
          waited.push(blockUntil(flags, RECEIVED, 2) ? 'both received' : 'timed out: a response waited for the sink');
        }
      },
    });
    const clients = clientsInWorker(`${h.url}/v1/chat/completions`, shared);
    try {
      await new Promise<void>((resolve) => upstream.worker.once('message', () => resolve())); // both requests are upstream
      const refused = await send(`${h.url}/v1/chat/completions`, { body: 'not json', headers: openaiHeaders(FAKE_OPENAI_KEY) });
      expect(refused.status).toBe(400);
      await h.waitForOutcomes(3, 15_000);
      expect(waited).toEqual(['released', 'both received']);
      expect(h.outcomes.filter((o) => o.status === 200)).toHaveLength(2);
    } finally {
      await clients.terminate();
      await upstream.worker.terminate();
      await h.close();
    }
  });
});

describe('sinks with pending work, through the proxy', () => {
  let h: Harness;
  let release: () => void = () => {};
  let pending: Promise<void> = Promise.resolve();
  const pendingCalls: string[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => void unhandled.push(err);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    h = await startHarness({ plugins: [healthPlugin, proxyPlugin] });
    // finishes its work later: the promise it returns is pending until the test releases it
    h.app.addSink({ name: 'pending', outcome: (o) => { pendingCalls.push(o.requestId); return pending; } });
    h.app.addSink({ name: 'rejects', outcome: () => Promise.reject(new Error('async sink failure')) });
  });
  afterAll(async () => {
    release();
    await h.close();
    process.off('unhandledRejection', onUnhandled);
  });
  beforeEach(() => h.reset());

  it('a sink whose work is still pending holds back neither later requests nor the other sinks; a rejected promise is counted', async () => {
    pending = new Promise<void>((r) => (release = r));
    const before = h.app.funnel.stats().sinks.find((s) => s.name === 'rejects')!.errors;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await send(`${h.url}/v1/chat/completions`, { body: BODY, headers: openaiHeaders(FAKE_OPENAI_KEY) });
      expect(res.status).toBe(200);
      ids.push(String(res.headers['x-headroom-request-id']));
    }
    const outs = await h.waitForOutcomes(3);
    expect(outs.map((o) => o.requestId)).toEqual(ids);
    expect(pendingCalls.slice(-3)).toEqual(ids); // called for each, while the first call's work is still pending
    await nextTurn(); // the rejections are handled within the turn that delivered them
    const rejects = h.app.funnel.stats().sinks.find((s) => s.name === 'rejects')!;
    expect(rejects.errors - before).toBe(3);
    expect(rejects.lastError).toBe('async sink failure');
    expect(unhandled).toEqual([]);
    release();
  });
});

describe('Funnel delivery in slices', () => {
  it('yields to the event loop once a slice is spent, and delivers the rest on later turns', async () => {
    let now = 0;
    const f = new Funnel(undefined, { sliceMs: 1, minPerTurn: 1, now: () => now });
    const order: string[] = [];
    f.add({ name: 'slow', outcome: (o) => { now += 5; order.push(o.requestId); } });
    for (const id of ['1', '2', '3']) f.emit(fakeOutcome(id));
    setImmediate(() => order.push('other work'));
    expect(f.stats().pending).toBe(3);
    await nextTurn();
    await nextTurn();
    await nextTurn();
    expect(order).toEqual(['1', 'other work', '2', '3']);
    expect(f.stats().pending).toBe(0);
  });

  it('delivers everything within one slice when it is fast, and flush() ignores the slice', async () => {
    let now = 0;
    const f = new Funnel(undefined, { sliceMs: 1, minPerTurn: 1, now: () => now });
    const got: string[] = [];
    f.add({ name: 'fast', outcome: (o) => void got.push(o.requestId) });
    for (const id of ['a', 'b', 'c']) f.emit(fakeOutcome(id));
    await nextTurn();
    expect(got).toEqual(['a', 'b', 'c']);
    f.add({ name: 'slow', outcome: () => void (now += 5) });
    for (const id of ['d', 'e']) f.emit(fakeOutcome(id));
    f.flush();
    expect(got).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(f.stats().pending).toBe(0);
  });

  it('delivers at least minPerTurn outcomes per turn however slow its sinks are', async () => {
    let now = 0;
    const f = new Funnel(undefined, { sliceMs: 1, minPerTurn: 2, now: () => now });
    const got: string[] = [];
    f.add({ name: 'slow', outcome: (o) => { now += 5; got.push(o.requestId); } });
    for (const id of ['1', '2', '3']) f.emit(fakeOutcome(id));
    await nextTurn();
    expect(got).toEqual(['1', '2']);
    await nextTurn();
    expect(got).toEqual(['1', '2', '3']);
  });
});
