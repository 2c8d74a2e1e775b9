/**
 * Property tests (fast-check, fixed seeds): for generated agent conversations in all three
 * APIs, compression is deterministic, never makes anything larger, never loses planted
 * errors or needles of the live tool output, and never breaks tool-call pairing or any other
 * part of the request structure.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compressRequest } from '../src/compress/engine.js';
import { DEFAULT_SETTINGS } from '../src/compress/options.js';
import { routeText } from '../src/compress/router.js';
import { crushJson } from '../src/compress/transforms/json-crusher.js';
import { generateOutput, OUTPUT_TYPES, type OutputType, type Sample } from '../src/mock/agent-outputs.js';
import { tctx } from './helpers/compress.js';

type Api = 'messages' | 'chat' | 'responses';

const sampleArb = fc.record({
  type: fc.constantFrom(...OUTPUT_TYPES),
  size: fc.integer({ min: 3_000, max: 40_000 }),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
});

function build(api: Api, samples: Sample[], breakpoint = false): Record<string, unknown> {
  const question = samples[samples.length - 1]!.query;
  if (api === 'messages') {
    const messages: unknown[] = [{ role: 'user', content: question }];
    samples.forEach((s, i) => {
      const last = i === samples.length - 1;
      messages.push({ role: 'assistant', content: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', id: `toolu_${i}`, name: `tool_${s.type}`, input: { i } }] });
      messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${i}`, content: s.text, ...(last && breakpoint ? { cache_control: { type: 'ephemeral' } } : {}) }] });
    });
    return { model: 'claude-sonnet-4-5', max_tokens: 100, messages };
  }
  if (api === 'chat') {
    const messages: unknown[] = [{ role: 'user', content: question }];
    samples.forEach((s, i) => {
      messages.push({ role: 'assistant', content: null, tool_calls: [{ id: `call_${i}`, type: 'function', function: { name: `tool_${s.type}`, arguments: `{"i":${i}}` } }] });
      messages.push({ role: 'tool', tool_call_id: `call_${i}`, content: s.text });
    });
    return { model: 'gpt-4o', messages };
  }
  const input: unknown[] = [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: question }] }];
  samples.forEach((s, i) => {
    input.push({ type: 'function_call', call_id: `fc_${i}`, name: `tool_${s.type}`, arguments: '{}' });
    input.push({ type: 'function_call_output', call_id: `fc_${i}`, output: s.text });
  });
  return { model: 'gpt-5', input };
}

const SLOT_KEYS = new Set(['content', 'text', 'output']);
const ID_KEYS = new Set(['id', 'tool_use_id', 'tool_call_id', 'call_id', 'name', 'arguments', 'role', 'type']);

/** Same structure; only slot strings may differ. Returns the paths of differing strings. */
function diffPaths(a: unknown, b: unknown, path: string[] = []): string[] {
  if (typeof a === 'string' && typeof b === 'string') {
    if (a === b) return [];
    const key = path[path.length - 1] ?? '';
    if (!SLOT_KEYS.has(key) || ID_KEYS.has(key)) throw new Error(`non-slot string changed at ${path.join('.')}`);
    return [path.join('.')];
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) throw new Error(`array changed at ${path.join('.')}`);
    return a.flatMap((x, i) => diffPaths(x, b[i], [...path, String(i)]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.join() !== kb.join()) throw new Error(`keys changed at ${path.join('.')}`);
    return ka.flatMap((k) => diffPaths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], [...path, k]));
  }
  if (a !== b) throw new Error(`value changed at ${path.join('.')}`);
  return [];
}

describe('compression properties', () => {
  it('deterministic, never larger, keeps needles of the live output, keeps structure and tool pairs', () => {
    fc.assert(
      fc.property(fc.constantFrom<Api>('messages', 'chat', 'responses'), fc.array(sampleArb, { minLength: 1, maxLength: 3 }), fc.boolean(), (api, specs, breakpoint) => {
        const samples = specs.map((s) => generateOutput(s.type as OutputType, s.size, s.seed));
        const body = build(api, samples, breakpoint);
        const buf = Buffer.from(JSON.stringify(body));
        const input = { body: buf, api, model: String(body.model), settings: { ...DEFAULT_SETTINGS, excludeTools: [] }, scope: 'live' as const };
        const r1 = compressRequest(input);
        const r2 = compressRequest(input);
        // deterministic
        expect(r1.body?.toString('base64')).toBe(r2.body?.toString('base64'));
        const out = r1.body ?? buf;
        // never larger, per slot and overall
        expect(out.length).toBeLessThanOrEqual(buf.length);
        for (const s of r1.slots) if (s.outcome === 'compressed') expect(s.tokensAfter).toBeLessThan(s.tokensBefore);
        expect(r1.tokensAfter).toBeLessThanOrEqual(r1.tokensBefore);
        // structure and pairing: only slot strings differ, only in tool outputs, and only in
        // the newest turn when a breakpoint covers the history (it may be cached); history
        // no cache can hold is compressed at first sight
        const parsedIn = JSON.parse(buf.toString());
        const parsedOut = JSON.parse(out.toString());
        const changed = diffPaths(parsedIn, parsedOut);
        const listKey = api === 'responses' ? 'input' : 'messages';
        const lastIndex = (parsedIn[listKey] as unknown[]).length - 1;
        for (const p of changed) {
          const [key, index] = p.split('.');
          expect(key).toBe(listKey);
          const item = parsedIn[listKey][Number(index)] as Record<string, unknown>;
          if (api === 'responses') expect(item.type).toBe('function_call_output');
          else if (api === 'chat') expect(item.role).toBe('tool');
          else if (breakpoint) expect(Number(index)).toBe(lastIndex);
          else expect((item.content as Record<string, unknown>[])[0]!.type).toBe('tool_result');
        }
        // needles of the live (last) output survive
        const last = samples[samples.length - 1]!;
        const list = (parsedOut.messages ?? parsedOut.input) as Record<string, unknown>[];
        const lastItem = list[list.length - 1]!;
        const text = api === 'messages' ? ((lastItem.content as Record<string, unknown>[])[0]!.content as string) : api === 'chat' ? (lastItem.content as string) : (lastItem.output as string);
        for (const n of last.needles) expect(text, `${last.type} needle`).toContain(n);
      }),
      { numRuns: 40, seed: 1234 },
    );
  });

  it('the JSON crusher keeps planted error rows and rare-key rows of any record array', () => {
    const rowArb = fc.record({
      id: fc.integer({ min: 0, max: 1e6 }),
      name: fc.string({ maxLength: 12 }),
      status: fc.constantFrom('ok', 'ok', 'ok', 'pending'),
      value: fc.double({ min: 0, max: 100, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(rowArb, { minLength: 30, maxLength: 400 }), fc.nat(), fc.nat(), (rows, a, b) => {
        const data: Record<string, unknown>[] = rows.map((r) => ({ ...r }));
        const ei = a % data.length;
        const ni = b % data.length;
        data[ei] = { ...data[ei], status: 'failed', error: 'planted failure 7731' };
        data[ni] = { ...data[ni], needle_marker: 'NEEDLE-4242' };
        const text = JSON.stringify(data, null, 2);
        const out = crushJson(text, tctx());
        if (!out) return;
        expect(out.text.length).toBeLessThan(text.length);
        expect(out.text).toContain('planted failure 7731');
        expect(out.text).toContain('NEEDLE-4242');
      }),
      { numRuns: 60, seed: 99 },
    );
  });

  it('routing arbitrary text never throws, never grows and is deterministic', () => {
    const textArb = fc.oneof(
      fc.string({ maxLength: 3000 }),
      fc.array(fc.constantFrom('INFO ok', 'ERROR boom', 'src/a.ts:12:x', '{"a":1}', '<note>x</note>', '```', '+ add', '- del', '@@ -1 +1 @@', ''), { maxLength: 400 }).map((l) => l.join('\n')),
      fc.jsonValue().map((v) => JSON.stringify(v, null, 2) ?? ''),
    );
    fc.assert(
      fc.property(textArb, (text) => {
        const a = routeText(text, tctx('why ERROR?'));
        const b = routeText(text, tctx('why ERROR?'));
        expect(a?.text).toBe(b?.text);
        if (a) expect(a.text.length).toBeLessThan(text.length);
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});
