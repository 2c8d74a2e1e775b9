/**
 * Request translation both ways, on fixtures of real wire shapes: system prompts kept (D9),
 * tool use with ids, tool results with is_error and the text beside them (D17), images,
 * tool_choice (any -> required), stop sequences, max_tokens unclamped, include_usage asked for
 * upstream; the outputs type-check as the official SDKs' request params.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { TranslationError, anthropicToOpenAIRequest, openAIToAnthropicRequest } from '../src/translate/index.js';
import { PNG_BASE64, anthropicRequest, anthropicRequestWithSampling } from './fixtures/translate/anthropic.js';
import { openaiRequest } from './fixtures/translate/openai.js';

const json = <T>(v: T): Record<string, unknown> => JSON.parse(JSON.stringify(v)) as Record<string, unknown>;

describe('Anthropic Messages -> OpenAI Chat Completions request', () => {
  const { body, dropped } = anthropicToOpenAIRequest(json(anthropicRequestWithSampling), { model: 'gpt-4.1' });
  // the output is a valid OpenAI SDK request (compile-time check)
  const typed: OpenAI.ChatCompletionCreateParams = body;

  it('keeps the system prompt (blocks joined) as the first message', () => {
    expect(typed.messages[0]).toEqual({ role: 'system', content: 'You are a coding agent.\n\nAnswer tersely.' });
  });

  it('maps user text and images (base64 -> data URL, URL kept)', () => {
    expect(body.messages[1]).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'What is in this picture and in src/?' },
        { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_BASE64}` } },
        { type: 'image_url', image_url: { url: 'https://images.example.test/cat.jpg' } },
      ],
    });
  });

  it('maps assistant text and tool_use to content and tool_calls, ids kept', () => {
    expect(body.messages[2]).toEqual({
      role: 'assistant',
      content: 'Let me look.',
      tool_calls: [
        { id: 'toolu_01A', type: 'function', function: { name: 'list_files', arguments: '{"path":"src"}' } },
        { id: 'toolu_01B', type: 'function', function: { name: 'read_file', arguments: '{"path":"src/missing.ts"}' } },
      ],
    });
  });

  it('turns tool results into tool messages (is_error kept) and keeps the text beside them', () => {
    expect(body.messages.slice(3)).toEqual([
      { role: 'tool', tool_call_id: 'toolu_01A', content: 'a.ts\nb.ts' },
      { role: 'tool', tool_call_id: 'toolu_01B', content: '[tool error] ENOENT: no such file' },
      { role: 'user', content: 'Also check the tests please.' },
    ]);
  });

  it('maps tools, tool_choice any -> required, parallel off, stops, limits and streaming', () => {
    expect(body.tools).toEqual([
      { type: 'function', function: { name: 'list_files', description: 'List files', parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } } },
      { type: 'function', function: { name: 'read_file', parameters: { type: 'object', properties: { path: { type: 'string' } } } } },
    ]);
    expect(body).toMatchObject({
      model: 'gpt-4.1',
      tool_choice: 'required',
      parallel_tool_calls: false,
      stop: ['</done>', '\n\nHuman:'],
      max_tokens: 32000, // not clamped
      temperature: 0.2,
      top_p: 0.9,
      user: 'user-123',
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(body.max_completion_tokens).toBeUndefined();
  });

  it('lists what has no counterpart instead of dropping it silently', () => {
    expect(dropped).toEqual(['cache_control', 'thinking', 'top_k']);
  });

  it('maps every tool_choice', () => {
    const choice = (tool_choice: unknown) => anthropicToOpenAIRequest({ ...json(anthropicRequest), tool_choice }, { model: 'm' }).body;
    expect(choice({ type: 'auto' }).tool_choice).toBe('auto');
    expect(choice({ type: 'any' }).tool_choice).toBe('required');
    expect(choice({ type: 'none' }).tool_choice).toBe('none');
    expect(choice({ type: 'tool', name: 'read_file' }).tool_choice).toEqual({ type: 'function', function: { name: 'read_file' } });
    expect(choice({ type: 'auto' }).parallel_tool_calls).toBeUndefined();
    expect(() => choice({ type: 'sometimes' })).toThrow(TranslationError);
  });

  it('sends max_completion_tokens to models that want it, or when asked', () => {
    for (const model of ['o3-mini', 'gpt-5', 'openai/gpt-5-mini', 'o1']) {
      const b = anthropicToOpenAIRequest(json(anthropicRequest), { model }).body;
      expect([b.max_completion_tokens, b.max_tokens]).toEqual([32000, undefined]);
    }
    expect(anthropicToOpenAIRequest(json(anthropicRequest), { model: 'qwen2.5:7b', maxTokensField: 'max_completion_tokens' }).body.max_completion_tokens).toBe(32000);
  });

  it('a string system prompt and string contents pass as strings; no stream_options when not streaming', () => {
    const b = anthropicToOpenAIRequest({ model: 'x', max_tokens: 100, system: 'Be brief.', messages: [{ role: 'user', content: 'hi' }] }, { model: 'y' }).body;
    expect(b).toEqual({ model: 'y', max_tokens: 100, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }] });
  });

  it('images inside a tool result follow in a user message', () => {
    const b = anthropicToOpenAIRequest(
      {
        model: 'x',
        max_tokens: 10,
        messages: [
          { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'shot', input: {} }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'screenshot:' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_BASE64 } }] }] },
        ],
      },
      { model: 'y' },
    ).body;
    expect(b.messages).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'shot', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 't1', content: 'screenshot:' },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_BASE64}` } }] },
    ]);
  });

  it('refuses what it cannot carry with a 400 naming the place', () => {
    const bad = (patch: Record<string, unknown>) => () => anthropicToOpenAIRequest({ ...json(anthropicRequest), ...patch }, { model: 'm' });
    expect(bad({ tools: [{ type: 'web_search_20250305', name: 'web_search' }] })).toThrow(/tools\[0\].*web_search_20250305/);
    expect(bad({ messages: [{ role: 'user', content: [{ type: 'search_result', source: 'x' }] }] })).toThrow(/messages\[0\]\.content\[0\]/);
    expect(bad({ messages: 'nope' })).toThrow(/messages must be an array/);
    expect(bad({ max_tokens: undefined })).toThrow(/max_tokens is required/);
    try {
      bad({ messages: [{ role: 'system', content: 'x' }] })();
    } catch (e) {
      expect((e as TranslationError).status).toBe(400);
    }
  });
});

describe('OpenAI Chat Completions -> Anthropic Messages request', () => {
  const { body, dropped } = openAIToAnthropicRequest(json(openaiRequest), { model: 'claude-sonnet-4-5' });
  const typed: Anthropic.MessageCreateParams = body;

  it('collects system and developer messages into system', () => {
    expect(typed.system).toBe('You are a coding agent.\n\nAnswer tersely.');
  });

  it('maps images (data URL -> base64, URL -> url source)', () => {
    expect(body.messages[0]).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'What is in this picture and in src/?' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_BASE64 } },
        { type: 'image', source: { type: 'url', url: 'https://images.example.test/cat.jpg' } },
      ],
    });
  });

  it('keeps assistant text beside its tool calls, ids kept, arguments parsed', () => {
    expect(body.messages[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'text', text: 'Let me look.' },
        { type: 'tool_use', id: 'call_A', name: 'list_files', input: { path: 'src' } },
        { type: 'tool_use', id: 'call_B', name: 'read_file', input: { path: 'src/missing.ts' } },
      ],
    });
  });

  it('puts every tool result and the user text after them in one user turn, is_error restored', () => {
    expect(body.messages[2]).toEqual({
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'call_A', content: 'a.ts\nb.ts' },
        { type: 'tool_result', tool_use_id: 'call_B', content: 'ENOENT: no such file', is_error: true },
        { type: 'text', text: 'Also check the tests please.' },
      ],
    });
    expect(body.messages).toHaveLength(3);
  });

  it('maps limits, stops, tools, tool_choice and parallel_tool_calls', () => {
    expect(body).toMatchObject({
      model: 'claude-sonnet-4-5',
      max_tokens: 20000,
      stop_sequences: ['</done>'],
      temperature: 0.2,
      stream: true,
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      metadata: { user_id: 'user-123' },
    });
    expect(body.top_p).toBeUndefined(); // not together with temperature
    expect(body.tools).toEqual([
      { name: 'list_files', description: 'List files', input_schema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } },
      { name: 'read_file', input_schema: { type: 'object', properties: {} } },
    ]);
    expect(dropped).toEqual(['seed', 'top_p']);
  });

  it('maps every tool_choice', () => {
    const choice = (tool_choice: unknown, parallel_tool_calls?: boolean) => openAIToAnthropicRequest({ ...json(openaiRequest), tool_choice, parallel_tool_calls }, { model: 'm' }).body.tool_choice;
    expect(choice('auto')).toEqual({ type: 'auto' });
    expect(choice('required')).toEqual({ type: 'any' });
    expect(choice('none')).toEqual({ type: 'none' });
    expect(choice({ type: 'function', function: { name: 'read_file' } })).toEqual({ type: 'tool', name: 'read_file' });
    expect(choice(undefined, false)).toEqual({ type: 'auto', disable_parallel_tool_use: true });
    expect(choice(undefined)).toBeUndefined();
  });

  it('max_tokens: max_completion_tokens, else max_tokens, else the default; never clamped', () => {
    const m = (extra: Record<string, unknown>) => openAIToAnthropicRequest({ model: 'x', messages: [{ role: 'user', content: 'hi' }], ...extra }, { model: 'y', defaultMaxTokens: 1234 }).body;
    expect(m({ max_tokens: 64000 }).max_tokens).toBe(64000);
    expect(m({ max_tokens: 10, max_completion_tokens: 50000 }).max_tokens).toBe(50000);
    expect(m({}).max_tokens).toBe(1234);
    expect(m({}).messages).toEqual([{ role: 'user', content: 'hi' }]);
  });

  it('refuses what it cannot carry with a 400', () => {
    const bad = (patch: Record<string, unknown>) => () => openAIToAnthropicRequest({ ...json(openaiRequest), ...patch }, { model: 'm' });
    expect(bad({ n: 2 })).toThrow(/n > 1/);
    expect(bad({ response_format: { type: 'json_schema', json_schema: { name: 'x' } } })).toThrow(/response_format/);
    expect(bad({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: '', format: 'wav' } }] }] })).toThrow(/input_audio/);
    expect(bad({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/bmp;base64,AAAA' } }] }] })).toThrow(/image\/bmp/);
    expect(bad({ messages: [{ role: 'tool', content: 'x' }] })).toThrow(/tool_call_id/);
  });

  it('tool-call arguments that are not a JSON object are kept, not lost', () => {
    const b = openAIToAnthropicRequest(
      { model: 'x', messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"a":' } }] }] },
      { model: 'y' },
    ).body;
    expect(b.messages[0]).toEqual({ role: 'assistant', content: [{ type: 'tool_use', id: 'c', name: 'f', input: { raw_arguments: '{"a":' } }] });
  });
});

describe('edge cases', () => {
  it('an OpenAI assistant message with no text and no calls is not sent as an empty Anthropic turn', () => {
    const t = openAIToAnthropicRequest(
      { model: 'x', messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: '' }, { role: 'user', content: 'b' }] },
      { model: 'y' },
    );
    expect(t.body.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }]);
    expect(t.dropped).toContain('empty assistant message');
  });
});
