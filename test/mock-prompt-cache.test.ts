/**
 * The mock upstream's prompt-cache simulation (what the demo, tests and benchmarks see as
 * provider cache figures): Anthropic's incremental conversation caching, where each turn moves
 * the breakpoint to its newest block and reads the prefix the previous turn cached.
 */
import { describe, expect, it } from 'vitest';
import { chatCompletion } from '../src/mock/openai.js';
import { PromptCacheSim } from '../src/mock/prompt-cache.js';

const turn = (n: number, withBreakpoint = true) => {
  const messages: { role: string; content: Record<string, unknown>[] }[] = [];
  for (let i = 0; i < n; i++) {
    messages.push({ role: 'assistant', content: [{ type: 'tool_use', id: `t${i}`, name: 'ls', input: {} }] });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: `t${i}`, content: `output ${i} `.repeat(400) }] });
  }
  const last = messages[messages.length - 1]!.content;
  if (withBreakpoint) last[last.length - 1] = { ...last[last.length - 1], cache_control: { type: 'ephemeral' } };
  return { model: 'claude', system: [{ type: 'text', text: 'system '.repeat(50) }], messages };
};

describe('mock prompt cache (Anthropic)', () => {
  it('a moved breakpoint reads what the previous turn cached and writes only the new blocks', () => {
    let now = 1_000_000;
    const sim = new PromptCacheSim(() => now);
    const first = sim.anthropicUsage(turn(1), 5_000);
    expect(first.cacheRead).toBe(0);
    expect(first.cacheWrite5m).toBeGreaterThan(0);
    now += 10_000;
    const second = sim.anthropicUsage(turn(2), 10_000);
    expect(second.cacheRead).toBe(first.cacheWrite5m); // the whole first turn, found one turn back
    expect(second.cacheWrite5m).toBeGreaterThan(0);
    expect(second.cacheRead + second.cacheWrite5m + second.uncached).toBe(10_000);
  });

  it('a changed earlier block, an expired entry or no breakpoint reads nothing', () => {
    let now = 1_000_000;
    const sim = new PromptCacheSim(() => now);
    sim.anthropicUsage(turn(2), 10_000);
    const changed = turn(3);
    changed.messages[1]!.content[0]!.content = 'rewritten';
    expect(sim.anthropicUsage(changed, 10_000).cacheRead).toBe(0);
    now += 301_000;
    expect(sim.anthropicUsage(turn(3), 10_000).cacheRead).toBe(0);
    expect(sim.anthropicUsage(turn(4, false), 10_000)).toMatchObject({ cacheRead: 0, cacheWrite5m: 0, uncached: 10_000 });
  });
});

describe('mock prompt cache (OpenAI)', () => {
  it('tools are part of the cached prefix: the same conversation with other tools misses', () => {
    const sim = new PromptCacheSim();
    const messages = [{ role: 'system', content: 'system prompt '.repeat(600) }, { role: 'user', content: 'hi' }];
    const tools = [{ type: 'function', function: { name: 'run', parameters: { type: 'object' } } }];
    const cached = (body: Record<string, unknown>) => {
      const bytes = Buffer.byteLength(JSON.stringify(body));
      return ((chatCompletion(body, bytes, sim, false).usage as Record<string, unknown>).prompt_tokens_details as { cached_tokens: number }).cached_tokens;
    };
    expect(cached({ model: 'gpt-4o', tools, messages })).toBe(0);
    expect(cached({ model: 'gpt-4o', tools, messages })).toBeGreaterThanOrEqual(1024);
    expect(cached({ model: 'gpt-4o', tools: [...tools, { type: 'function', function: { name: 'other', parameters: { type: 'object' } } }], messages })).toBe(0);
  });
});

describe('mock prompt cache: TTLs and token counting as Anthropic bills them', () => {
  const body = (n: number) => {
    const b = turn(n) as Record<string, unknown> & { system: Record<string, unknown>[] };
    b.system = [{ type: 'text', text: 'system '.repeat(400), cache_control: { type: 'ephemeral', ttl: '1h' } }];
    return b;
  };

  it('mixed TTLs: 1-hour writes up to the last 1-hour breakpoint, 5-minute writes after it', () => {
    let now = 1_000_000;
    const sim = new PromptCacheSim(() => now);
    const first = sim.anthropicUsage(body(1), 20_000);
    expect(first.cacheRead).toBe(0);
    expect(first.cacheWrite1h).toBeGreaterThan(500); // the system prompt
    expect(first.cacheWrite5m).toBeGreaterThan(0); // the conversation after it
    // 10 minutes later the 5-minute entries expired; the 1-hour one is read back
    now += 10 * 60_000;
    const later = sim.anthropicUsage(body(2), 20_000);
    expect(later.cacheRead).toBe(first.cacheWrite1h);
    expect(later.cacheWrite1h).toBe(0);
    expect(later.cacheWrite5m).toBeGreaterThan(first.cacheWrite5m);
  });

  it('cl100k mode counts the content with a BPE vocabulary, the same way for the total and the cached prefix', () => {
    const sim = new PromptCacheSim(() => 1_000_000, 'cl100k');
    const b = turn(2);
    const total = sim.promptTokens(b, Buffer.byteLength(JSON.stringify(b)), 'anthropic');
    const u = sim.anthropicUsage(b, total);
    // everything up to the breakpoint (the last block) is written; framing tokens after it are not
    expect(u.cacheWrite5m).toBeGreaterThan(0.9 * total);
    expect(u.cacheWrite5m + u.uncached).toBe(total);
    // "output 0 " repeated: a handful of tokens per repetition, not 4 bytes each
    expect(total).not.toBe(Math.ceil(Buffer.byteLength(JSON.stringify(b)) / 4));
    expect(sim.outputTokens('hello world')).toBe(2);
  });
});
