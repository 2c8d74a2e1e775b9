/**
 * compress() with Vercel AI SDK messages (v5 `ModelMessage` and v4 `CoreMessage`): tool
 * results are compressed and every other part comes back untouched, in the same format.
 */
import { describe, expect, it } from 'vitest';
import { compress, detectFormat, findMarkers } from '../src/index.js';
import { generateOutput } from '../src/mock/agent-outputs.js';

const S = generateOutput('search_json', 40_000, 31);
const L = generateOutput('service_log', 30_000, 32);

const v5 = [
  { role: 'system', content: 'You are a careful coding agent.' },
  { role: 'user', content: [{ type: 'text', text: S.query }, { type: 'image', image: 'data:image/png;base64,iVBORw0KGgo=' }] },
  {
    role: 'assistant',
    content: [
      { type: 'reasoning', text: 'Search first.' },
      { type: 'tool-call', toolCallId: 'call_1', toolName: 'search', input: { q: 'failing' }, providerOptions: { anthropic: { cacheControl: { type: 'ephemeral' } } } },
    ],
  },
  { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_1', toolName: 'search', output: { type: 'json', value: JSON.parse(S.text) } }] },
  { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'call_2', toolName: 'logs', input: {} }] },
  { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_2', toolName: 'logs', output: { type: 'text', value: L.text } }] },
  { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_3', toolName: 'sh', output: { type: 'error-text', value: 'exit 1: permission denied' } }] },
];

type Part = Record<string, unknown>;
const parts = (m: unknown) => (m as { content: Part[] }).content;

describe('compress() with Vercel AI SDK messages', () => {
  it('detects the format from its part types', () => {
    expect(detectFormat(v5)).toBe('vercel');
    expect(detectFormat([{ role: 'user', content: 'hi' }])).toBe('openai');
  });

  it('compresses tool results (json and text outputs) and leaves every other part as it was', () => {
    const r = compress(v5, { model: 'gpt-4o' });
    expect(r.messages).toHaveLength(v5.length);
    for (const i of [0, 1, 2, 4, 6]) expect(r.messages[i]).toEqual(v5[i]);
    const json = parts(r.messages[3])[0]!;
    expect(json).toMatchObject({ type: 'tool-result', toolCallId: 'call_1', toolName: 'search', output: { type: 'text' } });
    const jsonText = (json.output as { value: string }).value;
    expect(jsonText.length).toBeLessThan(S.text.length / 4);
    for (const n of S.needles) expect(jsonText).toContain(n);
    const log = parts(r.messages[5])[0]!;
    const logText = (log.output as { type: string; value: string }).value;
    expect((log.output as { type: string }).type).toBe('text');
    expect(logText.length).toBeLessThan(L.text.length / 4);
    for (const n of L.needles) expect(logText).toContain(n);
    expect(r.transforms_applied.sort()).toEqual(['json_crusher', 'log_compressor']);
    const hashes = [...findMarkers(jsonText), ...findMarkers(logText)].map((m) => m.hash);
    expect(r.ccr_hashes.sort()).toEqual(hashes.sort());
    expect(r.tokens_saved).toBeGreaterThan(r.tokens_before / 2);
    // the input is not mutated
    expect((parts(v5[5])[0]!.output as { value: string }).value).toBe(L.text);
  });

  it('v4 CoreMessage tool results (`result`, `args`) are compressed in place', () => {
    const v4 = [
      { role: 'user', content: L.query },
      { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 't1', toolName: 'logs', args: { n: 500 } }] },
      { role: 'tool', content: [{ type: 'tool-result', toolCallId: 't1', toolName: 'logs', result: L.text }] },
    ];
    const r = compress(v4, { format: 'vercel' });
    expect(r.messages[0]).toEqual(v4[0]);
    expect(r.messages[1]).toEqual(v4[1]);
    const result = parts(r.messages[2])[0]!.result as string;
    expect(result.length).toBeLessThan(L.text.length / 4);
    for (const n of L.needles) expect(result).toContain(n);
  });

  it('small outputs and optimize:false return the messages unchanged', () => {
    const small = [
      { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'a', toolName: 'ls', input: {} }] },
      { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'a', toolName: 'ls', output: { type: 'text', value: 'a.txt\nb.txt' } }] },
    ];
    expect(compress(small).messages).toEqual(small);
    const off = compress(v5, { optimize: false });
    expect(off.messages).toEqual(v5);
    expect(off.tokens_saved).toBe(0);
  });
});
