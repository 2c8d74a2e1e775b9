/** The built CLI, run as users run it (requires `npm run build`, which `npm test` does first). */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockUpstream } from '../src/mock/upstream.js';
import { FAKE_ANTHROPIC_KEY } from './helpers/harness.js';
import { anthropicHeaders, send } from './helpers/http.js';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const workspace = mkdtempSync(join(tmpdir(), 'headroom-cli-'));

function waitForUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`proxy did not start:\n${out}`)), 15_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[^"\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`proxy exited ${code}:\n${out}`)));
  });
}

describe('headroom-ts CLI', () => {
  const mock = new MockUpstream();
  beforeAll(() => mock.start());
  afterAll(() => mock.close());

  it('`proxy` serves, proxies and shuts down cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [CLI, 'proxy', '--port', '0', '--anthropic-api-url', mock.url], {
      env: { ...process.env, HEADROOM_WORKSPACE_DIR: workspace, HEADROOM_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = await waitForUrl(child);
    expect((await send(`${url}/livez`)).status).toBe(200);
    // ready once the tokenizer vocabularies have loaded in the background
    await expect.poll(async () => (await send(`${url}/readyz`)).status, { timeout: 20_000, interval: 50 }).toBe(200);
    expect((await send(`${url}/health`)).json()).toMatchObject({ status: 'healthy', ready: true });
    const r = await send(`${url}/v1/messages`, { body: '{"model":"claude-haiku-5-5","max_tokens":4,"messages":[{"role":"user","content":"x"}]}', headers: anthropicHeaders(FAKE_ANTHROPIC_KEY) });
    expect(r.status).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('a bad value stops start-up with a message naming the field and the accepted values', () => {
    const r = spawnSync(process.execPath, [CLI, 'proxy', '--retry-max-attempts', '99'], { env: { ...process.env, HEADROOM_WORKSPACE_DIR: workspace }, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('retryMaxAttempts (flag --retry-max-attempts) = "99"');
    expect(r.stderr).toContain('Accepted: an integer from 1 to 10');
    const e = spawnSync(process.execPath, [CLI, 'proxy'], { env: { ...process.env, HEADROOM_PORT: 'eighty' }, encoding: 'utf8' });
    expect(e.status).toBe(2);
    expect(e.stderr).toMatch(/port \(env HEADROOM_PORT\)/);
  });

  it('--help lists the options with their env vars', () => {
    const r = spawnSync(process.execPath, [CLI, 'proxy', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--anthropic-api-url <value>');
    expect(r.stdout).toContain('ANTHROPIC_TARGET_API_URL');
  });
});
