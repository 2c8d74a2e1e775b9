/**
 * Tool names OpenAI refuses (over 64 characters, characters outside [a-zA-Z0-9_-], as MCP tools
 * in Claude Code may have) go upstream under a stand-in and come back under the client's name,
 * in non-stream answers and in streams.
 */
import { describe, expect, it } from 'vitest';
import { OpenAIToAnthropicStream, ToolNames, anthropicToOpenAIRequest, openAIToAnthropicResponse } from '../src/translate/index.js';
import { openaiCompletion, openaiSse } from './fixtures/translate/openai.js';
import { parseSse } from './helpers/translate.js';

const LONG = `mcp__${'very_long_server_name_'.repeat(3)}__search_everything_in_the_index`;
const DOTTED = 'files.read';

describe('tool names', () => {
  const req = {
    model: 'c',
    max_tokens: 10,
    tools: [
      { name: LONG, input_schema: { type: 'object' } },
      { name: DOTTED, input_schema: { type: 'object' } },
      { name: 'bash', input_schema: { type: 'object' } },
    ],
    tool_choice: { type: 'tool', name: LONG },
    messages: [
      { role: 'user', content: 'x' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: DOTTED, input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'ok' }] },
    ],
  };
  const t = anthropicToOpenAIRequest(req, { model: 'gpt-4.1' });
  const sent = t.body.tools!.map((x) => x.function.name);

  it('sends valid names everywhere the name appears, unchanged names as they are', () => {
    expect(LONG.length).toBeGreaterThan(64);
    for (const n of sent) expect(n).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(sent[2]).toBe('bash');
    expect(t.body.tool_choice).toEqual({ type: 'function', function: { name: sent[0] } });
    expect(t.body.messages[1]).toMatchObject({ tool_calls: [{ function: { name: sent[1] } }] });
    expect(t.toolNames).toEqual({ [sent[0]!]: LONG, [sent[1]!]: DOTTED });
    // no map when nothing changed
    expect(anthropicToOpenAIRequest({ ...req, tools: [req.tools[2]], tool_choice: undefined, messages: [{ role: 'user', content: 'x' }] }, { model: 'g' }).toolNames).toBeUndefined();
  });

  it('restores the names in a non-stream answer and in a stream', () => {
    const answer = structuredClone(openaiCompletion) as typeof openaiCompletion;
    answer.choices[0]!.message.tool_calls[0]!.function.name = sent[0]!;
    answer.choices[0]!.message.tool_calls[1]!.function.name = 'bash';
    const msg = openAIToAnthropicResponse(answer, { toolNames: t.toolNames });
    expect(msg.content.filter((b) => b.type === 'tool_use').map((b) => (b as { name: string }).name)).toEqual([LONG, 'bash']);

    const chunk = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: sent[1], arguments: '{}' } }] }, finish_reason: 'tool_calls' }] };
    const s = new OpenAIToAnthropicStream({ model: 'c', toolNames: t.toolNames });
    const events = parseSse(s.push(openaiSse([chunk])) + s.end()).map((f) => f.data as { type: string; content_block?: { name: string } });
    expect(events.find((e) => e.type === 'content_block_start')?.content_block?.name).toBe(DOTTED);
  });

  it('stand-ins are distinct for names that clean up the same', () => {
    const names = new ToolNames();
    const a = names.send('a.b');
    const b = names.send('a/b');
    expect(a).not.toBe(b);
    expect(names.send('a.b')).toBe(a);
    expect(names.map()).toEqual({ [a]: 'a.b', [b]: 'a/b' });
  });
});
