/**
 * The hook protocol as served by a running hook server (real engine workers) against its
 * schemas (src/capabilities/hook/schema.ts): the envelopes sent here parse as envelopes, each
 * answer (modify, allow, fail-open allow) parses as an answer, `/config` parses as the
 * settings; an answer missing a declared field does not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problems } from './helpers/schema.js';
import { hookConfigSchema, hookEnvelopeSchema, hookResponseSchema, hookSettingsSchema } from '../src/capabilities/hook/schema.js';
import { fileListingEnvelope } from '../src/mock/file-listing.js';
import { type HookHarness, postHook, startHookServer } from './helpers/hook.js';

let h: HookHarness;
beforeAll(async () => {
  h = await startHookServer();
});
afterAll(() => h.close());

describe('hook protocol against its schemas', () => {
  it('a compressible envelope is answered modify, with the request body as received but its messages', async () => {
    const env = fileListingEnvelope(400);
    expect(problems(hookEnvelopeSchema, env)).toBe('');
    const r = await postHook(h.url, env);
    expect(problems(hookResponseSchema, r.json)).toBe('');
    expect(hookResponseSchema.parse(r.json).action).toBe('modify');
    // (parsing strips undeclared keys: compare the answer as served)
    const { messages: _sent, ...sentRest } = env.request_body as Record<string, unknown>;
    const { messages, ...rest } = (r.json as { request_body: Record<string, unknown> }).request_body;
    expect(rest).toEqual(sentRest);
    expect(JSON.stringify(messages).length).toBeLessThan(JSON.stringify(_sent).length);
    const broken = structuredClone(r.json!) as Record<string, any>;
    delete broken.request_body;
    expect(problems(hookResponseSchema, broken)).toMatch(/^request_body: /);
  });

  it('small, malformed and non-JSON envelopes are answered allow (fail open)', async () => {
    const small = { metadata: { provider: 'openai', model: 'gpt-4o', session_id: 's' }, request_body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] } };
    expect(problems(hookEnvelopeSchema, small)).toBe('');
    for (const body of [small, { request_body: { messages: 'not a list' } }, '{not json']) {
      const r = await postHook(h.url, body);
      expect(r.status).toBe(200);
      expect(hookResponseSchema.parse(r.json)).toEqual({ action: 'allow' });
    }
    expect(problems(hookEnvelopeSchema, { request_body: { messages: 'not a list' } })).toMatch(/^request_body\.messages: /);
    expect(problems(hookResponseSchema, { action: 'block' })).toMatch(/^action: /);
  });

  it('GET /config parses as the settings (with the version), and a PUT answer as the settings', async () => {
    const g = await (await fetch(`${h.url}/config`)).json();
    expect(problems(hookConfigSchema, g)).toBe('');
    const put = await fetch(`${h.url}/config`, { method: 'PUT', body: JSON.stringify({ protect_recent: 3 }), headers: { 'content-type': 'application/json' } });
    const s = hookSettingsSchema.parse(await put.json());
    expect(s.protect_recent).toBe(3);
    expect(Object.keys(s)).toEqual(Object.keys(hookSettingsSchema.shape));
    expect(problems(hookSettingsSchema, { ...s, protect_recent: -1 })).toMatch(/^protect_recent: /);
  });
});
