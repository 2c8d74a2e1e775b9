/**
 * Start-up does not wait for the tokenizer vocabularies: the built CLI proxy answers `/livez`
 * as soon as it listens while they load in the background; `/readyz` says not ready (check
 * `tokenizers`) until they are loaded, then ready.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import o200k from 'js-tiktoken/ranks/o200k_base';
import { tokenCounterFor, tokenizersReady, warmTokenizersInBackground } from '../src/compress/tokens.js';
import { generateOutput } from '../src/mock/agent-outputs.js';
import { type ChildProxy, startChildProxy } from './helpers/child-proxy.js';
import { send } from './helpers/http.js';

type Json = Record<string, any>;
const workspace = mkdtempSync(join(tmpdir(), 'headroom-warmup-'));
let proxy: ChildProxy | null = null;
afterAll(() => {
  if (proxy && proxy.child.exitCode === null) proxy.child.kill('SIGKILL');
  rmSync(workspace, { recursive: true, force: true });
});

describe('tokenizer warm-up in the background', () => {
  it('/livez answers while the vocabularies are still loading; /readyz turns 200 once they are', async () => {
    proxy = await startChildProxy(['--workspace-dir', workspace, '--skip-upstream-check'], { HEADROOM_LOG_LEVEL: 'debug' });
    const live = await send(`${proxy.url}/livez`);
    const ready = await send(`${proxy.url}/readyz`);
    expect(live.status).toBe(200);
    expect(ready.status).toBe(503);
    expect(ready.json<Json>().checks.tokenizers).toMatchObject({ enabled: true, ready: false, state: 'loading in the background' });
    // the vocabularies finish loading afterwards, in the same process
    expect(proxy.output()).not.toContain('tokenizer vocabularies loaded');
    await expect.poll(async () => (await send(`${proxy!.url}/readyz`)).status, { timeout: 30_000, interval: 50 }).toBe(200);
    // the log is written asynchronously
    await expect.poll(() => proxy!.output(), { timeout: 5_000 }).toContain('tokenizer vocabularies loaded');
    expect((await send(`${proxy.url}/readyz`)).json<Json>().checks.tokenizers).toMatchObject({ ready: true, state: 'loaded' });
    proxy.child.kill('SIGTERM');
    expect((await proxy.exited).code).toBe(0);
  }, 60_000);

  it('a vocabulary built a slice at a time counts exactly like one built at once', async () => {
    expect(tokenizersReady()).toBe(false);
    await warmTokenizersInBackground(2);
    expect(tokenizersReady()).toBe(true);
    const texts = [
      'Hello, world! The quick brown fox jumps over the lazy dog.',
      generateOutput('search_json', 8_000, 5).text,
      generateOutput('logs_json', 8_000, 6).text,
      'const x = await fetch(`/v1/${id}`); // 東京 café naïve ✓ 🚀 Привет مرحبا',
      '    indented\n\tcode {\n  return a_b_c + 0x1F;\n}\n',
    ];
    for (const [model, ranks] of [['gpt-4o', o200k], ['gpt-4', cl100k]] as const) {
      const reference = new Tiktoken(ranks);
      const counter = tokenCounterFor(model);
      for (const t of texts) expect(counter.count(t)).toBe(reference.encode(t).length);
    }
  });
});
