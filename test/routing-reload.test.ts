/**
 * Reloading the routing file: `POST /admin/reload` (admin only) and `SIGHUP` on the proxy as
 * users run it (the built CLI in its own process). A bad file keeps the registry in use and
 * says why; an invalid file at start-up stops the CLI with the field named.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockUpstream } from '../src/mock/upstream.js';
import { CLI, startChildProxy } from './helpers/child-proxy.js';
import { FAKE_OPENAI_KEY, type Harness, startHarness } from './helpers/harness.js';
import { send } from './helpers/http.js';

let a: MockUpstream;
let b: MockUpstream;
let dir: string;

const routing = (target: string) =>
  ['providers:', `  pa: { format: openai, base_url: "${a.url}/v1" }`, `  pb: { format: openai, base_url: "${b.url}/v1" }`, 'model_aliases:', `  fast: ${target}`, ''].join('\n');

const chat = (url: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${FAKE_OPENAI_KEY}` },
    body: JSON.stringify({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] }),
  });

beforeAll(async () => {
  a = new MockUpstream();
  b = new MockUpstream();
  await Promise.all([a.start(), b.start()]);
  dir = mkdtempSync(join(tmpdir(), 'headroom-reload-'));
});
afterAll(() => Promise.all([a.close(), b.close()]));

describe('POST /admin/reload', () => {
  let h: Harness;
  let file: string;
  beforeAll(async () => {
    file = join(dir, 'admin.yaml');
    writeFileSync(file, routing('pa:model-a'));
    h = await startHarness({ config: { routingConfig: file } });
  });
  afterAll(() => h.close());

  it('re-reads the file; a non-admin caller is refused; a bad file keeps the old registry', async () => {
    expect((await chat(h.url)).status).toBe(200);
    expect(a.last!.json!.model).toBe('model-a');

    writeFileSync(file, routing('pb:model-b'));
    // not an admin: a Host that does not name loopback (as a rebinding page would send)
    const refused = await send(`${h.url}/admin/reload`, { method: 'POST', headers: { host: 'attacker.example:8787' } });
    expect(refused.status).toBe(404);
    expect((await chat(h.url)).status).toBe(200);
    expect(b.requests).toHaveLength(0);

    const ok = await send(`${h.url}/admin/reload`, { method: 'POST' });
    expect(ok.status).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'reloaded', ok: true, providers: expect.arrayContaining(['pa', 'pb']) });
    expect((await chat(h.url)).status).toBe(200);
    expect(b.last!.json!.model).toBe('model-b');

    writeFileSync(file, routing('pb:model-b').replace('format: openai', 'format: cobol'));
    const bad = await send(`${h.url}/admin/reload`, { method: 'POST' });
    expect(bad.status).toBe(400);
    expect(bad.json()).toMatchObject({ status: 'error', ok: false, error: expect.stringContaining('providers.pa.format') });
    expect(h.logs.join('')).toContain('routing configuration not reloaded');
    b.reset();
    expect((await chat(h.url)).status).toBe(200);
    expect(b.last!.json!.model).toBe('model-b');
  });
});

describe('SIGHUP and start-up on the CLI', () => {
  it('SIGHUP re-reads the --config file', async () => {
    const file = join(dir, 'hup.yaml');
    writeFileSync(file, routing('pa:hup-a'));
    const p = await startChildProxy(['--config', file, '--openai-api-url', a.url, '--anthropic-api-url', a.url]);
    try {
      expect((await chat(p.url)).status).toBe(200);
      expect(a.last!.json!.model).toBe('hup-a');
      writeFileSync(file, routing('pb:hup-b'));
      p.child.kill('SIGHUP');
      const deadline = Date.now() + 10_000;
      while (!p.output().includes('routing configuration reloaded') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(p.output()).toContain('routing configuration reloaded');
      expect((await chat(p.url)).status).toBe(200);
      expect(b.last!.json!.model).toBe('hup-b');
      expect(p.child.exitCode).toBeNull();
    } finally {
      await p.close();
    }
  });

  it('an invalid routing file stops start-up with the field named', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'model_aliases:\n  fast: nowhere:model\n');
    const r = spawnSync(process.execPath, [CLI, 'proxy', '--port', '0', '--config', file], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, HEADROOM_WORKSPACE_DIR: dir } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('model_aliases.fast');
  });
});
