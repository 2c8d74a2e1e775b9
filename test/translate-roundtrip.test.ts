/**
 * Round-trip properties (fast-check, fixed seeds): a generated Anthropic conversation translated
 * to OpenAI and back is the same conversation, and the reverse; usage survives both ways up to
 * the one figure OpenAI lacks (cache writes, folded into input); a generated Anthropic stream,
 * cut at random places, translated to OpenAI chunks and back, accumulates to the same message.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AnthropicToOpenAIStream,
  OpenAIToAnthropicStream,
  anthropicToOpenAIRequest,
  anthropicUsageToOpenAI,
  openAIToAnthropicRequest,
  openAIUsageToAnthropic,
} from '../src/translate/index.js';
import { PNG_BASE64 } from './fixtures/translate/anthropic.js';
import { parseSse, runSplit } from './helpers/translate.js';

type J = Record<string, unknown>;
const text = fc.string({ minLength: 1, maxLength: 20 });
const key = fc.string({ minLength: 1, maxLength: 6 }).filter((k) => k !== '__proto__');
const input = fc.dictionary(key, fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.boolean(), fc.constant(null)), { maxKeys: 3 });
const image = fc.oneof(
  fc.constant({ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_BASE64 } }),
  fc.webUrl().map((url) => ({ type: 'image', source: { type: 'url', url } })),
);
const toolName = fc.constantFrom('read_file', 'list_files', 'bash');

/** An Anthropic conversation: user, assistant (text and/or tool calls), user (their results, maybe text), ... */
const anthropicConversation = fc
  .array(fc.record({ say: fc.option(text, { nil: undefined }), calls: fc.array(fc.tuple(toolName, input, fc.boolean(), fc.string({ maxLength: 12 })), { maxLength: 2 }), then: fc.option(text, { nil: undefined }), img: fc.option(image, { nil: undefined }) }), { minLength: 1, maxLength: 4 })
  .chain((turns) =>
    fc.record({ first: text, img: fc.option(image, { nil: undefined }), system: fc.option(text, { nil: undefined }), max: fc.integer({ min: 1, max: 200_000 }), stops: fc.array(text, { maxLength: 2 }), choice: fc.constantFrom(undefined, { type: 'auto' }, { type: 'any' }, { type: 'none' }, { type: 'tool', name: 'bash' }) }).map((o) => {
      let n = 0;
      const messages: J[] = [{ role: 'user', content: o.img ? [{ type: 'text', text: o.first }, o.img] : o.first }];
      for (const t of turns) {
        if (!t.say && t.calls.length === 0) continue;
        const ids = t.calls.map(() => `toolu_${++n}`);
        const blocks: J[] = [];
        if (t.say) blocks.push({ type: 'text', text: t.say });
        t.calls.forEach(([name, inp], i) => blocks.push({ type: 'tool_use', id: ids[i], name, input: inp }));
        messages.push({ role: 'assistant', content: blocks.length === 1 && t.say ? t.say : blocks });
        const reply: J[] = t.calls.map(([, , isError, out], i) => (isError ? { type: 'tool_result', tool_use_id: ids[i], content: out, is_error: true } : { type: 'tool_result', tool_use_id: ids[i], content: out }));
        if (t.then) reply.push({ type: 'text', text: t.then });
        if (t.img) reply.push(t.img);
        if (reply.length === 0) reply.push({ type: 'text', text: 'go on' });
        messages.push({ role: 'user', content: reply.length === 1 && reply[0]?.type === 'text' ? reply[0].text : reply });
      }
      const body: J = { model: 'claude-x', max_tokens: o.max, messages, tools: ['read_file', 'list_files', 'bash'].map((name) => ({ name, input_schema: { type: 'object', properties: {} } })) };
      if (o.system) body.system = o.system;
      if (o.stops.length) body.stop_sequences = o.stops;
      if (o.choice) body.tool_choice = o.choice;
      return body;
    }),
  );

/** An OpenAI conversation with tool calls, tool results (some errors) and user text after them. */
const openaiConversation = fc
  .record({
    system: fc.option(text, { nil: undefined }),
    first: fc.oneof(text, fc.tuple(text, fc.constantFrom(`data:image/png;base64,${PNG_BASE64}`, 'https://images.example.test/x.png')).map(([t, url]) => [{ type: 'text', text: t }, { type: 'image_url', image_url: { url } }])),
    turns: fc.array(fc.record({ say: fc.option(text, { nil: null }), calls: fc.array(fc.tuple(toolName, input, fc.boolean(), fc.string({ maxLength: 12 })), { maxLength: 2 }), then: fc.option(text, { nil: undefined }) }), { maxLength: 4 }),
    max: fc.integer({ min: 1, max: 200_000 }),
    choice: fc.constantFrom(undefined, 'auto', 'required', 'none', { type: 'function', function: { name: 'bash' } }),
  })
  .map((o) => {
    let n = 0;
    const messages: J[] = [];
    if (o.system) messages.push({ role: 'system', content: o.system });
    messages.push({ role: 'user', content: o.first });
    for (const t of o.turns) {
      if (t.say === null && t.calls.length === 0) continue;
      const ids = t.calls.map(() => `call_${++n}`);
      const m: J = { role: 'assistant', content: t.say };
      if (t.calls.length) m.tool_calls = t.calls.map(([name, inp], i) => ({ id: ids[i], type: 'function', function: { name, arguments: JSON.stringify(inp) } }));
      messages.push(m);
      t.calls.forEach(([, , isError, out], i) => messages.push({ role: 'tool', tool_call_id: ids[i], content: isError ? `[tool error] ${out}` : out }));
      messages.push({ role: 'user', content: t.then ?? 'go on' });
    }
    const body: J = { model: 'gpt-x', messages, max_tokens: o.max, tools: ['read_file', 'list_files', 'bash'].map((name) => ({ type: 'function', function: { name, parameters: { type: 'object', properties: {} } } })) };
    if (o.choice) body.tool_choice = o.choice;
    return body;
  });

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('round trips', () => {
  it('Anthropic -> OpenAI -> Anthropic keeps the conversation', () => {
    fc.assert(
      fc.property(anthropicConversation, (req) => {
        const oai = anthropicToOpenAIRequest(clone(req), { model: 'gpt-4.1' }).body;
        const back = openAIToAnthropicRequest(clone(oai) as unknown as J, { model: 'claude-x' }).body;
        expect(back).toEqual(req);
      }),
      { seed: 1818, numRuns: 300 },
    );
  });

  it('OpenAI -> Anthropic -> OpenAI keeps the conversation', () => {
    fc.assert(
      fc.property(openaiConversation, (req) => {
        const anth = openAIToAnthropicRequest(clone(req), { model: 'claude-x' }).body;
        const back = anthropicToOpenAIRequest(clone(anth) as unknown as J, { model: 'gpt-x' }).body;
        expect(back).toEqual(req);
      }),
      { seed: 1818, numRuns: 300 },
    );
  });

  it('usage: OpenAI -> Anthropic -> OpenAI exactly; Anthropic -> OpenAI -> Anthropic folds cache writes into input', () => {
    fc.assert(
      fc.property(fc.nat(1e7), fc.nat(1e7), fc.nat(1e5), (uncached, cached, out) => {
        const o = { prompt_tokens: uncached + cached, completion_tokens: out, total_tokens: uncached + cached + out, prompt_tokens_details: { cached_tokens: cached } };
        expect(anthropicUsageToOpenAI(openAIUsageToAnthropic(o))).toEqual(o);
        const a = { input_tokens: uncached, output_tokens: out, cache_read_input_tokens: cached, cache_creation_input_tokens: out };
        expect(openAIUsageToAnthropic(anthropicUsageToOpenAI(a))).toEqual({ input_tokens: uncached + out, output_tokens: out, cache_read_input_tokens: cached, cache_creation_input_tokens: 0 });
      }),
      { seed: 1818, numRuns: 300 },
    );
  });

  it('an Anthropic stream -> OpenAI chunks -> Anthropic stream, cut anywhere, accumulates to the same message', () => {
    const message = fc.record({
      say: fc.option(fc.array(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }), { nil: undefined }),
      calls: fc.array(fc.tuple(toolName, input, fc.integer({ min: 1, max: 4 })), { maxLength: 3 }),
      usage: fc.record({ input_tokens: fc.nat(5000), output_tokens: fc.nat(5000), cache_read_input_tokens: fc.nat(5000) }),
    });
    fc.assert(
      fc.property(message, fc.array(fc.nat(), { maxLength: 5 }), fc.array(fc.nat(), { maxLength: 5 }), (m, cuts1, cuts2) => {
        const events: J[] = [{ type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'c', content: [], stop_reason: null, stop_sequence: null, usage: { ...m.usage, output_tokens: 1, cache_creation_input_tokens: 0 } } }];
        let idx = 0;
        const expected: J[] = [];
        if (m.say) {
          events.push({ type: 'content_block_start', index: idx, content_block: { type: 'text', text: '' } });
          for (const s of m.say) events.push({ type: 'content_block_delta', index: idx, delta: { type: 'text_delta', text: s } });
          events.push({ type: 'content_block_stop', index: idx++ });
          expected.push({ type: 'text', text: m.say.join('') });
        }
        m.calls.forEach(([name, inp, pieces], i) => {
          const json = JSON.stringify(inp);
          events.push({ type: 'content_block_start', index: idx, content_block: { type: 'tool_use', id: `toolu_${i}`, name, input: {} } });
          const size = Math.ceil(json.length / pieces);
          for (let p = 0; p < json.length; p += size) events.push({ type: 'content_block_delta', index: idx, delta: { type: 'input_json_delta', partial_json: json.slice(p, p + size) } });
          events.push({ type: 'content_block_stop', index: idx++ });
          expected.push({ type: 'tool_use', id: `toolu_${i}`, name, input: inp });
        });
        const stop = m.calls.length ? 'tool_use' : 'end_turn';
        events.push({ type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: m.usage.output_tokens } });
        events.push({ type: 'message_stop' });
        const sse = Buffer.from(events.map((e) => `event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`).join(''));
        const oai = Buffer.from(runSplit(() => new AnthropicToOpenAIStream({ model: 'g', includeUsage: true }), sse, cuts1.map((c) => c % (sse.length + 1))));
        const back = runSplit(() => new OpenAIToAnthropicStream({ model: 'c' }), oai, cuts2.map((c) => c % (oai.length + 1)));
        const acc = accumulate(parseSse(back).map((f) => f.data as J));
        expect(acc.content).toEqual(expected);
        expect(acc.stop_reason).toBe(stop);
        expect(acc.usage).toEqual({ ...m.usage, cache_creation_input_tokens: 0 });
      }),
      { seed: 1818, numRuns: 200 },
    );
  });
});

/** A minimal Anthropic stream accumulator (the SDK's does the same, checked in translate-streams). */
function accumulate(events: J[]): { content: J[]; stop_reason: unknown; usage: unknown } {
  const content: J[] = [];
  const json: string[] = [];
  let stop: unknown = null;
  let usage: unknown = null;
  for (const e of events) {
    const i = e.index as number;
    if (e.type === 'content_block_start') {
      content[i] = { ...(e.content_block as J) };
      json[i] = '';
    } else if (e.type === 'content_block_delta') {
      const d = e.delta as J;
      if (d.type === 'text_delta') (content[i] as J).text = String((content[i] as J).text) + String(d.text);
      else json[i] += String(d.partial_json);
    } else if (e.type === 'content_block_stop' && (content[i] as J).type === 'tool_use') {
      (content[i] as J).input = json[i] ? JSON.parse(json[i] as string) : {};
    } else if (e.type === 'message_delta') {
      stop = (e.delta as J).stop_reason;
      usage = e.usage;
    } else if (e.type === 'error') throw new Error(String((e.error as J).message));
  }
  return { content, stop_reason: stop, usage };
}
