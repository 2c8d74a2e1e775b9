/**
 * Codex over WebSocket: a real `ws` client opens `/v1/responses` on the proxy, which relays it
 * to the mock upstream's Responses WebSocket. Compression of each `response.create`, one
 * outcome per turn (seen by /stats, /metrics and the live view), the session gauge, access
 * rules and every failure are checked through what a client sees.
 */
import OpenAI from 'openai';
import { ResponsesWS } from 'openai/resources/responses/ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { generateOutput } from '../src/mock/agent-outputs.js';
import { messageSlices } from './helpers/bodies.js';
import { FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';

type Json = Record<string, unknown>;

const TERMINAL = new Set(['response.completed', 'response.failed', 'response.incomplete', 'error']);

interface Client {
  ws: WebSocket;
  events: Json[];
  /** Sends a message (an object is serialised) and resolves with the events up to the turn's terminal one. */
  turn(msg: Json | string): Promise<Json[]>;
  closed: Promise<{ code: number; reason: string }>;
}

function wsUrl(h: Harness, path = '/v1/responses'): string {
  return `${h.url.replace(/^http/, 'ws')}${path}`;
}

async function connect(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${FAKE_OPENAI_KEY}`, ...headers } });
  const events: Json[] = [];
  let waiter: { from: number; resolve: (e: Json[]) => void } | null = null;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('message', (data) => {
    const e = JSON.parse(String(data)) as Json;
    events.push(e);
    if (waiter && TERMINAL.has(String(e.type))) {
      const w = waiter;
      waiter = null;
      w.resolve(events.slice(w.from));
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  return {
    ws,
    events,
    closed,
    turn(msg) {
      const from = events.length;
      const p = new Promise<Json[]>((resolve) => {
        waiter = { from, resolve };
      });
      ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
      return p;
    },
  };
}

/** The upgrade's HTTP refusal: status and body. */
function refusal(url: string, headers: Record<string, string>): Promise<{ status: number; body: Json }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => reject(new Error('the upgrade was accepted')));
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Json }));
    });
    ws.once('error', () => undefined);
  });
}

async function metric(h: Harness, name: string): Promise<number> {
  const text = await (await fetch(`${h.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1]);
}

async function eventually(fn: () => Promise<boolean>, ms = 3_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const tools = [{ type: 'function', name: 'search', description: 'Search the job logs', parameters: { type: 'object', properties: { query: { type: 'string' } } } }];
const instructions = 'You are a coding agent working in a large repository. Follow the house rules. '.repeat(80);
const completed = (events: Json[]) => events.find((e) => e.type === 'response.completed')?.response as Json;

describe('Responses over WebSocket: a Codex session through the proxy', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());
  afterEach(() => h.reset());

  it('relays three turns, compresses the tool output of turn 2, keeps history byte-identical, and records one outcome per turn', async () => {
    const c = await connect(wsUrl(h), { 'x-headroom-project': 'ws-demo' });
    expect(await metric(h, 'headroom_active_ws_sessions')).toBe(1);

    const t1 = await c.turn({ type: 'response.create', model: 'gpt-4o', instructions, tools, input: [{ role: 'user', content: 'Which jobs failed last night?' }] });
    expect(t1.map((e) => e.type)).toContain('response.output_item.added');
    const r1 = completed(t1);
    const call = (r1.output as Json[])[0]!;
    expect(call.type).toBe('function_call');

    const listing = generateOutput('search_json', 40_000, 7).text;
    const output = { type: 'function_call_output', call_id: call.call_id, output: listing };
    const m2 = { type: 'response.create', model: 'gpt-4o', instructions, tools, previous_response_id: r1.id, input: [output] };
    const sent2 = Buffer.from(JSON.stringify(m2));
    const t2 = await c.turn(JSON.stringify(m2));
    const r2 = completed(t2);
    expect(t2.some((e) => e.type === 'response.output_text.delta')).toBe(true);

    // upstream got a smaller message for turn 2, with everything but the tool output as sent
    const got = h.mock.ws.last!.received;
    expect(got).toHaveLength(2);
    expect(got[1]!.length).toBeLessThan(sent2.length * 0.6);
    const fwd2 = JSON.parse(got[1]!.toString()) as Json;
    expect({ ...fwd2, input: null }).toEqual({ ...m2, input: null });
    expect(((fwd2.input as Json[])[0] as Json).call_id).toBe(call.call_id);

    // turn 3 resends the whole conversation (no previous_response_id): the history goes up as it went before
    const m3 = {
      type: 'response.create', model: 'gpt-4o', instructions, tools,
      input: [{ role: 'user', content: 'Which jobs failed last night?' }, call, output, ...(r2.output as Json[]), { role: 'user', content: 'Thanks. Anything else?' }],
    };
    const t3 = await c.turn(m3);
    expect(completed(t3).status).toBe('completed');
    const hist2 = messageSlices(got[1]!, 'input');
    const hist3 = messageSlices(h.mock.ws.last!.received[2]!, 'input');
    expect(hist3[2]!.equals(hist2[0]!)).toBe(true);
    expect(hist3).toHaveLength(5);

    const outs = await h.waitForOutcomes(3);
    expect(outs.map((o) => o.ext.ws?.turn)).toEqual([1, 2, 3]);
    expect(new Set(outs.map((o) => o.ext.ws?.session)).size).toBe(1);
    for (const [o, events] of [[outs[0]!, t1], [outs[1]!, t2], [outs[2]!, t3]] as const) {
      const usage = completed(events).usage as { input_tokens: number; output_tokens: number; input_tokens_details: { cached_tokens: number } };
      expect(o.api).toBe('responses');
      expect(o.provider).toBe('openai');
      expect(o.path).toBe('/v1/responses');
      expect(o.ok).toBe(true);
      expect(o.status).toBe(200);
      expect(o.stream).toBe(true);
      expect(o.project).toBe('ws-demo');
      expect(o.usage!.input).toBe(usage.input_tokens);
      expect(o.usage!.output).toBe(usage.output_tokens);
      expect(o.usage!.cacheRead).toBe(usage.input_tokens_details.cached_tokens);
      expect(o.model).toBe('gpt-4o');
    }
    expect(outs[0]!.tools.calls).toBe(1);
    expect(outs[1]!.tools.results).toBe(1);
    expect(outs[1]!.modified).toBe(true);
    expect(outs[1]!.compression.tokensSaved).toBeGreaterThan(1_000);
    expect(outs[1]!.usage!.cacheRead).toBeGreaterThan(0); // the continued conversation hits the prompt cache
    expect(outs[0]!.modified).toBe(false);

    // /stats counts the turns, their tokens and their cost
    const stats = (await (await fetch(`${h.url}/stats`)).json()) as { requests: { total: number; by_model: Json }; tokens: { input: number; saved: number }; summary: { cost: { with_headroom_usd: number } } };
    expect(stats.requests.total).toBe(3);
    expect(stats.tokens.input).toBe(outs.reduce((a, o) => a + o.usage!.input, 0));
    // turn 3 forwards the compressed history again: it saves those tokens too, as an HTTP resend would
    expect(outs[2]!.compression.tokensSaved).toBeGreaterThan(1_000);
    expect(stats.tokens.saved).toBe(outs.reduce((a, o) => a + o.compression.tokensSaved, 0));
    expect(stats.summary.cost.with_headroom_usd).toBeGreaterThan(0);

    c.ws.close(1000);
    expect((await c.closed).code).toBe(1000);
    await eventually(async () => (await metric(h, 'headroom_active_ws_sessions')) === 0);
    expect(await metric(h, 'headroom_active_relay_tasks')).toBe(0);
    await eventually(async () => h.mock.ws.last!.closeCode === 1000);
    // the provider key went upstream and never into a log line
    expect(h.mock.ws.last!.headers.authorization).toBe(`Bearer ${FAKE_OPENAI_KEY}`);
    expect(h.mock.ws.last!.headers['x-headroom-project']).toBeUndefined();
    expect(h.logs.join('\n')).not.toContain(FAKE_OPENAI_KEY);
  });

  it('works with the official SDK\'s ResponsesWS pointed at the proxy\'s base URL', async () => {
    const client = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const rws = new ResponsesWS(client);
    const done = new Promise<{ response: { usage: { input_tokens: number }; output: Json[] } }>((resolve) => rws.on('response.completed', (e) => resolve(e as never)));
    let text = '';
    rws.on('response.output_text.delta', (e) => (text += (e as { delta: string }).delta));
    rws.send({ type: 'response.create', model: 'gpt-4o', input: 'Say hello.' });
    const e = await done;
    expect(text).toContain('mock reply');
    const [o] = await h.waitForOutcomes(1);
    expect(o!.usage!.input).toBe(e.response.usage.input_tokens);
    rws.close();

    // an upstream refusal reaches the SDK as its error, with the upstream's message
    const refused = new ResponsesWS(client, { headers: { 'x-mock-scenario': 'status:401' } });
    const err = await new Promise<Error & { error?: Json }>((resolve) => refused.on('error', (x) => resolve(x as never)));
    expect(err.error).toMatchObject({ type: 'error', status: 401 });
    expect(err.message).toContain('mock upstream refused the WebSocket with 401');
    refused.close();
  });

  it('shows a turn in flight in the live view, and the relay gauge while the session is open', async () => {
    const slow = await startHarness({ mock: { frameIntervalMs: 40 } });
    try {
      const c = await connect(wsUrl(slow));
      await eventually(async () => (await metric(slow, 'headroom_active_relay_tasks')) === 1);
      const done = c.turn({ type: 'response.create', model: 'gpt-4o-mini', input: 'Summarise the build.' });
      let row: Json | undefined;
      await eventually(async () => {
        const snap = (await (await fetch(`${slow.url}/metrics/active-requests`)).json()) as { active_requests: Json[] };
        row = snap.active_requests[0];
        return row !== undefined && row.ttfb_ms !== null;
      });
      expect(row).toMatchObject({ api: 'responses', path: '/v1/responses', is_streaming: true, model: 'gpt-4o-mini' });
      await done;
      const [o] = await slow.waitForOutcomes(1);
      expect(o!.requestId).toBe(row!.request_id);
      const snap = (await (await fetch(`${slow.url}/metrics/active-requests`)).json()) as { active_requests: Json[]; completed: { requests: number } };
      expect(snap.active_requests).toHaveLength(0);
      expect(snap.completed.requests).toBe(1);
      c.ws.terminate(); // an abnormal close takes the gauge down too
      await eventually(async () => (await metric(slow, 'headroom_active_ws_sessions')) === 0);
    } finally {
      await slow.close();
    }
  });

  it('answers a message that is not JSON with an error event and keeps the session', async () => {
    const c = await connect(wsUrl(h));
    const bad = await c.turn('{"type":"response.create", nope');
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ type: 'error', status: 400, error: { type: 'invalid_request_error' } });
    expect(String((bad[0]!.error as Json).message)).toMatch(/Invalid JSON/);
    const good = await c.turn({ type: 'response.create', model: 'gpt-4o', input: 'hello' });
    expect(completed(good).status).toBe('completed');
    expect(h.mock.ws.last!.received).toHaveLength(1); // the bad message never went upstream
    const outs = await h.waitForOutcomes(2);
    expect(outs[0]).toMatchObject({ ok: false, status: 400, errorType: 'invalid_request' });
    expect(outs[1]).toMatchObject({ ok: true, status: 200 });
    c.ws.close();
    await c.closed;
  });

  it('ends a turn the upstream drops mid-stream with an error event and records it', async () => {
    const c = await connect(wsUrl(h), { 'x-mock-scenario': 'drop-mid-stream:3' });
    const events = await c.turn({ type: 'response.create', model: 'gpt-4o', input: 'hello' });
    expect(events.slice(0, 3).map((e) => e.type)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added']);
    expect(events[3]).toMatchObject({ type: 'error', status: 502, error: { code: 'upstream_stream_error' } });
    expect((await c.closed).code).toBe(1011);
    const [o] = await h.waitForOutcomes(1);
    expect(o).toMatchObject({ ok: false, errorType: 'upstream_stream', status: 502 });
    expect(o!.ext.ws?.turn).toBe(1);
    await eventually(async () => (await metric(h, 'headroom_active_ws_sessions')) === 0);
  });

  it('forwards every message byte for byte with x-headroom-mode: passthrough on the upgrade', async () => {
    const c = await connect(wsUrl(h), { 'x-headroom-mode': 'passthrough' });
    const m = JSON.stringify({ type: 'response.create', model: 'gpt-4o', input: [{ type: 'function_call_output', call_id: 'call_1', output: generateOutput('search_json', 20_000, 3).text }] });
    await c.turn(m);
    expect(h.mock.ws.last!.received[0]!.equals(Buffer.from(m))).toBe(true);
    const [o] = await h.waitForOutcomes(1);
    expect(o).toMatchObject({ ok: true, modified: false });
    expect(o!.compression.mode).toBe('passthrough');
    c.ws.close();
    await c.closed;
  });

  it('does not end a turn on a late terminal event of the previous response', async () => {
    const c = await connect(wsUrl(h), { 'x-mock-scenario': 'late-done' });
    const t1 = await c.turn({ type: 'response.create', model: 'gpt-4o', input: 'one' });
    const r1 = completed(t1);
    const t2 = await new Promise<Json[]>((resolve) => {
      const from = c.events.length;
      c.ws.on('message', () => {
        if (c.events.slice(from).some((e) => e.type === 'response.completed')) resolve(c.events.slice(from));
      });
      c.ws.send(JSON.stringify({ type: 'response.create', model: 'gpt-4o', previous_response_id: r1.id, input: [{ role: 'user', content: 'two, a longer question this time' }] }));
    });
    expect(t2[0]).toMatchObject({ type: 'response.done', response: { id: r1.id } });
    const outs = await h.waitForOutcomes(2);
    const u2 = completed(t2).usage as { input_tokens: number };
    expect(outs[1]!.usage!.input).toBe(u2.input_tokens);
    expect(outs[1]!.usage!.input).toBeGreaterThan(outs[0]!.usage!.input);
    c.ws.close();
    await c.closed;
  });

  it('passes the upstream refusing the handshake on as an error event with its status', async () => {
    const c = await connect(wsUrl(h), { 'x-mock-scenario': 'status:401' });
    const [event] = await new Promise<Json[]>((resolve) => c.ws.once('close', () => resolve(c.events)));
    expect(event).toMatchObject({ type: 'error', status: 401 });
    expect(String((event!.error as Json).message)).toContain('mock upstream refused the WebSocket with 401');
    const [o] = await h.waitForOutcomes(1);
    expect(o).toMatchObject({ ok: false, status: 401, errorType: 'upstream_client_error' });
    expect(o!.ext.ws?.turn).toBe(0);
  });
});

describe('Responses over WebSocket: upstream unreachable', () => {
  it('closes the client with an upstream_unavailable error event; the waiting turn records it', async () => {
    const h = await startHarness({ upstreamUrl: 'http://127.0.0.1:9' });
    try {
      const c = await connect(wsUrl(h));
      c.ws.send(JSON.stringify({ type: 'response.create', model: 'gpt-4o', input: 'hello' }));
      const { code } = await c.closed;
      expect(code).toBe(1011);
      const errors = c.events.filter((e) => e.type === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ status: 502, error: { type: 'server_error', code: 'upstream_unavailable' } });
      expect(String((errors[0]!.error as Json).message)).toMatch(/Could not open the upstream WebSocket/);
      const outs = await h.waitForOutcomes(1);
      await new Promise((r) => setTimeout(r, 50));
      expect(h.outcomes).toHaveLength(1);
      expect(outs[0]).toMatchObject({ ok: false, status: 502, errorType: 'upstream_connect' });
      expect(await metric(h, 'headroom_active_ws_sessions')).toBe(0);
      const stats = (await (await fetch(`${h.url}/stats`)).json()) as { requests: { total: number; failed: number } };
      expect(stats.requests.failed).toBe(1);
    } finally {
      await h.close();
    }
  });
});

describe('Responses over WebSocket: access', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { proxyToken: 'tok-test-ws-0123456789' } });
  });
  afterAll(() => h.close());

  it('applies the HTTP rules to the upgrade: proxy token for forwarded callers, Host check, no web pages', async () => {
    const remote = await refusal(wsUrl(h), { 'x-forwarded-for': '203.0.113.9' });
    expect(remote.status).toBe(401);
    expect(remote.body).toMatchObject({ error: { type: 'authentication_error' } });
    const host = await refusal(wsUrl(h), { host: 'evil.example' });
    expect(host.status).toBe(403);
    const page = await refusal(wsUrl(h), { origin: 'https://evil.example' });
    expect(page.status).toBe(403);
    expect(JSON.stringify(page.body)).toMatch(/Origin/);
    const other = await refusal(wsUrl(h, '/v1/chat/completions'), {});
    expect(other.status).toBe(404);
    const outs = await h.waitForOutcomes(3);
    expect(outs.map((o) => o.errorType)).toEqual(['unauthorized', 'unauthorized', 'unauthorized']);

    // with the token (as a bearer), a forwarded caller gets through and the token is not sent upstream
    const c = await connect(wsUrl(h, '/p/team-a/v1/responses'), { 'x-forwarded-for': '203.0.113.9', authorization: 'Bearer tok-test-ws-0123456789' });
    const events = await c.turn({ type: 'response.create', model: 'gpt-4o', input: 'hello' });
    expect(completed(events).status).toBe('completed');
    expect(h.mock.ws.last!.headers.authorization).toBeUndefined();
    const all = await h.waitForOutcomes(4);
    expect(all[3]).toMatchObject({ ok: true, project: 'team-a' });
    c.ws.close();
    await c.closed;
  });
});

describe('Responses over WebSocket: with a rate limit configured', () => {
  it('refuses the session (it would run past the limit) with a clear 403', async () => {
    const h = await startHarness({ config: { rpm: 100 } });
    try {
      const r = await refusal(wsUrl(h), {});
      expect(r.status).toBe(403);
      expect(JSON.stringify(r.body)).toMatch(/a rate limit configured/);
      const [o] = await h.waitForOutcomes(1);
      expect(o).toMatchObject({ ok: false, status: 403, errorType: 'invalid_request' });
      expect(h.mock.ws.sessions).toHaveLength(0);
    } finally {
      await h.close();
    }
  });
});

describe('Responses over WebSocket: graceful shutdown and other upgrades', () => {
  it('closes idle sessions at once (1001) and lets a turn in flight finish first', async () => {
    const h = await startHarness({ mock: { frameIntervalMs: 25 } });
    try {
      const idle = await connect(wsUrl(h));
      const busy = await connect(wsUrl(h));
      const answer = busy.turn({ type: 'response.create', model: 'gpt-4o', input: 'Summarise the build.' });
      await eventually(async () => busy.events.length > 0);
      const closing = h.app.close(5_000);
      expect((await idle.closed).code).toBe(1001);
      const events = await answer;
      expect(completed(events).status).toBe('completed');
      expect((await busy.closed).code).toBe(1001);
      await closing;
      const [o] = await h.waitForOutcomes(1);
      expect(o).toMatchObject({ ok: true, status: 200 });
    } finally {
      await h.close();
    }
  });

  it('ends a turn still running when the grace period is over with a shutdown error event', async () => {
    const h = await startHarness({ mock: { frameIntervalMs: 150 } });
    try {
      const c = await connect(wsUrl(h));
      const answer = c.turn({ type: 'response.create', model: 'gpt-4o', input: 'Summarise the build.' });
      await eventually(async () => c.events.length > 0);
      const closing = h.app.close(100);
      const events = await answer;
      expect(events[events.length - 1]).toMatchObject({ type: 'error', status: 503, error: { code: 'server_shutting_down' } });
      expect((await c.closed).code).toBe(1001);
      await closing;
      const [o] = await h.waitForOutcomes(1);
      expect(o).toMatchObject({ ok: false, status: 503, errorType: 'shutdown' });
    } finally {
      await h.close();
    }
  });

  it('serves a bodiless request that asks for another upgrade (h2c) as plain HTTP', async () => {
    const h = await startHarness();
    try {
      const { request } = await import('node:http');
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const r = request(`${h.url}/livez`, { headers: { connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c', 'http2-settings': 'AAMAAABkAARAAAAAAAIAAAAA' } }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        r.on('error', reject);
        r.end();
      });
      expect(status).toBe(200);
      expect(body.length).toBeGreaterThan(0);
    } finally {
      await h.close();
    }
  });
});
