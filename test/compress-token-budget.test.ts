/**
 * Counting the tokens of a huge OpenAI request stays within the compression time budget:
 * BPE counting of content not seen before is bounded (the rest is estimated), so an 18 MB
 * chat request no longer stalls the event loop for seconds while its tokens are counted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateOutput } from '../src/mock/agent-outputs.js';
import { FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { openaiHeaders, send } from './helpers/http.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config: { compressionBudgetMs: 200 } });
});
afterAll(() => h.close());

function hugeChat(model: string, targetBytes: number): string {
  const messages: unknown[] = [{ role: 'user', content: 'Summarise every search.' }];
  let size = 0;
  for (let i = 0; size < targetBytes; i++) {
    const text = generateOutput('search_json', 20_000, i).text;
    messages.push({ role: 'assistant', content: null, tool_calls: [{ id: `c${i}`, type: 'function', function: { name: 'search', arguments: '{}' } }] });
    messages.push({ role: 'tool', tool_call_id: `c${i}`, content: text });
    messages.push({ role: 'user', content: `and the next one (${i})` });
    size += text.length + 200;
  }
  return JSON.stringify({ model, messages });
}

describe('token counting within the compression budget', () => {
  it('an 18 MB gpt-4o request: counting takes a fraction of a second, not seconds, and the figure stays close to the estimate', async () => {
    const body = hugeChat('gpt-4o', 18e6);
    const r = await send(`${h.url}/v1/chat/completions`, { body, headers: { ...openaiHeaders(FAKE_OPENAI_KEY), 'x-mock-tools': 'off' } });
    expect(r.status).toBe(200);
    const [o] = await h.waitForOutcomes(1, 30_000);
    const t = o!.compression.timingsMs;
    // before: about 5.6 s of BPE counting on this request (a bound far from both figures)
    expect(t._tokens).toBeLessThan(2_000);
    expect(o!.compression.tokensBefore).toBeGreaterThan(body.length / 8);
    expect(o!.compression.tokensBefore).toBeLessThan(body.length / 2);
  }, 60_000);
});
