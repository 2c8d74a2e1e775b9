/**
 * Long runs without whitespace (`[[[[...`, `}}}}...`, `aaaa...`) cost js-tiktoken's byte-pair
 * merge about the cube of their length: 15,000 brackets took 25 s of blocked event loop in
 * the compression gate and in token counting. Runs over 128 bytes are now counted in bounded
 * pieces; ordinary text is counted exactly as before. Through real HTTP: such a tool output
 * is answered at once on `/v1/compress` and on the proxy path, and `/livez` keeps answering.
 */
import { createRequire } from 'node:module';
import OpenAI from 'openai';
import type { Tiktoken } from 'js-tiktoken/lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bpeCount, MAX_RUN_BYTES, pieceCounter, tokenCounterFor } from '../src/compress/tokens.js';
import { generateOutput, OUTPUT_TYPES } from '../src/mock/agent-outputs.js';
import { FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';

const require = createRequire(import.meta.url);
const { Tiktoken: Ctor } = require('js-tiktoken/lite') as typeof import('js-tiktoken/lite');
const ranks = (name: string) => {
  const r = require(`js-tiktoken/ranks/${name}`) as { default?: unknown };
  return (r.default ?? r) as ConstructorParameters<typeof Ctor>[0];
};
const encoders = { o200k: new Ctor(ranks('o200k_base')), cl100k: new Ctor(ranks('cl100k_base')) };
const patterns = { o200k: ranks('o200k_base').pat_str, cl100k: ranks('cl100k_base').pat_str };

/** The longest run of one pre-token class in `s`, in UTF-8 bytes. */
function longestRun(s: string): number {
  let max = 0;
  for (const m of s.matchAll(/[\p{L}\p{M}]+|[^\s\p{L}\p{N}]+|\s+/gu)) max = Math.max(max, Buffer.byteLength(m[0]));
  return max;
}

describe('BPE counting of long runs', () => {
  it('counts ordinary text exactly as the vocabulary does', () => {
    const texts = [
      ...OUTPUT_TYPES.map((t) => generateOutput(t, 12_000, 9).text),
      `${'='.repeat(80)}\nRESULTS\n${'-'.repeat(128)}\n`,
      ` id | name \n${'-'.repeat(60)}+${'-'.repeat(60)}\n  1 | a`,
      '这是一个中文句子，用来测试分词器的计数是否准确。日本語の文章もあります。',
      `${' '.repeat(100)}indented\n\n\n`,
      "don't, I'LL, we've; 1234567 12.5e3 -0.75\r\n\t\tfoo(bar) <|endoftext|> x  \n  y   z 😀👍🏽 naïve café Ünïcödé",
    ];
    const counters = { o200k: tokenCounterFor('gpt-4o'), cl100k: tokenCounterFor('gpt-4-turbo') };
    for (const [name, enc] of Object.entries(encoders)) {
      const counter = counters[name as keyof typeof counters];
      for (const t of texts) {
        const exact = enc.encode(t, [], []).length;
        expect(bpeCount((s) => enc.encode(s, [], []).length, t), `${name}: ${t.slice(0, 40)}`).toBe(exact);
        // pre-token by pre-token gives the same count as the text whole
        expect(pieceCounter(enc, patterns[name as keyof typeof patterns])(t), `${name}: ${t.slice(0, 40)}`).toBe(exact);
        // the counter the proxy uses (pre-token by pre-token, remembered), twice: cold and warm
        expect(counter.count(t), `${name}: ${t.slice(0, 40)}`).toBe(exact);
        expect(counter.count(t), `${name}: ${t.slice(0, 40)}`).toBe(exact);
      }
    }
  });

  it('never hands the byte-pair merge a run over 128 bytes, and stays close to the exact count', () => {
    const runs = ['['.repeat(600), '}'.repeat(600), '[{'.repeat(300), 'a'.repeat(600), '='.repeat(600), '中文字符'.repeat(100), '😀'.repeat(200), `x${' '.repeat(600)}y`];
    for (const [name, enc] of Object.entries(encoders)) {
      for (const run of runs) {
        let longest = 0;
        const spy = (s: string) => {
          longest = Math.max(longest, longestRun(s));
          return enc.encode(s, [], []).length;
        };
        const n = bpeCount(spy, `start ${run} end`);
        expect(longest, `${name}: ${run.slice(0, 10)}`).toBeLessThanOrEqual(MAX_RUN_BYTES);
        const exact = enc.encode(`start ${run} end`, [], []).length;
        // at most about one token more per 64-byte piece
        expect(Math.abs(n - exact), `${name}: ${run.slice(0, 10)}`).toBeLessThanOrEqual(Math.ceil(Buffer.byteLength(run) / 64) + 1);
      }
    }
  });
});

describe('a tool output of 15,000 or 200,000 brackets through real HTTP', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { maxBodyBytes: 8 * 1024 * 1024 } });
  });
  afterAll(() => h.close());

  const messages = (outputs: string[]) => [
    { role: 'user', content: 'what did the dump say?' },
    { role: 'assistant', content: null, tool_calls: outputs.map((_, i) => ({ id: `c${i}`, type: 'function', function: { name: 'dump', arguments: '{}' } })) },
    ...outputs.map((content, i) => ({ role: 'tool', tool_call_id: `c${i}`, content })),
  ];
  // each of these cost the old counter seconds (15,000 brackets: about 25 s)
  const outputs = ['['.repeat(15_000), '}'.repeat(15_990), '[{'.repeat(7_000), '['.repeat(200_000)];

  /** Resolves with how long `/livez` took to answer while `pending` is in flight. */
  async function livezDuring<T>(pending: Promise<T>): Promise<{ value: T; livezMs: number }> {
    const t0 = performance.now();
    const livez = fetch(`${h.url}/livez`).then(async (r) => {
      expect(r.status).toBe(200);
      await r.text();
      return performance.now() - t0;
    });
    const [value, livezMs] = await Promise.all([pending, livez]);
    return { value, livezMs };
  }

  it('/v1/compress answers at once and /livez keeps answering', async () => {
    await h.reset();
    const call = fetch(`${h.url}/v1/compress`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o', messages: messages(outputs) }) }).then(async (r) => ({ status: r.status, json: (await r.json()) as { tokens_before: number } }));
    const { value, livezMs } = await livezDuring(call);
    expect(value.status).toBe(200);
    expect(value.json.tokens_before).toBeGreaterThan(100_000);
    // enormous bounds against what they took before (tens of seconds), far above the typical few ms
    expect(livezMs).toBeLessThan(2_000);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.compression.timingsMs.pipeline_total).toBeLessThan(2_000);
  });

  it('the proxy forwards it at once and /livez keeps answering', async () => {
    await h.reset();
    const client = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const call = client.chat.completions.create({ model: 'gpt-4o', messages: messages(outputs.map((o) => `${o} `)) as OpenAI.ChatCompletionMessageParam[] });
    const { value, livezMs } = await livezDuring(call);
    expect(value.choices[0]?.message).toBeDefined();
    expect(livezMs).toBeLessThan(2_000);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.compression.timingsMs.pipeline_total).toBeLessThan(2_000);
    expect(o!.compression.tokensBefore).toBeGreaterThan(100_000);
  });
});
