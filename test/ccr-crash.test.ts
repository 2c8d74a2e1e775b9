/**
 * A CCR marker reaches the model only after its original is on disk: the proxy (built CLI,
 * its own process) compresses concurrent requests, is killed with SIGKILL in the middle of
 * them, and a fresh process on the same workspace can return every original whose marker the
 * upstream had received.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findMarkers } from '../src/compress/markers.js';
import { generateOutput } from '../src/mock/agent-outputs.js';
import { MockUpstream } from '../src/mock/upstream.js';
import { type ChildProxy, startChildProxy } from './helpers/child-proxy.js';
import { FAKE_ANTHROPIC_KEY } from './helpers/harness.js';
import { anthropicHeaders, send } from './helpers/http.js';

const mock = new MockUpstream();
const workspace = mkdtempSync(join(tmpdir(), 'headroom-crash-'));
let proxy: ChildProxy | null = null;

beforeAll(() => mock.start());
afterAll(async () => {
  if (proxy && proxy.child.exitCode === null && proxy.child.signalCode === null) proxy.child.kill('SIGKILL');
  await mock.close();
  rmSync(workspace, { recursive: true, force: true });
});

function body(seed: number): string {
  const out = generateOutput('search_json', 12_000, seed);
  return JSON.stringify({
    model: 'claude-haiku-5-5',
    max_tokens: 16,
    messages: [
      { role: 'user', content: 'Find the failing items in the search index.' },
      { role: 'assistant', content: [{ type: 'text', text: 'Searching.' }, { type: 'tool_use', id: `toolu_${seed}`, name: 'search', input: { q: 'failing' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${seed}`, content: out.text }] },
    ],
  });
}

/** Every marker hash the upstream received. */
const seenHashes = () => new Set(mock.requests.flatMap((r) => findMarkers(r.body.toString('utf8')).map((m) => m.hash)));

describe('originals survive kill -9', () => {
  it('every hash the upstream received is retrievable after a SIGKILL under concurrent load', async () => {
    const args = ['--anthropic-api-url', mock.url, '--workspace-dir', workspace, '--no-log-requests'];
    proxy = await startChildProxy(args);
    const url = proxy.url;
    let seed = 1000;
    let stop = false;
    const worker = async () => {
      while (!stop) {
        try {
          await send(`${url}/v1/messages`, { body: body(seed++), headers: { ...anthropicHeaders(FAKE_ANTHROPIC_KEY), 'x-mock-tools': 'off' } });
        } catch {
          return; // the proxy is gone
        }
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    // kill it while requests are in flight, once plenty of markers have gone upstream
    await expect.poll(() => seenHashes().size, { timeout: 60_000, interval: 20 }).toBeGreaterThanOrEqual(60);
    proxy.child.kill('SIGKILL');
    const exit = await proxy.exited;
    expect(exit.signal).toBe('SIGKILL');
    stop = true;
    await Promise.all(workers);
    const hashes = [...seenHashes()];

    proxy = await startChildProxy(args);
    const lost: string[] = [];
    for (const hash of hashes) {
      const r = await send(`${proxy.url}/v1/retrieve/${hash}`);
      if (r.status !== 200) lost.push(hash);
    }
    expect({ seen: hashes.length, lost: lost.length }).toEqual({ seen: hashes.length, lost: 0 });
    proxy.child.kill('SIGTERM');
    await proxy.exited;
  }, 120_000);
});
