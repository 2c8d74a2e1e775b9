/**
 * Keys are scrubbed even right after a JSON escape (`"...\nsk-ant-..."`, where `\b` sees no
 * word boundary), and from the live endpoints (`/metrics/logs`, `/metrics/running-totals` in
 * JSON and YAML, `/metrics/active-requests`) as from the logs and `/stats`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactSecrets } from '../src/core/redact.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { anthropicHeaders, send } from './helpers/http.js';

const KEY_BODY = FAKE_ANTHROPIC_KEY.slice('sk-ant-'.length);

describe('redactSecrets', () => {
  it('scrubs keys after JSON escapes and inside JSON-in-JSON', () => {
    const cases = [
      JSON.stringify(`line one\n${FAKE_ANTHROPIC_KEY}`),
      JSON.stringify(`col\t${FAKE_OPENAI_KEY}`),
      JSON.stringify(`cr\r${FAKE_OPENAI_KEY}`),
      `\\u000a${FAKE_ANTHROPIC_KEY}`,
      JSON.stringify(`x\nBearer abcdef123456`),
      JSON.stringify(`x\nAIzaSyA1234567890abcdefghijklmn`),
      JSON.stringify(JSON.stringify({ 'x-api-key': 'abcd1234secret' })),
    ];
    for (const c of cases) {
      const out = redactSecrets(c);
      expect(out, c).not.toContain(KEY_BODY);
      expect(out, c).not.toContain('abcdef123456');
      expect(out, c).not.toContain('SyA1234567890');
      expect(out, c).not.toContain('abcd1234secret');
    }
    expect(redactSecrets('task-force and ask-me stay as they are')).toBe('task-force and ask-me stay as they are');
  });
});

describe('live endpoints', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    // a key pasted into the model field, after a newline: it lands in live buckets, traces and errors
    h.mock.enqueue('status:400');
    await send(`${h.url}/v1/messages`, {
      body: JSON.stringify({ model: `probe\n${FAKE_ANTHROPIC_KEY}`, max_tokens: 4, messages: [{ role: 'user', content: 'x' }] }),
      headers: { ...anthropicHeaders(FAKE_ANTHROPIC_KEY), 'x-headroom-project': `p\t${FAKE_OPENAI_KEY}` },
    });
    await h.waitForOutcomes(1);
  });
  afterAll(() => h.close());

  it('never show the key, in any format', async () => {
    const pages = [
      '/metrics/logs', '/metrics/running-totals', '/metrics/running-totals?format=json', '/metrics/active-requests', '/stats',
    ];
    for (const page of pages) {
      const text = (await send(`${h.url}${page}`)).text;
      expect(text.length, page).toBeGreaterThan(0);
      expect(text, page).not.toContain(KEY_BODY);
      expect(text, page).not.toContain(FAKE_OPENAI_KEY.slice(8));
    }
    const logs = (await send(`${h.url}/metrics/logs`)).json<{ traces: { model: string }[] }>();
    expect(logs.traces[0]!.model).toBe('probe\nsk-***');
  });
});
