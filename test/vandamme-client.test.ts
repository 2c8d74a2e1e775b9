/**
 * Vandamme's dashboard against our live endpoints, reading them the way it does: running totals
 * through a YAML 1.1 parser (PyYAML's `safe_load` turns an unquoted ISO timestamp into a
 * datetime, which its time formatter cannot read: "Unknown"), `summary.last_accessed.top`,
 * `/metrics/logs` times as epoch seconds (`datetime.fromtimestamp(ts)`; anything else shows a
 * blank time), `tool_use_count` on traces and `tool_uses` on rows. The client below is written
 * here from those reading rules, with the field names Vandamme's client reads.
 */
import Anthropic from '@anthropic-ai/sdk';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_ANTHROPIC_KEY, type Harness, startHarness } from './helpers/harness.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !(v instanceof Date) ? (v as Obj) : {});

/** Vandamme's relative-time formatter: a string in ISO form, else "Unknown" ("N/A" when empty). */
function formatTimestamp(v: unknown, now = Date.now()): string {
  if (v === null || v === undefined || v === '') return 'N/A';
  if (typeof v !== 'string') return 'Unknown';
  const t = Date.parse(v);
  if (Number.isNaN(t)) return 'Unknown';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  return s < 60 ? `${s}s ago` : `${Math.floor(s / 60)}m ago`;
}

/** Vandamme's log time: `HH:MM:SS` from epoch seconds (int or float), blank for anything else. */
function formatLogTime(ts: unknown): string {
  if (typeof ts !== 'number') return '';
  const d = new Date(ts * 1000);
  return Number.isNaN(d.getTime()) ? '' : d.toTimeString().slice(0, 8);
}

/** What the Overview page and the provider/model grids take from the running totals. */
function readTotals(yamlText: string) {
  const data = obj(parse(yamlText, { version: '1.1' }));
  const summary = obj(data.summary);
  const lastAccessed = obj(summary.last_accessed).top;
  const providers = Object.entries(obj(data.providers)).map(([name, p]) => {
    const rollup = obj(obj(p).rollup);
    const total = obj(rollup.total);
    return {
      provider: name,
      requests: Number(total.requests ?? 0),
      tool_calls: Number(total.tool_calls ?? total.tool_uses ?? total.tool_results ?? 0),
      last_accessed: formatTimestamp(obj(p).last_accessed),
      models: Object.entries(obj(obj(p).models)).map(([model, m]) => ({
        model, requests: Number(obj(obj(m).total).requests ?? 0), tool_uses: obj(obj(m).total).tool_uses, last_accessed: formatTimestamp(obj(m).last_accessed),
      })),
    };
  });
  return { lastActivity: formatTimestamp(lastAccessed), lastAccessedRaw: lastAccessed, totalRequests: Number(summary.total_requests ?? 0), providers };
}

let h: Harness;
let anthropic: Anthropic;
beforeAll(async () => {
  h = await startHarness();
  anthropic = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
  // one answer with a tool call (the mock calls the offered tool), one plain streamed answer, one error
  await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, tools: [{ name: 'read_logs', input_schema: { type: 'object' } }], messages: [{ role: 'user', content: 'look at the logs' }] });
  await (anthropic.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] })).finalMessage();
  await anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-mock-scenario': 'status:500' } }).catch(() => undefined);
  await h.waitForOutcomes(3);
});
afterAll(() => h.close());

describe('Vandamme\'s dashboard reading our live endpoints', () => {
  it('running totals (YAML 1.1): times stay strings, last activity is summary.last_accessed.top, no "Unknown"', async () => {
    const text = await (await fetch(`${h.url}/metrics/running-totals`)).text();
    const t = readTotals(text);
    expect(typeof t.lastAccessedRaw).toBe('string');
    expect(t.lastActivity).toMatch(/^\d+[sm] ago$/);
    expect(t.totalRequests).toBe(3);
    const anth = t.providers.find((p) => p.provider === 'anthropic')!;
    expect(anth.last_accessed).toMatch(/ ago$/);
    expect(anth.models.map((m) => m.last_accessed).every((s) => s.endsWith(' ago'))).toBe(true);
    // the tool call the model made is counted under Vandamme's name too
    expect(anth.tool_calls).toBe(1);
    expect(anth.models.find((m) => m.model.startsWith('claude-sonnet-4-5'))!.tool_uses).toBe(1);
    // nothing in the document parses as a date under YAML 1.1
    const dates: unknown[] = [];
    const walk = (v: unknown) => {
      if (v instanceof Date) dates.push(v);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(parse(text, { version: '1.1' }));
    expect(dates).toEqual([]);
  });

  it('/metrics/logs: ts is epoch seconds (a time, not a blank), tool_use_count is there; ours stay', async () => {
    const logs = obj(await (await fetch(`${h.url}/metrics/logs`)).json());
    const traces = logs.traces as Obj[];
    const errors = logs.errors as Obj[];
    expect(traces).toHaveLength(3);
    for (const e of [...traces, ...errors]) {
      expect(typeof e.ts).toBe('number');
      expect(formatLogTime(e.ts)).toMatch(/^\d\d:\d\d:\d\d$/);
      expect(Math.abs((e.ts as number) * 1000 - Date.now())).toBeLessThan(60 * 60_000);
      expect(new Date((e.ts as number) * 1000).toISOString()).toBe(e.ts_iso);
    }
    const withTool = traces.find((t) => t.tool_use_count === 1)!;
    expect(withTool).toMatchObject({ tool_call_count: 1, tool_calls: 1, tool_definitions: 1, tool_result_count: 0 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ status: 'error', error_type: 'upstream_server_error', tool_use_count: 0 });
  });

  it('active rows carry tool_uses next to our tool_calls', async () => {
    const ac = new AbortController();
    const res = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': FAKE_ANTHROPIC_KEY, 'anthropic-version': '2023-06-01', 'x-mock-scenario': 'hang-mid-stream:2' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', stream: true, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    const snap = obj(await (await fetch(`${h.url}/metrics/active-requests`)).json());
    const row = (snap.active_requests as Obj[])[0]!;
    expect(row).toMatchObject({ tool_uses: 0, tool_calls: 0, tool_results: 0 });
    expect(typeof row.start_time).toBe('number');
    ac.abort();
    await reader.cancel().catch(() => undefined);
  });
});
