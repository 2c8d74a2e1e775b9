/**
 * The built CLI's user commands, run as child processes: `wrap` (reusing a running proxy and
 * starting its own), `stats` (from a proxy and from the store), `compress` (file and stdin) and
 * `demo` (to completion). Upstreams are the mock; no real provider is ever called.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findMarkers } from '../src/compress/markers.js';
import { generateOutput } from '../src/mock/agent-outputs.js';
import { MockUpstream } from '../src/mock/upstream.js';
import { FAKE_ANTHROPIC_KEY } from './helpers/harness.js';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'headroom-cli-cmds-'));
const LOG = generateOutput('service_log', 20_000, 7);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, HEADROOM_WORKSPACE_DIR: join(dir, 'ws-default'), ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`headroom-ts ${args.join(' ')} did not finish:\n${stdout}\n${stderr}`));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

/** A script the wrapped "agent" runs: two Anthropic calls through ANTHROPIC_BASE_URL, then exits with 3. */
const AGENT = join(dir, 'agent.mjs');
writeFileSync(AGENT, `
const base = process.env.ANTHROPIC_BASE_URL;
const stack = (process.env.ANTHROPIC_CUSTOM_HEADERS ?? '').split(': ');
const log = ${JSON.stringify(LOG.text)};
for (let i = 0; i < 2; i++) {
  const res = await fetch(base + '/v1/messages', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': '${FAKE_ANTHROPIC_KEY}', 'anthropic-version': '2023-06-01', [stack[0]]: stack[1] },
    body: JSON.stringify({ model: 'claude-opus-4-6', max_tokens: 32, messages: [
      { role: 'user', content: 'why?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'logs', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: log }] },
    ] }),
  });
  if (res.status !== 200) { console.error('status', res.status, await res.text()); process.exit(1); }
  await res.json();
}
console.log('agent done', process.env.OPENAI_BASE_URL === base + '/v1' ? 'openai-ok' : 'openai-missing', process.argv.slice(2).join(','));
process.exit(3);
`);

function startProxy(env: NodeJS.ProcessEnv): Promise<{ url: string; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'proxy', '--port', '0'], { env: { ...process.env, HEADROOM_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[^"\s]+)/.exec(out);
      if (m) resolve({ url: m[1]!, child });
    });
    child.once('exit', (code) => reject(new Error(`proxy exited ${code}: ${out}`)));
  });
}

const mock = new MockUpstream();
let proxy: { url: string; child: ChildProcess };

beforeAll(async () => {
  await mock.start();
  proxy = await startProxy({ ANTHROPIC_TARGET_API_URL: mock.url, HEADROOM_WORKSPACE_DIR: join(dir, 'ws-running') });
});
afterAll(async () => {
  proxy.child.kill('SIGTERM');
  await new Promise((r) => proxy.child.once('exit', r));
  await mock.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('headroom-ts wrap', () => {
  it('reuses a running proxy: the tool gets its base URLs and args, its exit code is kept, the run is summarised', async () => {
    const port = new URL(proxy.url).port;
    const r = await run(['wrap', '--port', port, '--', process.execPath, AGENT, 'a', 'b']);
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('agent done openai-ok a,b');
    expect(r.stderr).toContain(`using the proxy at ${proxy.url}`);
    const summary = /headroom-ts: 2 requests through \S+ · ([\d,]+) tokens saved \(([\d.]+)% of input\) · \$([\d.]+) saved/.exec(r.stderr);
    expect(summary, r.stderr).not.toBeNull();
    expect(Number(summary![1]!.replace(/,/g, ''))).toBeGreaterThan(0);
    // the requests were counted under the wrapped tool's stack
    const stats = (await (await fetch(`${proxy.url}/stats`)).json()) as { requests: { by_stack: Record<string, number> } };
    expect(stats.requests.by_stack.wrap_node).toBe(2);
    // only this run's requests are summarised
    const again = await run(['wrap', '--port', port, '--', process.execPath, AGENT]);
    expect(again.stderr).toMatch(/headroom-ts: 2 requests through/);
  });

  it('starts its own proxy when none answers, and stops it afterwards', async () => {
    const r = await run(['wrap', '--port', '1', '--', process.execPath, AGENT], { ANTHROPIC_TARGET_API_URL: mock.url, HEADROOM_WORKSPACE_DIR: join(dir, 'ws-own') });
    expect(r.code).toBe(3);
    const started = /started a proxy at (http:\/\/\S+)/.exec(r.stderr);
    expect(started, r.stderr).not.toBeNull();
    expect(r.stderr).toMatch(/headroom-ts: 2 requests through/);
    await expect(fetch(`${started![1]}/livez`)).rejects.toThrow();
  });

  it('a command that does not exist exits 127 with a clear message', async () => {
    const r = await run(['wrap', '--port', new URL(proxy.url).port, '--no-summary', '--', 'headroom-ts-no-such-command']);
    expect(r.code).toBe(127);
    expect(r.stderr).toContain('cannot run headroom-ts-no-such-command: command not found');
  });
});

describe('headroom-ts stats', () => {
  it('--json from a running proxy', async () => {
    const r = await run(['stats', '--url', proxy.url, '--json']);
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout) as { source: string; stats: { requests: { total: number } } };
    expect(body.source).toBe('proxy');
    expect(body.stats.requests.total).toBeGreaterThanOrEqual(4);
    const table = await run(['stats', '--url', proxy.url]);
    expect(table.stdout).toMatch(/this process\s+\d+/);
  });

  it('falls back to the durable store when no proxy answers', async () => {
    const ws = join(dir, 'ws-running');
    const r = await run(['stats', '--url', 'http://127.0.0.1:1', '--workspace-dir', ws, '--json']);
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout) as { source: string; lifetime: { requests: number; tokens_saved: number } };
    expect(body.source).toBe('store');
    expect(body.lifetime.requests).toBeGreaterThanOrEqual(4);
    expect(body.lifetime.tokens_saved).toBeGreaterThan(0);
    const table = await run(['stats', '--url', 'http://127.0.0.1:1', '--workspace-dir', ws]);
    expect(table.stdout).toMatch(/lifetime\s+\d+/);
  });
});

describe('headroom-ts compress', () => {
  it('compresses a file and standard input the same way, savings on stderr', async () => {
    const file = join(dir, 'service.log');
    writeFileSync(file, LOG.text);
    const a = await run(['compress', file]);
    const b = await run(['compress', '-'], {}, LOG.text);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout.length).toBeLessThan(LOG.text.length / 3);
    for (const n of LOG.needles) expect(a.stdout).toContain(n);
    expect(findMarkers(a.stdout)).toHaveLength(1);
    expect(a.stderr).toMatch(/headroom-ts: [\d,]+ -> [\d,]+ tokens \(saved [\d,]+, [\d.]+%\) · log_compressor/);
  });

  it('a JSON message list comes back as messages; --json prints the result', async () => {
    const messages = [
      { role: 'user', content: 'why?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'logs', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: LOG.text },
    ];
    const r = await run(['compress', '-'], {}, JSON.stringify({ model: 'gpt-4o', messages }));
    const out = JSON.parse(r.stdout) as { model: string; messages: { content: string }[] };
    expect(out.model).toBe('gpt-4o');
    expect(out.messages[2]!.content.length).toBeLessThan(LOG.text.length / 3);
    const j = await run(['compress', '--json', '-'], {}, JSON.stringify(messages));
    expect(JSON.parse(j.stdout)).toMatchObject({ transforms_applied: ['log_compressor'] });
  });

  it('a tiny input is left as is, and the line says so with the tokens of the text itself', async () => {
    const r = await run(['compress', '-'], {}, 'hello world, a short line\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('hello world, a short line\n\n');
    // the count is the text's own (a handful of tokens), not the ~90-token message envelope around it
    const m = /headroom-ts: left as is \((\d+) tokens\): shorter than 512 characters/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(20);
    expect(r.stderr).not.toMatch(/->/);
  });

  it('stores the originals in the workspace CCR store: a proxy on that workspace serves the marker\'s hash', async () => {
    const file = join(dir, 'service-store.log');
    writeFileSync(file, LOG.text);
    const r = await run(['compress', file], { HEADROOM_WORKSPACE_DIR: join(dir, 'ws-running') });
    expect(r.code).toBe(0);
    const [marker] = findMarkers(r.stdout);
    expect(marker).toBeDefined();
    expect(r.stderr).toContain(`1 original stored in ${join(dir, 'ws-running', 'ccr_store.db')} for 30 min`);
    const res = await fetch(`${proxy.url}/v1/retrieve/${marker!.hash}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { original_content: string }).original_content).toBe(LOG.text);
    const off = await run(['compress', '--no-store', file], { HEADROOM_WORKSPACE_DIR: join(dir, 'ws-nostore') });
    expect(off.stderr).toContain('1 original not stored (--no-store): their markers cannot be retrieved from any proxy');
  });

  it('a missing file is a clear error', async () => {
    const r = await run(['compress', join(dir, 'nope.txt')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/headroom-ts: .*ENOENT/);
  });
});

describe('headroom-ts demo', () => {
  it('replays the session against the built-in mock and reports real savings', async () => {
    const r = await run(['demo', '--requests', '4']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('[ 4/4]');
    const saved = /saved: ([\d,]+) tokens \(([\d.]+)%\)/.exec(r.stdout);
    expect(saved, r.stdout).not.toBeNull();
    expect(Number(saved![1]!.replace(/,/g, ''))).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/prompt cache: [\d,]+ tokens read .* hit rate [\d.]+%/);
    expect(r.stdout).toMatch(/dashboard: http:\/\/127\.0\.0\.1:\d+\/dashboard/);
    // the code-search step compresses its own output: it saves more than the replay of the steps before it
    const savedAt = (n: number) => Number(new RegExp(`\\[ ${n}/4\\] .* saved +([\\d,]+) tokens`).exec(r.stdout)![1]!.replace(/,/g, ''));
    expect(r.stdout).toContain('code search (ripgrep)');
    expect(savedAt(3)).toBeGreaterThan(savedAt(2));
    const bad = await run(['demo', '--requests', '0']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--requests must be an integer from 1 to 200');
  });
});
