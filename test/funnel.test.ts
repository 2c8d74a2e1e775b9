import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { proxyPlugin } from '../src/capabilities/proxy/plugin.js';
import type { ProxyStage } from '../src/capabilities/proxy/stage.js';
import { healthPlugin } from '../src/capabilities/health/plugin.js';
import { Funnel } from '../src/core/funnel.js';
import { definePlugin } from '../src/core/plugin.js';
import type { RequestOutcome } from '../src/core/outcome.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { anthropicHeaders, openaiHeaders, send } from './helpers/http.js';

const fakeOutcome = (id: string) => ({ requestId: id }) as unknown as RequestOutcome;

describe('Funnel', () => {
  it('delivers outcomes after the current turn, in batches, to every sink', async () => {
    const f = new Funnel();
    const a: string[] = [];
    const b: string[] = [];
    f.add({ name: 'a', outcome: (o) => void a.push(o.requestId) });
    f.add({ name: 'b', outcome: (o) => void b.push(o.requestId) });
    f.emit(fakeOutcome('1'));
    f.emit(fakeOutcome('2'));
    expect(a).toEqual([]); // not on the caller's stack
    await new Promise((r) => setImmediate(r));
    expect(a).toEqual(['1', '2']);
    expect(b).toEqual(['1', '2']);
  });

  it('isolates a throwing sink and counts its errors', async () => {
    const reported: string[] = [];
    const f = new Funnel((sink, phase) => reported.push(`${sink}:${phase}`));
    const good: string[] = [];
    f.add({ name: 'bad', outcome: () => { throw new Error('boom'); }, start: () => { throw new Error('boom'); } });
    f.add({ name: 'good', outcome: (o) => void good.push(o.requestId) });
    f.start({ requestId: 's' } as never);
    f.emit(fakeOutcome('x'));
    f.flush();
    expect(good).toEqual(['x']);
    const stats = f.stats();
    expect(stats.sinks.find((s) => s.name === 'bad')).toMatchObject({ errors: 2, lastError: 'boom' });
    expect(stats.sinks.find((s) => s.name === 'good')).toMatchObject({ errors: 0, delivered: 1 });
    expect(reported).toEqual(['bad:start', 'bad:outcome']);
  });

  it('close() drains pending outcomes and closes sinks', async () => {
    const f = new Funnel();
    const got: string[] = [];
    let closed = false;
    f.add({ name: 's', outcome: (o) => void got.push(o.requestId), close: () => { closed = true; } });
    f.emit(fakeOutcome('late'));
    await f.close();
    expect(got).toEqual(['late']);
    expect(closed).toBe(true);
  });
});

describe('one outcome per request, through the proxy', () => {
  let h: Harness;
  const seen: string[] = [];
  const rewrite: ProxyStage = {
    name: 'test-rewrite',
    beforeUpstream(ex) {
      if (ex.req.headers['x-test-stage'] === 'rewrite') {
        ex.setForwardBody(Buffer.from(JSON.stringify({ ...ex.json, messages: [{ role: 'user', content: 'rewritten' }] })));
      }
      if (ex.req.headers['x-test-stage'] === 'reply') {
        return { status: 429, body: ex.route.errors.errorBody(429, 'rate_limited', 'slow down'), errorType: 'rate_limited', errorMessage: 'slow down', headers: { 'retry-after': '7' } };
      }
      if (ex.req.headers['x-test-stage'] === 'throw') throw new Error('stage exploded');
      return undefined;
    },
  };

  beforeAll(async () => {
    h = await startHarness({ plugins: [healthPlugin, proxyPlugin, definePlugin({ name: 'test-stage', needs: ['proxy'], setup: (ctx) => ctx.need('proxy').addStage(rewrite) })] });
    // A slow sink and a throwing sink must not affect requests.
    h.app.addSink({ name: 'slow', outcome: (o) => { const end = Date.now() + 5; while (Date.now() < end); seen.push(o.requestId); } });
    h.app.addSink({ name: 'throws', outcome: () => { throw new Error('sink failure'); } });
  });
  afterAll(() => h.close());
  beforeEach(() => h.reset());

  it('success, upstream error, local error and rejection each produce exactly one outcome', async () => {
    const ids: string[] = [];
    const base = h.app.funnel.stats();
    const r1 = await send(`${h.url}/v1/chat/completions`, { body: '{"model":"gpt-4o","messages":[]}', headers: openaiHeaders(FAKE_OPENAI_KEY) });
    const r2 = await send(`${h.url}/v1/chat/completions`, { body: '{"model":"gpt-4o","messages":[]}', headers: { ...openaiHeaders(FAKE_OPENAI_KEY), 'x-mock-scenario': 'status:500', 'x-headroom-stack': 'BAD STACK!' } });
    const r3 = await send(`${h.url}/v1/messages`, { body: 'nope', headers: anthropicHeaders(FAKE_ANTHROPIC_KEY) });
    const r4 = await send(`${h.url}/v1/messages`, { body: '{"model":"m","messages":[]}', headers: { ...anthropicHeaders(FAKE_ANTHROPIC_KEY), 'x-test-stage': 'reply' } });
    for (const r of [r1, r2, r3, r4]) ids.push(String(r.headers['x-headroom-request-id']));
    expect(r4.status).toBe(429);
    expect(r4.headers['retry-after']).toBe('7');
    expect(r4.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } });
    await h.waitForOutcomes(4);
    // A fifth request as a barrier: outcomes are delivered in the order they are emitted, so
    // once its outcome is in, anything the first four emitted (a second outcome on close, ...)
    // is in too.
    const r5 = await send(`${h.url}/v1/chat/completions`, { body: '{"model":"gpt-4o","messages":[]}', headers: openaiHeaders(FAKE_OPENAI_KEY) });
    const barrier = String(r5.headers['x-headroom-request-id']);
    await h.waitForOutcomes(5);
    expect(h.outcomes.at(-1)!.requestId).toBe(barrier);
    expect(h.outcomes.map((o) => o.requestId)).toEqual([...ids, barrier]);
    const funnel = h.app.funnel.stats();
    expect([funnel.starts - base.starts, funnel.outcomes - base.outcomes]).toEqual([5, 5]);
    const outs = h.outcomes.slice(0, 4);
    expect(outs.map((o) => [o.status, o.errorType])).toEqual([
      [200, null], [500, 'upstream_server_error'], [400, 'invalid_request'], [429, 'rate_limited'],
    ]);
    expect(outs[1]!.stack).toBeNull(); // invalid stack slug ignored
    expect(h.starts.map((s) => s.requestId)).toEqual([...ids, barrier]);
    expect(seen).toEqual(expect.arrayContaining(ids));
    expect(h.app.funnel.stats().sinks.find((s) => s.name === 'throws')!.errors).toBeGreaterThanOrEqual(4);
  });

  it('a stage that rewrites the body: upstream gets the new bytes, outcome says modified', async () => {
    const res = await send(`${h.url}/v1/chat/completions`, { body: '{"model":"gpt-4o","messages":[{"role":"user","content":"original"}]}', headers: { ...openaiHeaders(FAKE_OPENAI_KEY), 'x-test-stage': 'rewrite' } });
    expect(res.status).toBe(200);
    expect(h.mock.last!.json).toEqual({ model: 'gpt-4o', messages: [{ role: 'user', content: 'rewritten' }] });
    expect(Number(h.mock.last!.headers['content-length'])).toBe(h.mock.last!.body.length);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.modified).toBe(true);
    expect(o!.timing.stagesMs['test-rewrite']).toBeGreaterThanOrEqual(0);
  });

  it('a stage that throws fails open: the request is forwarded unchanged', async () => {
    const body = '{"model":"gpt-4o","messages":[{"role":"user","content":"keep me"}]}';
    const res = await send(`${h.url}/v1/chat/completions`, { body, headers: { ...openaiHeaders(FAKE_OPENAI_KEY), 'x-test-stage': 'throw' } });
    expect(res.status).toBe(200);
    expect(h.mock.last!.body.toString()).toBe(body);
    expect(h.logs.some((l) => l.includes('stage exploded'))).toBe(true);
  });

  it('project from the /p/<name>/ prefix, header wins; x-headroom-* tags recorded', async () => {
    await send(`${h.url}/p/my%20proj/v1/chat/completions`, { body: '{"model":"gpt-4o","messages":[]}', headers: openaiHeaders(FAKE_OPENAI_KEY) });
    await send(`${h.url}/p/ignored/v1/chat/completions`, { body: '{"model":"gpt-4o","messages":[]}', headers: { ...openaiHeaders(FAKE_OPENAI_KEY), 'x-headroom-project': 'from-header' } });
    const outs = await h.waitForOutcomes(2);
    expect(outs.map((o) => o.project)).toEqual(['my proj', 'from-header']);
    expect(outs.map((o) => o.path)).toEqual(['/v1/chat/completions', '/v1/chat/completions']);
    expect(h.mock.requests.map((r) => r.path)).toEqual(['/v1/chat/completions', '/v1/chat/completions']);
  });

  it('every log line written for a request carries its id', async () => {
    const res = await send(`${h.url}/v1/chat/completions`, { body: '{"model":"gpt-4o","messages":[]}', headers: { ...openaiHeaders(FAKE_OPENAI_KEY), 'x-mock-fail-times': '1', 'x-mock-key': 'corr' } });
    const id = String(res.headers['x-headroom-request-id']);
    await h.waitForOutcomes(1);
    const retryLine = h.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'upstream returned a retryable status; retrying');
    expect(retryLine?.request_id).toBe(id);
  });
});
