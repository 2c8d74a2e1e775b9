/**
 * The live endpoints as served by a running proxy parse with their schemas
 * (src/capabilities/live/schema.ts): the active-requests snapshot and the `update` events of
 * its stream (read by a real EventSource client) with a request in flight, running totals,
 * logs, the stream session, and every body served while live monitoring is off; a body
 * missing a declared field does not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problems } from './helpers/schema.js';
import {
  activeDisabledSchema, activeSnapshotSchema, disabledSchema, logsDisabledSchema, logsSchema, runningTotalsSchema, streamSessionSchema,
} from '../src/capabilities/live/schema.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { getJson, until, watch } from './helpers/live-client.js';

type Json = Record<string, any>;

const post = (h: Harness, path: string, body: unknown, headers: Record<string, string>, signal?: AbortSignal) =>
  fetch(`${h.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), ...(signal ? { signal } : {}) });

describe('live endpoints against their schemas', () => {
  let h: Harness;
  let abort: () => Promise<void>;
  beforeAll(async () => {
    h = await startHarness();
    const openai = { authorization: `Bearer ${FAKE_OPENAI_KEY}` };
    await (await post(h, '/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, openai)).text();
    await (await post(h, '/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, { ...openai, 'x-mock-scenario': 'status:500' })).text();
    // a stream that stays open: one request in flight for every view below
    const ac = new AbortController();
    const res = await post(h, '/v1/messages', { model: 'claude-sonnet-4-5', stream: true, max_tokens: 16, messages: [{ role: 'user', content: 'x' }] },
      { 'x-api-key': FAKE_ANTHROPIC_KEY, 'anthropic-version': '2023-06-01', 'x-mock-scenario': 'hang-mid-stream:2', 'x-headroom-project': 'demo' }, ac.signal);
    const reader = res.body!.getReader();
    await reader.read();
    abort = async () => {
      ac.abort();
      await reader.cancel().catch(() => undefined);
    };
    await h.waitForOutcomes(2);
  });
  afterAll(async () => {
    await abort();
    await h.close();
  });

  it('GET /metrics/active-requests parses, with the request in flight', async () => {
    const { body } = await getJson<Json>(`${h.url}/metrics/active-requests`);
    expect(problems(activeSnapshotSchema, body)).toBe('');
    const snap = activeSnapshotSchema.parse(body);
    expect(snap.active_total).toBe(1);
    expect(snap.active_requests[0]).toMatchObject({ provider: 'anthropic', is_streaming: true, project: 'demo' });
    delete body.active_requests[0].qualified_model;
    expect(problems(activeSnapshotSchema, body)).toMatch(/^active_requests\.0\.qualified_model: /);
  });

  it('every update event of the stream parses', async () => {
    const w = watch(h.url);
    try {
      await until(() => w.updates.length >= 1, 'an update event');
      for (const u of w.updates) expect(problems(activeSnapshotSchema, u)).toBe('');
      expect(w.latest()?.active_total).toBe(1);
    } finally {
      w.close();
    }
  });

  it('GET /metrics/running-totals (JSON, with and without active requests) parses', async () => {
    for (const q of ['', '&include_active=false', '&provider=open*']) {
      const { body } = await getJson<Json>(`${h.url}/metrics/running-totals?format=json${q}`);
      expect(problems(runningTotalsSchema, body)).toBe('');
    }
    const t = runningTotalsSchema.parse((await getJson(`${h.url}/metrics/running-totals?format=json`)).body);
    expect(t.summary.total_requests).toBe(3);
    expect(t.providers.openai?.models['gpt-4o']?.total.error_types).toEqual({ upstream_server_error: 1 });
    const raw = (await getJson<Json>(`${h.url}/metrics/running-totals?format=json`)).body;
    delete raw.providers.openai.rollup.total.tokens_saved;
    expect(problems(runningTotalsSchema, raw)).toMatch(/^providers\.openai\.rollup\.total\.tokens_saved: /);
  });

  it('GET /metrics/logs parses, errors and traces', async () => {
    const { body } = await getJson<Json>(`${h.url}/metrics/logs`);
    expect(problems(logsSchema, body)).toBe('');
    const logs = logsSchema.parse(body);
    expect(logs.errors.map((e) => e.http_status)).toEqual([500]);
    expect(logs.traces).toHaveLength(2);
    body.traces[0].status = 'failed';
    expect(problems(logsSchema, body)).toMatch(/^traces\.0\.status: /);
  });

  it('POST /metrics/active-requests/stream/session parses', async () => {
    const res = await fetch(`${h.url}/metrics/active-requests/stream/session`, { method: 'POST' });
    expect(problems(streamSessionSchema, await res.json())).toBe('');
  });
});

describe('live endpoints with live monitoring off', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { liveMetrics: false } });
  });
  afterAll(() => h.close());

  it('every endpoint serves its disabled shape, the stream one `disabled` event', async () => {
    expect(problems(activeDisabledSchema, (await getJson(`${h.url}/metrics/active-requests`)).body)).toBe('');
    expect(problems(logsDisabledSchema, (await getJson(`${h.url}/metrics/logs`)).body)).toBe('');
    expect(problems(disabledSchema, (await getJson(`${h.url}/metrics/running-totals?format=json`)).body)).toBe('');
    expect(problems(activeSnapshotSchema, (await getJson(`${h.url}/metrics/active-requests`)).body)).not.toBe('');
    const w = watch(h.url);
    try {
      await until(() => w.disabled.length === 1, 'the disabled event');
      expect(problems(disabledSchema, w.disabled[0])).toBe('');
    } finally {
      w.close();
    }
  });
});
