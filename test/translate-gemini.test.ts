/**
 * The Gemini translators: OpenAI Chat -> Gemini requests, Gemini -> OpenAI responses and
 * streams (cut at every byte), Anthropic <-> Gemini composed through the OpenAI form, and
 * errors; what they produce is parsed by the official SDKs from a loopback server.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import {
  GEMINI_TRANSLATORS,
  GeminiToAnthropicStream,
  GeminiToOpenAIStream,
  anthropicToGeminiRequest,
  geminiErrorToClient,
  geminiToAnthropicResponse,
  geminiToOpenAIResponse,
  openAIToGeminiRequest,
} from '../src/translate/gemini/index.js';
import { TranslationError } from '../src/translate/index.js';
import { parseSse, runSplit, serveFixed } from './helpers/translate.js';

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

describe('OpenAI Chat -> Gemini request', () => {
  it('system, images, tool calls and their results, tools, tool choice and generation settings', () => {
    const r = openAIToGeminiRequest(
      {
        model: 'gemini-2.5-flash',
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'developer', content: [{ type: 'text', text: 'Use tools.' }] },
          { role: 'user', content: [{ type: 'text', text: 'what is in these?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }, { type: 'image_url', image_url: { url: 'https://example.test/cat.webp' } }] },
          { role: 'assistant', content: 'Checking.', tool_calls: [
            { id: 'call_a', type: 'function', function: { name: 'grep', arguments: '{"q":"TODO"}' } },
            { id: 'call_b', type: 'function', function: { name: 'ls', arguments: '' } },
          ] },
          { role: 'tool', tool_call_id: 'call_a', content: 'src/a.ts:1 TODO' },
          { role: 'tool', tool_call_id: 'call_b', content: '[tool error] permission denied' },
          { role: 'user', content: 'and now?' },
        ],
        tools: [{ type: 'function', function: { name: 'grep', description: 'search', parameters: { type: 'object', properties: { q: { type: 'string' } }, additionalProperties: false } } }, { type: 'function', function: { name: 'ls' } }],
        tool_choice: 'required',
        max_completion_tokens: 32_000,
        temperature: 0.2,
        top_p: 0.9,
        stop: ['END'],
        seed: 7,
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } },
        logit_bias: { 1: 2 },
        user: 'u1',
      },
      { model: 'gemini-2.5-flash' },
    );
    expect(r.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(r.stream).toBe(false);
    expect(r.dropped.sort()).toEqual(['logit_bias', 'user']);
    expect(r.body).toEqual({
      systemInstruction: { parts: [{ text: 'You are terse.' }, { text: 'Use tools.' }] },
      contents: [
        { role: 'user', parts: [{ text: 'what is in these?' }, { inlineData: { mimeType: 'image/png', data: PNG } }, { fileData: { mimeType: 'image/webp', fileUri: 'https://example.test/cat.webp' } }] },
        { role: 'model', parts: [{ text: 'Checking.' }, { functionCall: { name: 'grep', args: { q: 'TODO' } } }, { functionCall: { name: 'ls', args: {} } }] },
        { role: 'user', parts: [
          { functionResponse: { name: 'grep', response: { output: 'src/a.ts:1 TODO' } } },
          { functionResponse: { name: 'ls', response: { error: 'permission denied' } } },
          { text: 'and now?' },
        ] },
      ],
      tools: [{ functionDeclarations: [
        { name: 'grep', description: 'search', parametersJsonSchema: { type: 'object', properties: { q: { type: 'string' } }, additionalProperties: false } },
        { name: 'ls' },
      ] }],
      toolConfig: { functionCallingConfig: { mode: 'ANY' } },
      generationConfig: { maxOutputTokens: 32_000, temperature: 0.2, topP: 0.9, stopSequences: ['END'], seed: 7, responseMimeType: 'application/json', responseJsonSchema: { type: 'object' } },
    });
  });

  it('streams go to streamGenerateContent with alt=sse; a named tool choice allows only it; a JSON tool result is sent as the object', () => {
    const r = openAIToGeminiRequest(
      {
        model: 'x', stream: true, stream_options: { include_usage: true }, tool_choice: { type: 'function', function: { name: 'grep' } },
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'grep', arguments: 'not json' } }] },
          { role: 'tool', tool_call_id: 'c1', content: '{"matches": 3}' },
        ],
      },
      { model: 'models/gemini-2.5-pro' },
    );
    expect(r.path).toBe('/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse');
    expect(r.body.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['grep'] } });
    expect(r.body.contents[1]!.parts[0]).toEqual({ functionCall: { name: 'grep', args: { raw_arguments: 'not json' } } });
    expect(r.body.contents[2]!.parts[0]).toEqual({ functionResponse: { name: 'grep', response: { matches: 3 } } });
    expect(r.dropped).toEqual([]);
  });

  it('what has no counterpart is a 400, not a silent change', () => {
    const bad = (body: Record<string, unknown>) => () => openAIToGeminiRequest(body, { model: 'm' });
    expect(bad({ messages: [{ role: 'tool', tool_call_id: 'nope', content: 'x' }] })).toThrow(TranslationError);
    expect(bad({ messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'web_search' }] })).toThrow(/only function tools/);
    expect(bad({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] })).toThrow(/no Gemini counterpart/);
    expect(bad({ messages: [] })).toThrow(/at least one message/);
  });
});

const geminiAnswer = {
  candidates: [{ content: { role: 'model', parts: [{ text: 'thinking...', thought: true }, { text: 'Here ' }, { text: 'it is.' }, { functionCall: { name: 'grep', args: { q: 'x' } } }] }, finishReason: 'STOP', index: 0 }],
  usageMetadata: { promptTokenCount: 5000, candidatesTokenCount: 40, thoughtsTokenCount: 100, cachedContentTokenCount: 4096, totalTokenCount: 5140 },
  modelVersion: 'gemini-2.5-flash',
  responseId: 'resp-1',
};

describe('Gemini -> OpenAI response', () => {
  it('text without thoughts, tool calls, finish reason, usage with cached and reasoning tokens; the SDK parses it', async () => {
    const c = geminiToOpenAIResponse(geminiAnswer, { model: 'my-alias', created: 1 });
    expect(c.choices[0]!.message.content).toBe('Here it is.');
    expect(c.choices[0]!.finish_reason).toBe('tool_calls');
    const call = c.choices[0]!.message.tool_calls![0]!;
    expect(call.function).toEqual({ name: 'grep', arguments: '{"q":"x"}' });
    expect(call.id).toMatch(/^call_/);
    expect(c.usage).toEqual({ prompt_tokens: 5000, completion_tokens: 140, total_tokens: 5140, prompt_tokens_details: { cached_tokens: 4096 }, completion_tokens_details: { reasoning_tokens: 100 } });
    const server = await serveFixed(200, 'application/json', JSON.stringify(c));
    try {
      const sdk = new OpenAI({ apiKey: 'sk-test-fake', baseURL: server.url, maxRetries: 0 });
      const got = await sdk.chat.completions.create({ model: 'my-alias', messages: [{ role: 'user', content: 'x' }] });
      expect(got.model).toBe('my-alias');
      expect(got.usage!.prompt_tokens_details!.cached_tokens).toBe(4096);
    } finally {
      await server.close();
    }
  });

  it('MAX_TOKENS -> length, SAFETY -> content_filter, a blocked prompt -> no content, content_filter', () => {
    const one = (finishReason: string) => geminiToOpenAIResponse({ candidates: [{ content: { parts: [{ text: 'x' }] }, finishReason }] }).choices[0]!.finish_reason;
    expect(one('MAX_TOKENS')).toBe('length');
    expect(one('SAFETY')).toBe('content_filter');
    expect(one('STOP')).toBe('stop');
    const blocked = geminiToOpenAIResponse({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 9 } });
    expect(blocked.choices[0]).toMatchObject({ finish_reason: 'content_filter', message: { content: null } });
    expect(blocked.usage.prompt_tokens).toBe(9);
    expect(() => geminiToOpenAIResponse({})).toThrow(TranslationError);
  });
});

/** A Gemini SSE stream: text in pieces (one with a multi-byte character), a whole function call, the final usage. */
function geminiSse(withCall = true): Buffer {
  const chunks: unknown[] = [
    { candidates: [{ content: { role: 'model', parts: [{ text: 'Hel' }] }, index: 0 }], usageMetadata: { promptTokenCount: 3000 }, modelVersion: 'gemini-2.5-flash', responseId: 'r1' },
    { candidates: [{ content: { role: 'model', parts: [{ text: 'lo — wörld. ' }] }, index: 0 }], usageMetadata: { promptTokenCount: 3000 }, modelVersion: 'gemini-2.5-flash', responseId: 'r1' },
  ];
  if (withCall) chunks.push({ candidates: [{ content: { role: 'model', parts: [{ functionCall: { id: 'fc-1', name: 'read_file', args: { path: 'a.ts' } } }, { functionCall: { id: 'fc-2', name: 'ls', args: {} } }] }, index: 0 }], responseId: 'r1' });
  chunks.push({ candidates: [{ content: { role: 'model', parts: [{ text: '' }] }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 3000, candidatesTokenCount: 20, thoughtsTokenCount: 7, cachedContentTokenCount: 2048, totalTokenCount: 3027 }, responseId: 'r1' });
  return Buffer.from(chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`).join(''));
}

describe('Gemini -> OpenAI stream', () => {
  it('cut at every byte, the output is the same as in one piece', () => {
    const input = geminiSse();
    const make = () => new GeminiToOpenAIStream({ model: 'gemini-2.5-flash', includeUsage: true, created: 1 });
    const whole = runSplit(make, input, []);
    for (let i = 1; i < input.length; i++) expect(runSplit(make, input, [i])).toBe(whole);
    const bytes = Array.from({ length: input.length - 1 }, (_, i) => i + 1);
    expect(runSplit(make, input, bytes)).toBe(whole);
    const frames = parseSse(whole);
    expect(frames[frames.length - 1]!.data).toBe('[DONE]');
  });

  it('the official SDK assembles text, both tool calls (numeric indexes) and the usage', async () => {
    const t = new GeminiToOpenAIStream({ model: 'gemini-2.5-flash', includeUsage: true });
    const text = t.push(geminiSse()) + t.end();
    expect(t.facts()).toMatchObject({ complete: true, toolCalls: 2, finishReason: 'STOP' });
    const server = await serveFixed(200, 'text/event-stream', text);
    try {
      const sdk = new OpenAI({ apiKey: 'sk-test-fake', baseURL: server.url, maxRetries: 0 });
      const runner = sdk.chat.completions.stream({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] });
      const done = await runner.finalChatCompletion();
      const msg = done.choices[0]!.message;
      expect(msg.content).toBe('Hello — wörld. ');
      expect(msg.tool_calls!.map((c) => c.type === 'function' && [c.id, c.function.name, JSON.parse(c.function.arguments)])).toEqual([['fc-1', 'read_file', { path: 'a.ts' }], ['fc-2', 'ls', {}]]);
      expect(done.choices[0]!.finish_reason).toBe('tool_calls');
      expect(done.usage).toMatchObject({ prompt_tokens: 3000, completion_tokens: 27, prompt_tokens_details: { cached_tokens: 2048 } });
    } finally {
      await server.close();
    }
  });

  it('a stream that ends before its finish, or reports an error, ends with an OpenAI error frame', () => {
    const cut = geminiSse().toString().split('\r\n\r\n').slice(0, 2).join('\r\n\r\n') + '\r\n\r\n';
    const t = new GeminiToOpenAIStream({ model: 'm' });
    const out = t.push(cut) + t.end();
    expect(parseSse(out).pop()!.data).toMatchObject({ error: { type: 'server_error' } });
    expect(t.facts().complete).toBe(false);
    const e = new GeminiToOpenAIStream({ model: 'm' });
    const err = e.push('data: {"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}}\r\n\r\n') + e.end();
    expect(parseSse(err)).toEqual([{ event: null, data: { error: { message: 'quota', type: 'server_error', param: null, code: 'upstream_stream_error' } } }]);
  });
});

const claudeCodeLike: Record<string, unknown> = {
  model: 'claude-sonnet-4-5',
  max_tokens: 64_000,
  system: [{ type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } }],
  tools: [{ name: 'Bash', description: 'Run a command', input_schema: { type: 'object', $schema: 'http://json-schema.org/draft-07/schema#', properties: { command: { type: 'string' } }, required: ['command'], additionalProperties: false } }],
  tool_choice: { type: 'any' },
  stop_sequences: ['</done>'],
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'list files' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } }] },
    { role: 'assistant', content: [{ type: 'text', text: 'Running ls.' }, { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls' } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ls: cannot open', is_error: true }, { type: 'text', text: 'try again' }] },
  ],
};

describe('Anthropic <-> Gemini (composed)', () => {
  it('keeps the system prompt, tools (full JSON Schema), tool use, error results, text beside them, images, max_tokens and stops', () => {
    const r = anthropicToGeminiRequest(claudeCodeLike, { model: 'gemini-2.5-pro' });
    expect(r.body.systemInstruction).toEqual({ parts: [{ text: 'You are Claude Code.' }] });
    expect(r.body.tools![0]!.functionDeclarations[0]).toEqual({ name: 'Bash', description: 'Run a command', parametersJsonSchema: (claudeCodeLike.tools as any)[0].input_schema });
    expect(r.body.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY' } });
    expect(r.body.generationConfig).toMatchObject({ maxOutputTokens: 64_000, stopSequences: ['</done>'] });
    expect(r.body.contents).toEqual([
      { role: 'user', parts: [{ text: 'list files' }, { inlineData: { mimeType: 'image/png', data: PNG } }] },
      { role: 'model', parts: [{ text: 'Running ls.' }, { functionCall: { name: 'Bash', args: { command: 'ls' } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'Bash', response: { error: 'ls: cannot open' } } }, { text: 'try again' }] },
    ]);
    expect(r.dropped).toContain('cache_control');
  });

  it('a Gemini answer reaches the Anthropic SDK with tool use, stop reason and cache reads, streamed and not', async () => {
    const msg = geminiToAnthropicResponse(geminiAnswer, { model: 'claude-sonnet-4-5' });
    expect(msg.stop_reason).toBe('tool_use');
    expect(msg.usage).toEqual({ input_tokens: 5000 - 4096, output_tokens: 140, cache_read_input_tokens: 4096, cache_creation_input_tokens: 0 });
    const s = new GeminiToAnthropicStream({ model: 'claude-sonnet-4-5' });
    const input = geminiSse();
    const text = runSplit(() => new GeminiToAnthropicStream({ model: 'claude-sonnet-4-5' }), input, Array.from({ length: input.length - 1 }, (_, i) => i + 1));
    const once = s.push(input) + s.end();
    // the same events whatever the cuts (ids aside, which are made per stream)
    const norm = (t: string) => t.replace(/"(msg|toolu)_[^"]+"/g, '"$1_x"');
    expect(norm(text)).toBe(norm(once));
    const server = await serveFixed(200, 'text/event-stream', once);
    try {
      const sdk = new Anthropic({ apiKey: 'sk-ant-test-fake', baseURL: server.url, maxRetries: 0 });
      const final = await sdk.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'x' }] }).finalMessage();
      expect(final.content.map((b) => b.type)).toEqual(['text', 'tool_use', 'tool_use']);
      expect(final.content[1]).toMatchObject({ type: 'tool_use', id: 'fc-1', name: 'read_file', input: { path: 'a.ts' } });
      expect(final.stop_reason).toBe('tool_use');
      expect(final.usage).toMatchObject({ input_tokens: 3000 - 2048, cache_read_input_tokens: 2048, output_tokens: 27 });
    } finally {
      await server.close();
    }
  });
});

describe('thought signatures round trip through the tool call ids', () => {
  const SIG = Buffer.from('opaque signature bytes \u0000\u00ff from gemini').toString('base64');
  const answer = { candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'Bash', args: { command: 'ls' } }, thoughtSignature: SIG }] }, finishReason: 'STOP' }] };

  it('OpenAI: the answer\'s call id carries it, the next request returns it with its call', () => {
    const call = geminiToOpenAIResponse(answer).choices[0]!.message.tool_calls![0]!;
    expect(call.id).toMatch(/^call_[A-Za-z0-9_-]+$/);
    const next = openAIToGeminiRequest({ messages: [
      { role: 'user', content: 'go' },
      { role: 'assistant', content: null, tool_calls: [call] },
      { role: 'tool', tool_call_id: call.id, content: 'a.ts' },
    ] }, { model: 'gemini-3-pro-preview' });
    expect(next.body.contents[1]!.parts[0]).toEqual({ functionCall: { name: 'Bash', args: { command: 'ls' } }, thoughtSignature: SIG });
    expect(next.body.contents[2]!.parts[0]).toEqual({ functionResponse: { name: 'Bash', response: { output: 'a.ts' } } });
  });

  it('Anthropic: the tool_use id carries it (only id-safe characters), streamed and not', () => {
    const msg = geminiToAnthropicResponse(answer, { model: 'claude-sonnet-4-5' });
    const use = msg.content[0] as { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };
    expect(use.id).toMatch(/^[A-Za-z0-9_-]+$/);
    const s = new GeminiToAnthropicStream({ model: 'claude-sonnet-4-5' });
    const streamed = parseSse(s.push(`data: ${JSON.stringify(answer)}\r\n\r\n`) + s.end());
    const start = streamed.find((f) => f.event === 'content_block_start')!.data as any;
    const next = anthropicToGeminiRequest({ model: 'c', max_tokens: 10, messages: [
      { role: 'user', content: 'go' },
      { role: 'assistant', content: [{ type: 'tool_use', id: start.content_block.id, name: 'Bash', input: { command: 'ls' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: start.content_block.id, content: 'a.ts' }] },
    ] }, { model: 'gemini-3-pro-preview' });
    expect(next.body.contents[1]!.parts[0]).toMatchObject({ thoughtSignature: SIG });
  });
});

describe('Gemini errors in the client\'s shape', () => {
  const quota = JSON.stringify({ error: { code: 429, message: 'Resource has been exhausted (e.g. check quota).', status: 'RESOURCE_EXHAUSTED' } });

  it('OpenAI clients get a RateLimitError with Gemini\'s status as the code; Anthropic clients a rate_limit_error', async () => {
    const o = geminiErrorToClient(429, quota, 'openai');
    expect(JSON.parse(o.body)).toEqual({ error: { message: 'Resource has been exhausted (e.g. check quota).', type: 'rate_limit_error', param: null, code: 'RESOURCE_EXHAUSTED' } });
    const a = GEMINI_TRANSLATORS.get('anthropic->gemini')!.error(400, JSON.stringify({ error: { code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT' } }));
    expect(JSON.parse(a.body)).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: 'API key not valid. Please pass a valid API key.' } });
    const server = await serveFixed(o.status, 'application/json', o.body);
    try {
      const err = await new OpenAI({ apiKey: 'sk-test-fake', baseURL: server.url, maxRetries: 0 }).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      expect(err.code).toBe('RESOURCE_EXHAUSTED');
    } finally {
      await server.close();
    }
  });

  it('the map holds both pairs and each translates a request', () => {
    expect([...GEMINI_TRANSLATORS.keys()]).toEqual(['openai->gemini', 'anthropic->gemini']);
    const t = GEMINI_TRANSLATORS.get('openai->gemini')!;
    const req = t.request({ model: 'a', stream: true, messages: [{ role: 'user', content: 'hi' }] }, { model: 'gemini-2.5-flash' });
    expect(req.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    const s = t.stream({ model: 'a', includeUsage: true });
    const out = s.push(geminiSse(false)) + s.end();
    expect(parseSse(out).map((f) => (f.data as any)?.usage?.prompt_tokens).filter(Boolean)).toEqual([3000]);
    expect(t.streamError('boom')).toContain('"message":"boom"');
  });
});
