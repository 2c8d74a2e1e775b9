/**
 * Non-stream responses both ways (content, tool calls with ids, stop/finish reasons, usage with
 * the cache arithmetic), and errors in the client's own shape with the upstream's status, as the
 * official SDKs receive them.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import {
  anthropicToOpenAIResponse,
  anthropicUsageToOpenAI,
  finishToStopReason,
  openAIToAnthropicResponse,
  openAIUsageToAnthropic,
  parseUpstreamError,
  stopReasonToFinish,
  streamErrorFrame,
  translateError,
} from '../src/translate/index.js';
import { anthropicError, anthropicMessage } from './fixtures/translate/anthropic.js';
import { openaiCompletion, openaiError } from './fixtures/translate/openai.js';
import { parseSse, serveFixed } from './helpers/translate.js';

describe('OpenAI chat completion -> Anthropic message', () => {
  it('keeps text and tool calls with their ids; usage without the cached tokens in input', () => {
    expect(openAIToAnthropicResponse(openaiCompletion, { model: 'claude-sonnet-4-5' })).toEqual({
      id: 'chatcmpl-abc123',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [
        { type: 'text', text: 'Reading both.' },
        { type: 'tool_use', id: 'call_X', name: 'read_file', input: { path: 'a.ts' } },
        { type: 'tool_use', id: 'call_Y', name: 'read_file', input: { path: 'b.ts' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 120, output_tokens: 45, cache_read_input_tokens: 3000, cache_creation_input_tokens: 0 },
    });
  });

  it('a refusal becomes text with stop_reason refusal; no choices is an error', () => {
    const refused = { ...openaiCompletion, choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: 'I cannot help with that.' }, finish_reason: 'stop', logprobs: null }] };
    expect(openAIToAnthropicResponse(refused)).toMatchObject({ content: [{ type: 'text', text: 'I cannot help with that.' }], stop_reason: 'refusal', model: 'gpt-4.1-2025-04-14' });
    expect(() => openAIToAnthropicResponse({ ...openaiCompletion, choices: [] })).toThrow(/no choices/);
  });

  it('the Anthropic SDK reads it as a Message', async () => {
    const server = await serveFixed(200, 'application/json', JSON.stringify(openAIToAnthropicResponse(openaiCompletion, { model: 'claude-sonnet-4-5' })));
    try {
      const client = new Anthropic({ apiKey: 'sk-ant-test-fake-resp', baseURL: server.url, maxRetries: 0 });
      const msg = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
      expect(msg.content.map((b) => b.type)).toEqual(['text', 'tool_use', 'tool_use']);
      expect(msg.usage.cache_read_input_tokens).toBe(3000);
    } finally {
      await server.close();
    }
  });
});

describe('Anthropic message -> OpenAI chat completion', () => {
  it('joins text, maps tool_use to tool_calls with ids; prompt_tokens includes cache reads and writes', () => {
    const c: OpenAI.ChatCompletion = anthropicToOpenAIResponse(anthropicMessage, { model: 'gpt-4.1', created: 1765000000 });
    expect(c).toEqual({
      id: 'msg_01XYZ',
      object: 'chat.completion',
      created: 1765000000,
      model: 'gpt-4.1',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Reading both. ✓',
            refusal: null,
            tool_calls: [
              { id: 'toolu_02A', type: 'function', function: { name: 'read_file', arguments: '{"path":"a.ts"}' } },
              { id: 'toolu_02B', type: 'function', function: { name: 'read_file', arguments: '{"path":"b.ts"}' } },
            ],
          },
          finish_reason: 'tool_calls',
          logprobs: null,
        },
      ],
      usage: { prompt_tokens: 3620, completion_tokens: 45, total_tokens: 3665, prompt_tokens_details: { cached_tokens: 3000 } },
    });
  });

  it('only tool calls -> content null; thinking blocks are not content', () => {
    const m = { ...anthropicMessage, content: [{ type: 'thinking', thinking: 'hmm', signature: 's' }, anthropicMessage.content[1]] };
    expect(anthropicToOpenAIResponse(m).choices[0]?.message.content).toBeNull();
    expect(() => anthropicToOpenAIResponse({ type: 'error' })).toThrow(/not a message/);
  });
});

describe('stop and finish reasons, usage arithmetic', () => {
  it('maps every reason both ways', () => {
    expect(['stop', 'length', 'tool_calls', 'function_call', 'content_filter', null].map(finishToStopReason)).toEqual(['end_turn', 'max_tokens', 'tool_use', 'tool_use', 'refusal', 'end_turn']);
    expect(['end_turn', 'stop_sequence', 'max_tokens', 'tool_use', 'refusal', 'pause_turn', 'model_context_window_exceeded', null].map(stopReasonToFinish)).toEqual([
      'stop', 'stop', 'length', 'tool_calls', 'content_filter', 'stop', 'length', 'stop',
    ]);
  });

  it('OpenAI prompt_tokens includes cached tokens; Anthropic input_tokens excludes cache reads and writes', () => {
    expect(openAIUsageToAnthropic({ prompt_tokens: 1000, completion_tokens: 20, prompt_tokens_details: { cached_tokens: 768 } })).toEqual({
      input_tokens: 232, output_tokens: 20, cache_read_input_tokens: 768, cache_creation_input_tokens: 0,
    });
    expect(anthropicUsageToOpenAI({ input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 700, cache_creation_input_tokens: 300 })).toEqual({
      prompt_tokens: 1010, completion_tokens: 5, total_tokens: 1015, prompt_tokens_details: { cached_tokens: 700 },
    });
    // missing or odd figures count as zero; cached never exceeds prompt
    expect(openAIUsageToAnthropic(undefined)).toEqual({ input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    expect(openAIUsageToAnthropic({ prompt_tokens: 5, prompt_tokens_details: { cached_tokens: 9 } }).input_tokens).toBe(0);
  });
});

describe('errors in the client shape', () => {
  it('an OpenAI 429 reaches an Anthropic client as a rate_limit_error (the SDK raises RateLimitError)', async () => {
    const r = translateError(429, JSON.stringify(openaiError), 'anthropic');
    expect(r.status).toBe(429);
    expect(JSON.parse(r.body)).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: 'Rate limit reached for gpt-4.1' } });
    const server = await serveFixed(r.status, 'application/json', r.body);
    try {
      const client = new Anthropic({ apiKey: 'sk-ant-test-fake-err', baseURL: server.url, maxRetries: 0 });
      const err = await client.messages.create({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.RateLimitError);
      expect((err as InstanceType<typeof Anthropic.RateLimitError>).error).toEqual(JSON.parse(r.body));
    } finally {
      await server.close();
    }
  });

  it('an Anthropic 529 reaches an OpenAI client as a server error with the upstream type as its code', async () => {
    const r = translateError(529, JSON.stringify(anthropicError), 'openai');
    expect(r.status).toBe(529);
    expect(JSON.parse(r.body)).toEqual({ error: { message: 'Overloaded', type: 'server_error', param: null, code: 'overloaded_error' } });
    const server = await serveFixed(r.status, 'application/json', r.body);
    try {
      const client = new OpenAI({ apiKey: 'sk-test-fake-err', baseURL: server.url, maxRetries: 0 });
      const err = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.InternalServerError);
      expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('overloaded_error');
      expect((err as Error).message).toContain('Overloaded');
    } finally {
      await server.close();
    }
  });

  it('maps statuses to each side and reads any upstream body', () => {
    const anth = (s: number) => (JSON.parse(translateError(s, '{}', 'anthropic').body) as { error: { type: string } }).error.type;
    expect([400, 401, 403, 404, 413, 422, 429, 500, 503, 504, 529].map(anth)).toEqual([
      'invalid_request_error', 'authentication_error', 'permission_error', 'not_found_error', 'request_too_large', 'invalid_request_error', 'rate_limit_error', 'api_error', 'overloaded_error', 'timeout_error', 'overloaded_error',
    ]);
    const oai = (s: number) => (JSON.parse(translateError(s, 'x', 'openai').body) as { error: { type: string; code: string | null } }).error;
    expect(oai(401)).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key' });
    expect(oai(400)).toMatchObject({ type: 'invalid_request_error', code: null });
    expect(oai(502)).toMatchObject({ type: 'server_error', code: null });
    expect(parseUpstreamError(502, '<html>Bad gateway</html>')).toEqual({ message: '<html>Bad gateway</html>', type: null });
    expect(parseUpstreamError(422, { detail: [{ loc: ['body'], msg: 'field required' }] }).message).toContain('field required');
    expect(parseUpstreamError(500, Buffer.from('')).message).toBe('upstream answered HTTP 500');
    // a status that is not an error is answered as a bad gateway
    expect(translateError(200, '{}', 'anthropic').status).toBe(502);
  });

  it('mid-stream errors in each stream format', () => {
    expect(parseSse(streamErrorFrame('anthropic', 'boom', 529))).toEqual([{ event: 'error', data: { type: 'error', error: { type: 'overloaded_error', message: 'boom' } } }]);
    expect(parseSse(streamErrorFrame('openai', 'boom'))).toEqual([{ event: null, data: { error: { message: 'boom', type: 'server_error', param: null, code: null } } }]);
  });
});
