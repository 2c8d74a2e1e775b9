import pino from 'pino';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it, vi } from 'vitest';
import { nameMatcher } from '../src/capabilities/live/glob.js';
import { Ring } from '../src/capabilities/live/ring.js';
import { SummaryLog } from '../src/capabilities/live/summary.js';
import { runningTotals, type TotalsQuery } from '../src/capabilities/live/totals.js';
import { LiveTracker, OTHER_MODEL } from '../src/capabilities/live/tracker.js';
import { activeSnapshot } from '../src/capabilities/live/views.js';
import { totalsYaml } from '../src/capabilities/live/yaml.js';
import { fakeOutcome, fakeStart, usage } from './helpers/live-events.js';

const tracker = (over: Partial<{ errorBuffer: number; traceBuffer: number; maxModels: number }> = {}) =>
  new LiveTracker({ errorBuffer: 100, traceBuffer: 200, maxModels: 1000, ...over });

const query = (over: Partial<TotalsQuery> = {}): TotalsQuery => ({
  provider: null, model: null, providerPattern: null, modelPattern: null, includeActive: true, ...over,
});

const COLON_MODEL = 'kwaipilot/kat-coder-pro:free';

describe('ring buffer', () => {
  it('keeps the newest items, newest first, and never grows', () => {
    const r = new Ring<number>(3);
    for (let i = 1; i <= 7; i++) r.push(i);
    expect(r.size).toBe(3);
    expect(r.pushed).toBe(7);
    expect(r.newest()).toEqual([7, 6, 5]);
    expect(r.newest(2)).toEqual([7, 6]);
    expect(r.newest(99)).toEqual([7, 6, 5]);
    const zero = new Ring<number>(0);
    zero.push(1);
    expect(zero.newest()).toEqual([]);
  });
});

describe('wildcard filters', () => {
  it('are case-insensitive, support * and ?, and treat everything else literally', () => {
    expect(nameMatcher('GPT-4*')!('gpt-4o-mini')).toBe(true);
    expect(nameMatcher('gpt-4?')!('gpt-4o')).toBe(true);
    expect(nameMatcher('gpt-4?')!('gpt-4o-mini')).toBe(false);
    expect(nameMatcher('kwaipilot/*:free')!(COLON_MODEL)).toBe(true);
    expect(nameMatcher('*:FREE')!(COLON_MODEL)).toBe(true);
    expect(nameMatcher('gpt.4o')!('gpt-4o')).toBe(false); // '.' is literal
    expect(nameMatcher('[ab]')!('a')).toBe(false); // no character classes
    expect(nameMatcher('(other)')!('(other)')).toBe(true);
    expect(nameMatcher('')).toBeNull();
    expect(nameMatcher(null)).toBeNull();
    expect(nameMatcher('a*b')!('a\nb')).toBe(true);
  });
});

describe('LiveTracker', () => {
  it('tracks a request from start through progress to its outcome', () => {
    const t = tracker();
    const s = fakeStart({ requestedModel: COLON_MODEL, stream: true, tools: { definitions: 2, results: 1, calls: 0 } });
    t.start(s);
    expect(t.active.size).toBe(1);
    const v0 = t.version;
    t.progress({ requestId: s.requestId, model: COLON_MODEL, inputTokens: 40, outputTokens: 3, cacheReadTokens: 30, cacheWriteTokens: 5, toolCalls: 1, bytesOut: 99, ttfbMs: 12 });
    expect(t.version).toBe(v0 + 1);
    const row = activeSnapshot(t).active_requests[0]!;
    expect(row).toMatchObject({
      request_id: s.requestId, model: COLON_MODEL, requested_model: COLON_MODEL, resolved_model: COLON_MODEL,
      qualified_model: `openai:${COLON_MODEL}`, is_streaming: true, input_tokens: 40, output_tokens: 3,
      cache_read_tokens: 30, cache_creation_tokens: 5, tool_definitions: 2, tool_results: 1, tool_calls: 1,
      response_size: 99, request_size: 100,
    });
    expect(row.start_time_iso.endsWith('Z')).toBe(true);
    t.outcome(fakeOutcome(s, { model: COLON_MODEL, usage: usage(40, 7, 30, 5), tools: { definitions: 2, results: 1, calls: 1 } }));
    expect(t.active.size).toBe(0);
    const trace = t.recentTraces(1)[0]!;
    expect(trace).toMatchObject({
      model: COLON_MODEL, requested_model: COLON_MODEL, status: 'ok', input_tokens: 40, output_tokens: 7,
      cache_read_tokens: 30, cache_creation_tokens: 5, tool_calls: 1, duration_ms: 100,
    });
    const split = t.providers.get('openai')!.models.get(COLON_MODEL)!;
    expect(split.streaming.requests).toBe(1);
    expect(split.nonStreaming.requests).toBe(0);
    expect(split.total.cacheReadTokens).toBe(30);
    expect(split.total.cacheWriteTokens).toBe(5);
  });

  it('ignores progress for unknown requests and outcomes without a start', () => {
    const t = tracker();
    t.progress({ requestId: 'nope', model: null, inputTokens: 1, outputTokens: 1, bytesOut: 0, ttfbMs: null });
    t.outcome(fakeOutcome(fakeStart()));
    expect(t.active.size).toBe(0);
    expect(t.all.total.completed).toBe(1);
  });

  it('an error is decided by the outcome, not by a message: counted per type, in traces and errors', () => {
    const t = tracker();
    const a = fakeStart({ stream: true });
    t.start(a);
    t.outcome(fakeOutcome(a, { ok: false, status: 200, errorType: 'upstream_stream', errorMessage: 'upstream stream error: overloaded key=sk-ant-api03-SECRETSECRETSECRET' }));
    const b = fakeStart();
    t.start(b);
    t.outcome(fakeOutcome(b, { ok: false, status: 429, errorType: 'upstream_rate_limited' }));
    expect(t.all.total.errors).toBe(2);
    expect(t.all.streaming.errors).toBe(1);
    expect(Object.fromEntries(t.all.errorTypes)).toEqual({ upstream_stream: 1, upstream_rate_limited: 1 });
    const [e2, e1] = t.recentErrors();
    expect(e1).toMatchObject({ seq: 1, status: 'error', error_type: 'upstream_stream', http_status: 200 });
    expect(e1!.error).not.toContain('SECRETSECRET');
    expect(e2).toMatchObject({ seq: 2, error_type: 'upstream_rate_limited' });
    expect(t.recentTraces().map((x) => x.status)).toEqual(['error', 'error']);
  });

  it('bounds errors and traces to their ring sizes', () => {
    const t = tracker({ errorBuffer: 3, traceBuffer: 5 });
    for (let i = 0; i < 20; i++) {
      const s = fakeStart();
      t.start(s);
      t.outcome(fakeOutcome(s, i % 2 ? { ok: false, errorType: 'upstream_server_error', status: 500 } : {}));
    }
    expect(t.traces.size).toBe(5);
    expect(t.errors.size).toBe(3);
    expect(t.recentTraces()[0]!.seq).toBe(20);
    expect(t.recentErrors()[0]!.seq).toBe(10);
  });

  it('folds models beyond the cap into (other)', () => {
    const t = tracker({ maxModels: 3 });
    for (let i = 0; i < 10; i++) {
      const s = fakeStart({ requestedModel: `m-${i}` });
      t.start(s);
      t.outcome(fakeOutcome(s));
    }
    const models = [...t.providers.get('openai')!.models.keys()];
    expect(models).toEqual(['m-0', 'm-1', 'm-2', OTHER_MODEL]);
    expect(t.providers.get('openai')!.models.get(OTHER_MODEL)!.total.requests).toBe(7);
    // a known model keeps its own bucket
    const s = fakeStart({ requestedModel: 'm-1' });
    t.start(s);
    t.outcome(fakeOutcome(s));
    expect(t.providers.get('openai')!.models.get('m-1')!.total.requests).toBe(2);
  });

  it('cuts absurdly long model names', () => {
    const t = tracker();
    const s = fakeStart({ requestedModel: 'x'.repeat(10_000) });
    t.start(s);
    t.outcome(fakeOutcome(s));
    expect(t.recentTraces(1)[0]!.model.length).toBe(512);
  });
});

describe('running totals', () => {
  it('include_active counts an active request exactly once (defect D1)', () => {
    const t = tracker();
    const done = fakeStart({ provider: 'openai', requestedModel: 'gpt-4o' });
    t.start(done);
    t.outcome(fakeOutcome(done, { usage: usage(10, 20) }));
    const live = fakeStart({ provider: 'openai', requestedModel: 'gpt-4o', stream: true });
    t.start(live);
    t.progress({ requestId: live.requestId, model: 'gpt-4o', inputTokens: 7, outputTokens: 2, bytesOut: 10, ttfbMs: 5 });

    const withActive = runningTotals(t, query());
    expect(withActive.summary.total_requests).toBe(2);
    expect(withActive.summary.completed_requests).toBe(1);
    expect(withActive.summary.active_requests).toBe(1);
    expect(withActive.summary.total_input_tokens).toBe(17);
    expect(withActive.summary.total_output_tokens).toBe(22);
    expect(withActive.summary.average_duration_ms).toBe(100); // completed only
    const m = withActive.providers.openai!.models['gpt-4o']!;
    expect(m.total.requests).toBe(2);
    expect(m.streaming!.requests).toBe(1);
    expect(m.streaming!.active_requests).toBe(1);
    expect(m.non_streaming!.requests).toBe(1);
    expect(withActive.providers.openai!.rollup.total.input_tokens).toBe(17);

    const without = runningTotals(t, query({ includeActive: false }));
    expect(without.summary.total_requests).toBe(1);
    expect(without.summary.total_input_tokens).toBe(10);
    expect(without.providers.openai!.models['gpt-4o']!.streaming).toBeUndefined();
    // the live state itself is never modified by a view
    expect(t.all.total.requests).toBe(1);
  });

  it('filters providers and models with wildcards, and the summary is the sum of what is shown', () => {
    const t = tracker();
    const add = (provider: 'openai' | 'anthropic', model: string, input: number) => {
      const s = fakeStart({ provider, requestedModel: model });
      t.start(s);
      t.outcome(fakeOutcome(s, { usage: usage(input, 1) }));
    };
    add('openai', 'gpt-4o', 1);
    add('openai', 'gpt-4o-mini', 2);
    add('openai', COLON_MODEL, 4);
    add('anthropic', 'claude-sonnet-5-5', 8);
    const byProvider = runningTotals(t, query({ provider: nameMatcher('OPEN*'), providerPattern: 'OPEN*' }));
    expect(Object.keys(byProvider.providers)).toEqual(['openai']);
    expect(byProvider.summary.total_input_tokens).toBe(7);
    const byModel = runningTotals(t, query({ model: nameMatcher('gpt-4?'), modelPattern: 'gpt-4?' }));
    expect(Object.keys(byModel.providers.openai!.models)).toEqual(['gpt-4o']);
    expect(byModel.summary.total_input_tokens).toBe(1);
    const colon = runningTotals(t, query({ model: nameMatcher('*:free'), modelPattern: '*:free' }));
    expect(Object.keys(colon.providers)).toEqual(['openai']);
    expect(Object.keys(colon.providers.openai!.models)).toEqual([COLON_MODEL]);
    const none = runningTotals(t, query({ provider: nameMatcher('nobody'), providerPattern: 'nobody' }));
    expect(none.providers).toEqual({});
    expect(none.summary.total_requests).toBe(0);
  });

  it('renders YAML that parses back to the same data, model ids intact', () => {
    const t = tracker();
    const s = fakeStart({ requestedModel: COLON_MODEL });
    t.start(s);
    t.outcome(fakeOutcome(s));
    const totals = runningTotals(t, query());
    const text = totalsYaml(totals);
    expect(text.startsWith('# headroom-ts running totals (cumulative since process start)')).toBe(true);
    expect(parseYaml(text)).toEqual(JSON.parse(JSON.stringify(totals)));
    expect(Object.keys((parseYaml(text) as typeof totals).providers.openai!.models)).toEqual([COLON_MODEL]);
  });
});

describe('summary log', () => {
  function capture() {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
    return { lines, log };
  }

  it('logs every N completed requests with cumulative and window figures clearly labelled', () => {
    const t = tracker();
    const { lines, log } = capture();
    new SummaryLog(t, log, { everyRequests: 3, everySeconds: 0 });
    for (let i = 0; i < 7; i++) {
      const s = fakeStart({ requestedModel: i < 5 ? COLON_MODEL : 'gpt-4o' });
      t.start(s);
      t.outcome(fakeOutcome(s, i === 4 ? { ok: false, status: 500, errorType: 'upstream_server_error' } : {}));
    }
    expect(lines).toHaveLength(2);
    type Block = { requests: number; errors: number; label: string };
    const second = lines[1]!.live_summary as { trigger: string; window: Block; cumulative: Block; top_models_cumulative: { model: string }[] };
    expect(second.trigger).toBe('every_3_requests');
    expect(second.window.requests).toBe(3);
    expect(second.window.errors).toBe(1);
    expect(second.window.label).toBe('since the previous summary line');
    expect(second.cumulative.requests).toBe(6);
    expect(second.cumulative.label).toBe('since process start');
    expect(second.top_models_cumulative[0]!.model).toBe(COLON_MODEL);
    expect(String(lines[1]!.msg)).toContain('cumulative since start');
  });

  it('logs every T seconds only when something completed', () => {
    // fake timers: each interval tick is run explicitly, so "no line while idle" is checked
    // over ticks that certainly happened, however loaded the machine is
    vi.useFakeTimers();
    try {
      const t = tracker();
      const { lines, log } = capture();
      const summary = new SummaryLog(t, log, { everyRequests: 0, everySeconds: 0.02 });
      vi.advanceTimersByTime(100); // five idle ticks before anything completed
      expect(lines).toHaveLength(0);
      const s = fakeStart();
      t.start(s);
      t.outcome(fakeOutcome(s));
      vi.advanceTimersByTime(20);
      expect(lines).toHaveLength(1);
      expect((lines[0]!.live_summary as { trigger: string }).trigger).toBe('every_0.02s');
      vi.advanceTimersByTime(100); // five idle ticks: no further lines
      expect(lines).toHaveLength(1);
      const s2 = fakeStart();
      t.start(s2);
      t.outcome(fakeOutcome(s2));
      vi.advanceTimersByTime(20);
      expect(lines).toHaveLength(2);
      expect((lines[1]!.live_summary as { window: { requests: number } }).window.requests).toBe(1);
      summary.close();
      vi.advanceTimersByTime(100);
      expect(lines).toHaveLength(2);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
