/**
 * When headroom-ts does not modify a request, upstream receives exactly the bytes the client
 * sent, and the client receives exactly the bytes upstream sent.
 */
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../src/mock/upstream.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { anthropicHeaders, openaiHeaders, send } from './helpers/http.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
beforeEach(() => h.reset());

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** The mock's record of the request just sent: it must exist (there are exactly `n` since the reset). */
function upstreamGot(n = 1): RecordedRequest {
  expect(h.mock.requests).toHaveLength(n);
  return h.mock.requests[n - 1]!;
}
/** What the mock wrote as the response body, which must not be empty. */
function upstreamWrote(rec: RecordedRequest): Buffer {
  const body = Buffer.concat(rec.response);
  expect(body.length).toBeGreaterThan(0);
  return body;
}

// Whitespace, key order, escapes, astral characters, numbers JSON.parse would alter.
const ODD_BODY =
  '{\r\n  "z_last_key": 1e400, "model" :"claude-haiku-5-5",\t"max_tokens":16,\n' +
  '"messages":[{"role":"user","content":"caf\\u00e9 \\ud83d\\ude00 😀 \\"quoted\\" \\/slash"}],' +
  '"metadata":{"user_id":"u-1"}, "precise": 1.00000000000000000001, "dup": 1, "dup": 2 }\n';

describe('request bytes reach upstream unchanged', () => {
  it('Anthropic: sha256 at the mock equals sha256 sent', async () => {
    const res = await send(`${h.url}/v1/messages`, { body: ODD_BODY, headers: anthropicHeaders(FAKE_ANTHROPIC_KEY) });
    expect(res.status).toBe(200);
    expect(upstreamGot().sha256).toBe(sha(ODD_BODY));
  });

  it('OpenAI chat and Responses, streaming and not', async () => {
    const bodies = [
      ['/v1/chat/completions', ODD_BODY.replace('"model" :"claude-haiku-5-5"', '"model":"gpt-4o"')],
      ['/v1/chat/completions', '{"stream":true,  "model":"gpt-4o","messages":[{"role":"user","content":"x"}]}'],
      ['/v1/responses', '{ "model":"gpt-4o", "input":"\\u00e9t\\u00e9", "stream": false }'],
      ['/v1/responses', '{ "model":"gpt-4o", "input":"x", "stream": true }'],
    ] as const;
    for (const [i, [path, body]] of bodies.entries()) {
      const res = await send(`${h.url}${path}`, { body, headers: openaiHeaders(FAKE_OPENAI_KEY) });
      expect(res.status).toBe(200);
      expect(upstreamGot(i + 1).sha256).toBe(sha(body));
    }
  });

  it('a 5 MB body is forwarded byte-exact', async () => {
    const big = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'tool', tool_call_id: 'c', content: 'line of log output\n'.repeat(280_000) }] });
    expect(big.length).toBeGreaterThan(5_000_000);
    const res = await send(`${h.url}/v1/chat/completions`, { body: big, headers: openaiHeaders(FAKE_OPENAI_KEY) });
    expect(res.status).toBe(200);
    expect(upstreamGot().sha256).toBe(sha(big));
  });

  it('the path and query string are kept on passthrough routes', async () => {
    await send(`${h.url}/v1/models?limit=5&after_id=abc`, { headers: anthropicHeaders(FAKE_ANTHROPIC_KEY) });
    const rec = upstreamGot();
    expect(rec.path).toBe('/v1/models');
    expect(rec.url).toBe('/v1/models?limit=5&after_id=abc');
    expect(rec.headers['anthropic-version']).toBe('2023-06-01');
  });
});

describe('response bytes reach the client unchanged', () => {
  it('non-streaming JSON (echo)', async () => {
    const res = await send(`${h.url}/v1/messages`, { body: ODD_BODY, headers: { ...anthropicHeaders(FAKE_ANTHROPIC_KEY), 'x-mock-scenario': 'echo' } });
    expect(upstreamWrote(upstreamGot()).equals(Buffer.from(ODD_BODY))).toBe(true);
    expect(res.body.equals(Buffer.from(ODD_BODY))).toBe(true);
  });

  it('SSE streams, all three APIs', async () => {
    const cases = [
      ['/v1/messages', '{"model":"claude-haiku-5-5","max_tokens":8,"stream":true,"messages":[{"role":"user","content":"x"}]}', anthropicHeaders(FAKE_ANTHROPIC_KEY)],
      ['/v1/chat/completions', '{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]}', openaiHeaders(FAKE_OPENAI_KEY)],
      ['/v1/responses', '{"model":"gpt-4o","stream":true,"input":"x"}', openaiHeaders(FAKE_OPENAI_KEY)],
    ] as const;
    for (const [i, [path, body, headers]] of cases.entries()) {
      const res = await send(`${h.url}${path}`, { body, headers });
      expect(res.status).toBe(200);
      expect(sha(res.body)).toBe(sha(upstreamWrote(upstreamGot(i + 1))));
    }
  });

  it('upstream error bodies and headers are passed through verbatim', async () => {
    const res = await send(`${h.url}/v1/messages`, { body: ODD_BODY, headers: { ...anthropicHeaders(FAKE_ANTHROPIC_KEY), 'x-mock-scenario': 'status:404' } });
    expect(res.status).toBe(404);
    expect(res.body.equals(upstreamWrote(upstreamGot()))).toBe(true);
    expect(res.json()).toEqual({ type: 'error', error: { type: 'not_found_error', message: 'mock upstream failure (HTTP 404)' } });
  });
});

describe('headers', () => {
  it('credentials and provider headers pass; hop-by-hop and x-headroom-* do not', async () => {
    // node:http sends the Connection header exactly as given (undici would rewrite it)
    await rawPost(`${h.url}/v1/messages`, ODD_BODY, {
        ...anthropicHeaders(FAKE_ANTHROPIC_KEY),
        'anthropic-beta': 'prompt-caching-2024-07-31,context-1m',
        'x-custom-trace': 'abc',
        'x-headroom-stack': 'wrap_claude',
        'x-headroom-project': 'billing',
        'x-headroom-proxy-token': 'not-forwarded',
        'proxy-authorization': 'Basic Zm9vOmJhcg==',
        te: 'trailers',
        connection: 'keep-alive, x-hop-header',
        'x-hop-header': 'hop',
        'accept-encoding': 'gzip, br',
    });
    const got = upstreamGot().headers;
    expect(got['x-api-key']).toBe(FAKE_ANTHROPIC_KEY);
    expect(got['anthropic-version']).toBe('2023-06-01');
    expect(got['anthropic-beta']).toBe('prompt-caching-2024-07-31,context-1m');
    expect(got['x-custom-trace']).toBe('abc');
    for (const name of ['x-headroom-stack', 'x-headroom-project', 'x-headroom-proxy-token', 'proxy-authorization', 'te', 'x-hop-header', 'accept-encoding']) {
      expect(got[name], name).toBeUndefined();
    }
    expect(got.host).toBe(new URL(h.mock.url).host);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.stack).toBe('wrap_claude');
    expect(o!.project).toBe('billing');
    expect(o!.tags).toEqual({ stack: 'wrap_claude', project: 'billing' });
    expect(o!.apiKeyHash).toBe(sha(FAKE_ANTHROPIC_KEY).slice(0, 16));
    expect(JSON.stringify(o)).not.toContain(FAKE_ANTHROPIC_KEY);
  });

  it('responses carry x-headroom-request-id and x-headroom-overhead-ms, and keep upstream headers', async () => {
    const res = await send(`${h.url}/v1/chat/completions`, { body: '{"model":"gpt-4o","messages":[]}', headers: openaiHeaders(FAKE_OPENAI_KEY) });
    expect(res.headers['x-headroom-request-id']).toMatch(/^hr_\d+_\d{6}$/);
    expect(Number(res.headers['x-headroom-overhead-ms'])).toBeGreaterThanOrEqual(0);
    expect(res.headers['x-request-id']).toMatch(/^req_mock_/);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.requestId).toBe(res.headers['x-headroom-request-id']);
  });
});

function rawPost(url: string, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}
