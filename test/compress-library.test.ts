import { describe, expect, it } from 'vitest';
import { compress, CompressOptionsError, detectFormat, findMarkers } from '../src/index.js';
import { resolveSettings } from '../src/compress/options.js';
import { generateOutput } from '../src/mock/agent-outputs.js';

const S = generateOutput('search_json', 40_000, 21);
const L = generateOutput('service_log', 30_000, 22);

const openai = [
  { role: 'system', content: 'You are a helpful agent. '.repeat(40) },
  { role: 'user', content: S.query },
  { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'search', arguments: '{}' } }] },
  { role: 'tool', tool_call_id: 'c1', content: S.text },
  { role: 'assistant', content: 'Found it.' },
];

describe('compress() library API', () => {
  it('compresses OpenAI-format messages and reports Headroom\'s result fields', () => {
    const r = compress(openai, { model: 'gpt-4o' });
    expect(r.messages).toHaveLength(5);
    expect(r.messages[0]).toEqual(openai[0]);
    expect(r.messages[2]).toEqual(openai[2]);
    const tool = r.messages[3] as { content: string; tool_call_id: string };
    expect(tool.tool_call_id).toBe('c1');
    expect(tool.content.length).toBeLessThan(S.text.length / 5);
    for (const n of S.needles) expect(tool.content).toContain(n);
    expect(r.tokens_saved).toBe(r.tokens_before - r.tokens_after);
    expect(r.compression_ratio).toBeCloseTo(r.tokens_after / r.tokens_before, 3);
    expect(r.transforms_applied).toEqual(['json_crusher']);
    expect(r.transforms_summary).toEqual({ json_crusher: 1 });
    expect(r.ccr_hashes).toEqual(findMarkers(tool.content).map((m) => m.hash));
    expect(r.ccr[0]!.original).toBe(S.text);
    expect(r.error).toBeUndefined();
  });

  it('compresses every eligible message, not only the newest turn (library semantics)', () => {
    const msgs = [...openai, { role: 'user', content: 'and the logs?' }, { role: 'assistant', content: null, tool_calls: [{ id: 'c2', type: 'function', function: { name: 'logs', arguments: '{}' } }] }, { role: 'tool', tool_call_id: 'c2', content: L.text }];
    const r = compress(msgs, { model: 'gpt-4o' });
    expect(r.transforms_applied).toEqual(['json_crusher', 'log_compressor']);
    expect(r.ccr_hashes).toHaveLength(2);
  });

  it('accepts Anthropic-format messages and returns the same format', () => {
    const msgs = [
      { role: 'user', content: [{ type: 'text', text: L.query }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'tu1', name: 'sh', input: { c: 'journalctl' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'tu1', content: L.text }] },
    ];
    expect(detectFormat(msgs)).toBe('anthropic');
    const r = compress(msgs);
    const block = (r.messages[2] as { content: { type: string; tool_use_id: string; content: string }[] }).content[0]!;
    expect(block.type).toBe('tool_result');
    expect(block.tool_use_id).toBe('tu1');
    for (const n of L.needles) expect(block.content).toContain(n);
    expect(r.transforms_applied).toEqual(['log_compressor']);
  });

  it('accepts Responses input items', () => {
    const items = [
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'why?' }] },
      { type: 'function_call', call_id: 'f1', name: 'logs', arguments: '{}' },
      { type: 'function_call_output', call_id: 'f1', output: L.text },
    ];
    expect(detectFormat(items)).toBe('responses');
    const r = compress(items, { model: 'gpt-5' });
    expect((r.messages[2] as { output: string }).output.length).toBeLessThan(L.text.length / 3);
  });

  it('takes CompressConfig options in snake_case, camelCase or under config, with the same defaults', () => {
    expect(resolveSettings({})).toMatchObject({ compressUserMessages: false, protectRecent: 4, protectAnalysisContext: true, targetRatio: null, minTokensToCompress: 250 });
    const user = [{ role: 'user', content: L.text }];
    expect(compress(user).transforms_applied).toEqual([]);
    expect(compress(user, { compress_user_messages: true }).transforms_applied).toEqual(['log_compressor']);
    expect(compress(user, { compressUserMessages: true }).transforms_applied).toEqual(['log_compressor']);
    expect(compress(user, { config: { compress_user_messages: true } }).transforms_applied).toEqual(['log_compressor']);
    expect(compress(openai, { min_tokens_to_compress: 10_000_000 }).transforms_applied).toEqual([]);
    const kept = (r: ReturnType<typeof compress>) => (r.messages[3] as { content: string }).content.split('\n').filter((l) => /^\d+\t/.test(l)).length;
    expect(kept(compress(openai, { target_ratio: 0.5 }))).toBeGreaterThan(kept(compress(openai)));
    expect(kept(compress(openai, { savings_profile: 'balanced' }))).toBeGreaterThan(kept(compress(openai)));
  });

  it('rejects wrongly typed options and unknown profiles', () => {
    expect(() => compress(openai, { protect_recent: 'four' })).toThrow(CompressOptionsError);
    expect(() => compress(openai, { target_ratio: 2 })).toThrow(/target_ratio/);
    expect(() => compress(openai, { savings_profile: 'max' })).toThrow(/savings_profile/);
    expect(() => compress(openai, { config: 'x' as unknown as Record<string, unknown> })).toThrow(/config/);
  });

  it('never compresses system messages unless asked, and leaves code alone while the user debugs it', () => {
    const code = Array.from({ length: 120 }, (_, i) => `export function handler${i}(req: Request) {\n  return respond(req, ${i});\n}`).join('\n');
    const msgs = [{ role: 'system', content: L.text }, { role: 'user', content: 'fix the bug in this handler' }, { role: 'assistant', content: null, tool_calls: [{ id: 'r', type: 'function', function: { name: 'cat', arguments: '{}' } }] }, { role: 'tool', tool_call_id: 'r', content: code }];
    expect(compress(msgs).transforms_applied).toEqual([]);
    expect(compress(msgs, { compress_system_messages: true }).transforms_applied).toEqual(['log_compressor']);
  });

  it('optimize: false and empty lists return the messages unchanged', () => {
    const r = compress(openai, { optimize: false });
    expect(r.messages).toEqual(openai);
    expect(r.tokens_saved).toBe(0);
    expect(r.tokens_before).toBeGreaterThan(0);
    expect(compress([]).tokens_before).toBe(0);
  });

  it('is deterministic', () => {
    expect(JSON.stringify(compress(openai).messages)).toBe(JSON.stringify(compress(openai).messages));
  });
});
