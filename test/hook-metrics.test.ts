/** Hook metrics (standalone registry and the proxy's), the outcome funnel and /health. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { fileListingEnvelope } from '../src/mock/file-listing.js';
import { startHarness, type Harness } from './helpers/harness.js';
import { FAKE_WORKER, postHook, startHookServer, type HookHarness } from './helpers/hook.js';

const json = async (r: Response | Promise<Response>): Promise<any> => (await r).json();

const harnesses: HookHarness[] = [];
const proxies: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
  for (const p of proxies.splice(0)) await p.close();
});

/** `name{labels} value` samples of an exposition. */
function samples(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

describe('standalone /metrics', () => {
  it('exact values after modify, noop, passthrough, decode_error, reject_encoding and a 405', async () => {
    const h = await startHookServer({ hookPoolSize: 2 });
    harnesses.push(h);
    const env = fileListingEnvelope(400, 'sess-1');
    await postHook(h.url, env); // modify (hit)
    await postHook(h.url, env); // modify (hit), warm
    await postHook(h.url, { metadata: { provider: 'openai', model: 'gpt-4o' }, request_body: { messages: [{ role: 'user', content: 'hi' }] } }); // noop (hit on a hash key)
    await postHook(h.url, { request_body: { contents: [] } }); // passthrough
    await postHook(h.url, 'xx', { 'content-encoding': 'gzip' }); // decode_error
    await postHook(h.url, 'xx', { 'content-encoding': 'br' }); // reject_encoding
    await fetch(`${h.url}/`); // 405: not recorded, but inbound
    const os = await h.waitForOutcomes(6);
    const r = await fetch(`${h.url}/metrics`);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    const s = samples(text);
    const mod = os.filter((o) => o.ext.hook!.outcome === 'modify' || o.ext.hook!.outcome === 'noop');
    const sum = (f: (o: (typeof os)[number]) => number) => mod.reduce((a, o) => a + f(o), 0);
    expect(s.get('headroom_requests_total')).toBe(6);
    expect(s.get('headroom_requests_failed_total')).toBe(0);
    expect(s.get('headroom_tokens_input_total')).toBe(sum((o) => o.compression.tokensBefore));
    expect(s.get('headroom_tokens_saved_total')).toBe(sum((o) => o.compression.tokensSaved));
    expect(s.get('tsheadroom_tokens_after_total')).toBe(sum((o) => o.compression.tokensAfter));
    expect(s.get('headroom_tokens_saved_total')).toBeGreaterThan(0);
    expect(s.get('headroom_overhead_ms_count')).toBe(6);
    expect(s.get('headroom_overhead_ms_sum')).toBeCloseTo(os.reduce((a, o) => a + o.timing.totalMs, 0), 5);
    expect(s.get('headroom_overhead_ms_min')).toBe(Math.min(...os.map((o) => o.timing.totalMs)));
    expect(s.get('headroom_overhead_ms_max')).toBe(Math.max(...os.map((o) => o.timing.totalMs)));
    expect(s.get('headroom_inbound_requests_total')).toBe(7);
    expect(s.get('headroom_inbound_requests_completed_total')).toBe(7);
    expect(s.get('headroom_inbound_requests_active')).toBe(0);
    expect(s.get('headroom_requests_by_provider{provider="anthropic"}')).toBe(2);
    expect(s.get('headroom_requests_by_provider{provider="openai"}')).toBe(1);
    expect(s.get('headroom_requests_by_provider{provider="unknown"}')).toBe(3);
    expect(s.get('headroom_requests_by_model{model="claude-sonnet-4-5"}')).toBe(2);
    expect(s.get('headroom_requests_by_model{model="unknown"}')).toBe(3);
    for (const [o, n] of Object.entries({ modify: 2, noop: 1, error: 0, passthrough: 1, read_error: 0, decode_error: 1, reject_encoding: 1 })) {
      expect(s.get(`tsheadroom_requests_by_outcome{outcome="${o}"}`), o).toBe(n);
    }
    expect(s.get('tsheadroom_pool_slots_total')).toBe(2);
    expect(s.get('tsheadroom_pool_slots_busy')).toBe(0);
    expect(s.get('tsheadroom_affinity_hits_total')).toBe(3);
    expect(s.get('tsheadroom_affinity_spills_total')).toBe(0);
    expect(s.get('tsheadroom_cold_starts_total')).toBe(os.filter((o) => o.ext.hook!.cold).length);
    expect(s.get('tsheadroom_cold_starts_total')).toBeGreaterThanOrEqual(1);
    expect((await fetch(`${h.url}/metrics`, { method: 'POST' })).status).toBe(405);
    if (existsSync('/usr/bin/promtool')) {
      const pr = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(pr.status === 0 || pr.status === 3, pr.stdout + pr.stderr).toBe(true); // parses; lint findings are the fixed tsheadroom/headroom names
    }
  });

  it('spills and cold starts are counted from a fake pool', async () => {
    const h = await startHookServer({ hookPoolSize: 1 }, { pool: { script: FAKE_WORKER } });
    harnesses.push(h);
    const env = (model: string) => ({ metadata: { provider: 'openai', model, session_id: 's' }, request_body: { messages: [{ role: 'user', content: 'x' }] } });
    // slot 0 busy, its queue taken by the second call: the third spills to the shared queue
    await Promise.all([postHook(h.url, env('SLEEP:400')), postHook(h.url, env('ok')), postHook(h.url, env('ok'))]);
    const os = await h.waitForOutcomes(3);
    const s = samples(await (await fetch(`${h.url}/metrics`)).text());
    expect(s.get('tsheadroom_affinity_hits_total')! + s.get('tsheadroom_affinity_spills_total')!).toBe(3);
    expect(s.get('tsheadroom_affinity_spills_total')).toBe(os.filter((o) => o.ext.hook!.dispatch === 'spill').length);
    expect(s.get('tsheadroom_cold_starts_total')).toBe(1);
  });

  it('/health, /readyz and /livez', async () => {
    const h = await startHookServer({ hookPoolSize: 2 });
    harnesses.push(h);
    const body = await json(fetch(`${h.url}/health`));
    expect(body).toMatchObject({ service: 'headroom-hook', status: 'healthy', ready: true, checks: { hook: { enabled: true, ready: true, pool: { slots: 2, ready: 2, busy: 0 } } } });
    expect((await fetch(`${h.url}/readyz`)).status).toBe(200);
    expect(await json(fetch(`${h.url}/livez`))).toEqual({ status: 'alive' });
  });
});

describe('the hook on the main proxy (--hook)', () => {
  it('POST /hooks/aperture, its config route, outcomes in the proxy funnel, families on the proxy registry, health', async () => {
    const t = await startHarness({ config: { hook: true, hookPoolSize: 1 } });
    proxies.push(t);
    for (let i = 0; i < 200 && !(await json(fetch(`${t.url}/health`))).checks.hook.ready; i++) await new Promise((r) => setTimeout(r, 50));
    const r = await fetch(`${t.url}/hooks/aperture`, { method: 'POST', body: JSON.stringify(fileListingEnvelope(400)), headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('accept-encoding')).toBe('zstd, gzip');
    expect((await json(r)).action).toBe('modify');
    const [o] = await t.waitForOutcomes(1);
    expect(o).toMatchObject({ kind: 'hook', api: 'hook', path: '/hooks/aperture', provider: 'anthropic', status: 200, modified: true });
    expect(o!.ext.hook!.outcome).toBe('modify');
    // originals of the lossy cuts went to the proxy's CCR store (so headroom_retrieve can serve them)
    const ccr = await json(fetch(`${t.url}/v1/retrieve/stats`));
    expect(ccr.store.entry_count).toBeGreaterThan(0);
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toContain('tsheadroom_requests_by_outcome{outcome="modify"} 1');
    expect(text).toContain('tsheadroom_pool_slots_total 1');
    expect(text).toMatch(/headroom_tokens_saved_total \d*[1-9]/);
    const cfg = await fetch(`${t.url}/hooks/aperture/config`, { method: 'PUT', body: JSON.stringify({ protect_recent: 9 }) });
    expect((await json(cfg)).protect_recent).toBe(9);
    const bad = await fetch(`${t.url}/hooks/aperture/config`, { method: 'PUT', body: JSON.stringify({ protect_recent: -9 }) });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toBe('protect_recent must be >= 0\n');
    const health = await json(fetch(`${t.url}/health`));
    expect(health.checks.hook).toMatchObject({ enabled: true, ready: true, status: 'healthy' });
  });

  it('is off by default: no route, a disabled health check, no tsheadroom families', async () => {
    const t = await startHarness();
    proxies.push(t);
    expect((await fetch(`${t.url}/hooks/aperture`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await json(fetch(`${t.url}/health`))).checks.hook.status).toBe('disabled');
    expect(await (await fetch(`${t.url}/metrics`)).text()).not.toContain('tsheadroom_');
  });
});
