/**
 * `headroom-ts keys` as a child process, end to end: `keys create` prints a key once and the
 * `keys:` entry with its hash; that entry in a config file makes a spawned proxy accept the key
 * (and nothing else), sending the server-side key from its environment upstream; `keys hash`
 * gives the same hash from stdin.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { MockUpstream } from '../src/mock/upstream.js';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'headroom-keys-cli-'));
const SERVER_KEY = 'sk-ant-api03-FAKEserverKEYcli444444444444444';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], input = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, HEADROOM_WORKSPACE_DIR: join(dir, 'ws') }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`headroom-ts ${args.join(' ')} did not finish`));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

function startProxy(config: string, upstream: string): Promise<{ url: string; child: ChildProcess; out: () => string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, HEADROOM_LOG_LEVEL: 'info', HEADROOM_WORKSPACE_DIR: join(dir, 'ws-proxy'), ANTHROPIC_TARGET_API_URL: upstream, ANTHROPIC_API_KEY: SERVER_KEY };
    delete env.OPENAI_API_KEY;
    const child = spawn(process.execPath, [CLI, 'proxy', '--port', '0', '--config', config], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[^"\s]+)/.exec(out);
      if (m) resolve({ url: m[1]!, child, out: () => out });
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`proxy exited ${code}: ${out}`)));
  });
}

const mock = new MockUpstream();
let created: Run;
let key: string;
let entry: Record<string, unknown>;

beforeAll(async () => {
  await mock.start();
  created = await run(['keys', 'create', 'ci-bot', '--models', 'claude-*,gpt-4o*', '--rpm', '30', '--budget-usd', '2.5']);
  key = created.stdout.split('\n')[0]!;
  const list = parseYaml(created.stdout.slice(created.stdout.indexOf('\n') + 1)) as Record<string, unknown>[];
  entry = list[0]!;
});
afterAll(async () => {
  await mock.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('headroom-ts keys', () => {
  it('create: the key once on the first line, then the entry with its hash and limits (never the key)', () => {
    expect(created.code).toBe(0);
    expect(key).toMatch(/^hr-[A-Za-z0-9_-]{43}$/);
    expect(created.stdout.split(key)).toHaveLength(2); // printed exactly once
    expect(entry).toEqual({ name: 'ci-bot', hash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), models: ['claude-*', 'gpt-4o*'], rpm: 30, budget_usd: 2.5 });
  });

  it('create: two runs give different keys; a bad name or limit exits 2 naming it', async () => {
    const again = await run(['keys', 'create', 'ci-bot']);
    expect(again.stdout.split('\n')[0]).not.toBe(key);
    const bad = await run(['keys', 'create', 'has space']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('name: a name is 1-64 letters');
    const badRpm = await run(['keys', 'create', 'x', '--rpm', 'lots']);
    expect(badRpm.code).toBe(2);
    expect(badRpm.stderr).toContain('rpm');
  });

  it('hash: the same hash from stdin; nothing on stdin exits 2', async () => {
    const h = await run(['keys', 'hash'], `${key}\n`);
    expect(h.code).toBe(0);
    expect(h.stdout.trim()).toBe(entry.hash);
    const empty = await run(['keys', 'hash'], '');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('no key on stdin');
  });

  it('the printed entry in a config file: the proxy accepts that key only and sends its own key upstream', async () => {
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `keys:\n${created.stdout.slice(created.stdout.indexOf('- name'))}`);
    const proxy = await startProxy(config, mock.url);
    try {
      const ok = await new Anthropic({ apiKey: key, baseURL: proxy.url, maxRetries: 0 }).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }] });
      expect(ok.content[0]).toMatchObject({ type: 'text' });
      expect(mock.requests).toHaveLength(1);
      expect(mock.requests[0]!.headers['x-api-key']).toBe(SERVER_KEY);
      expect(mock.requests[0]!.rawHeaders.join('\n')).not.toContain(key);
      const refused = await new Anthropic({ apiKey: `${key}x`, baseURL: proxy.url, maxRetries: 0 }).messages
        .create({ model: 'claude-sonnet-4-5', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }] })
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(Anthropic.AuthenticationError);
      expect(mock.requests).toHaveLength(1);
      const stats = (await (await fetch(`${proxy.url}/stats`)).json()) as { by_virtual_key: Record<string, { requests: number; budget_usd: number }> };
      expect(stats.by_virtual_key['ci-bot']).toMatchObject({ requests: 1, budget_usd: 2.5 });
      expect(proxy.out()).toContain('virtual keys enabled');
      expect(proxy.out()).not.toContain(key);
      expect(proxy.out()).not.toContain(SERVER_KEY);
    } finally {
      proxy.child.kill('SIGTERM');
      await new Promise((r) => proxy.child.once('exit', r));
    }
  });
});
