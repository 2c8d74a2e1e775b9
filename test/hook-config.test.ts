/** Hook settings: validation, partial merges, atomic persistence, restart, live effect. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../src/compress/options.js';
import { engineSettings, HOOK_DEFAULTS, mergeSettings, SettingsError } from '../src/capabilities/hook/settings.js';
import { SettingsStore } from '../src/capabilities/hook/settings-store.js';
import { fileListingEnvelope } from '../src/mock/file-listing.js';
import { silentLogger } from '../src/core/logger.js';
import { postHook, startHookServer, type HookHarness } from './helpers/hook.js';

const json = async (r: Response | Promise<Response>): Promise<any> => (await r).json();

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'headroom-hookcfg-'));
  dirs.push(d);
  return d;
};
const harnesses: HookHarness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const put = (url: string, body: unknown, method = 'PUT') =>
  fetch(`${url}/config`, { method, body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });

describe('settings validation', () => {
  const cases: [Record<string, unknown>, string, string][] = [
    [{ protect_recent: -1 }, 'protect_recent', 'protect_recent must be >= 0'],
    [{ protect_recent: 1.5 }, 'protect_recent', 'protect_recent must be >= 0'],
    [{ min_tokens_to_compress: -5 }, 'min_tokens_to_compress', 'min_tokens_to_compress must be >= 0'],
    [{ target_ratio: 0 }, 'target_ratio', 'target_ratio must be in (0, 1] or null'],
    [{ target_ratio: 5 }, 'target_ratio', 'target_ratio must be in (0, 1] or null'],
    [{ target_ratio: 'x' }, 'target_ratio', 'target_ratio must be in (0, 1] or null'],
    [{ kompress_model: '' }, 'kompress_model', 'kompress_model must be a non-empty string or null'],
    [{ kompress_model: 3 }, 'kompress_model', 'kompress_model must be a non-empty string or null'],
    [{ savings_profile: 'turbo' }, 'savings_profile', 'savings_profile must be one of agent-90, balanced, coding, general, or null'],
    [{ compress_user_messages: 'yes' }, 'compress_user_messages', 'compress_user_messages must be a boolean'],
  ];
  for (const [update, field, message] of cases) {
    it(`${JSON.stringify(update)} -> ${field}`, () => {
      let err: unknown;
      try {
        mergeSettings(HOOK_DEFAULTS, update);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SettingsError);
      expect((err as SettingsError).field).toBe(field);
      expect((err as SettingsError).message).toBe(message);
    });
  }

  it('partial merge: absent keys unchanged, null clears, unknown keys ignored, input not mutated', () => {
    const cur = mergeSettings(HOOK_DEFAULTS, { target_ratio: 0.3, kompress_model: 'm' });
    const next = mergeSettings(cur, { protect_recent: 2, target_ratio: null, whatever: 1 });
    expect(next).toEqual({ ...HOOK_DEFAULTS, protect_recent: 2, kompress_model: 'm' });
    expect(cur.target_ratio).toBe(0.3);
    expect(() => mergeSettings(cur, { target_ratio: 5 })).toThrow(SettingsError);
    expect(cur.target_ratio).toBe(0.3);
  });

  it('maps onto engine settings: hook defaults, profile for what was left alone, explicit values win', () => {
    const d = engineSettings(HOOK_DEFAULTS);
    expect(d).toMatchObject({ compressSystemMessages: true, compressUserMessages: false, protectRecent: 4, targetRatio: null, minTokensToCompress: 250 });
    expect(d.excludeTools).toEqual(DEFAULT_SETTINGS.excludeTools);
    const p = engineSettings({ ...HOOK_DEFAULTS, savings_profile: 'agent-90' });
    expect(p).toMatchObject({ targetRatio: 0.1, protectRecent: 2, compressUserMessages: true, savingsProfile: 'agent-90' });
    const both = engineSettings({ ...HOOK_DEFAULTS, savings_profile: 'agent-90', target_ratio: 0.5 });
    expect(both.targetRatio).toBe(0.5);
  });
});

describe('settings store', () => {
  it('persists atomically as pretty JSON into a nested directory and reloads it', async () => {
    const path = join(tmp(), 'a', 'b', 'hook.json');
    const s = new SettingsStore(path, silentLogger());
    expect(s.settings).toEqual(HOOK_DEFAULTS);
    await s.update({ protect_recent: 7, savings_profile: 'balanced' });
    const text = readFileSync(path, 'utf8');
    expect(text).toBe(`${JSON.stringify({ ...HOOK_DEFAULTS, protect_recent: 7, savings_profile: 'balanced' }, null, 2)}\n`);
    expect(readdirSync(join(path, '..'))).toEqual(['hook.json']);
    const again = new SettingsStore(path, silentLogger());
    expect(again.settings.protect_recent).toBe(7);
  });

  it('a rejected update leaves memory and disk untouched', async () => {
    const path = join(tmp(), 'hook.json');
    const s = new SettingsStore(path, silentLogger());
    await s.update({ target_ratio: 0.3 });
    const disk = readFileSync(path, 'utf8');
    await expect(s.update({ target_ratio: 5 })).rejects.toThrow('target_ratio');
    expect(s.settings.target_ratio).toBe(0.3);
    expect(readFileSync(path, 'utf8')).toBe(disk);
  });

  it('concurrent updates are serialised and each is kept', async () => {
    const path = join(tmp(), 'hook.json');
    const s = new SettingsStore(path, silentLogger());
    await Promise.all([s.update({ protect_recent: 1 }), s.update({ min_tokens_to_compress: 99 }), s.update({ compress_user_messages: true })]);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ protect_recent: 1, min_tokens_to_compress: 99, compress_user_messages: true });
  });

  it('missing, corrupt or invalid files mean defaults (never fatal); corrupt ones are moved aside, not overwritten later', () => {
    const d = tmp();
    expect(new SettingsStore(join(d, 'none.json'), silentLogger()).settings).toEqual(HOOK_DEFAULTS);
    writeFileSync(join(d, 'bad.json'), '{not json');
    const bad = new SettingsStore(join(d, 'bad.json'), silentLogger());
    expect(bad.settings).toEqual(HOOK_DEFAULTS);
    expect(bad.movedAside).toMatch(/bad\.json\.corrupt-/);
    expect(readFileSync(bad.movedAside!, 'utf8')).toBe('{not json');
    writeFileSync(join(d, 'invalid.json'), JSON.stringify({ protect_recent: -3 }));
    expect(new SettingsStore(join(d, 'invalid.json'), silentLogger()).settings).toEqual(HOOK_DEFAULTS);
    expect(readdirSync(d).filter((f) => f.includes('.corrupt-')).sort()).toEqual([expect.stringMatching(/^bad\.json\.corrupt-/), expect.stringMatching(/^invalid\.json\.corrupt-/)]);
  });

  it('a file that cannot be read is kept (not a corruption): defaults meanwhile, the reason reported', () => {
    const d = tmp();
    // a directory where the file should be: EISDIR on read, for root too
    mkdirSync(join(d, 'dir.json'));
    const s = new SettingsStore(join(d, 'dir.json'), silentLogger());
    expect(s.settings).toEqual(HOOK_DEFAULTS);
    expect(s.loadError).toMatch(/EISDIR/);
    expect(s.movedAside).toBeNull();
    expect(existsSync(join(d, 'dir.json'))).toBe(true);
    s.close();
  });

  it('a write failure rejects the update and changes nothing', async () => {
    const d = tmp();
    writeFileSync(join(d, 'file'), 'x');
    const s = new SettingsStore(join(d, 'file', 'hook.json'), silentLogger());
    await expect(s.update({ protect_recent: 2 })).rejects.toThrow(/^the settings were not changed: they could not be saved to /);
    expect(s.settings.protect_recent).toBe(4);
  });
});

describe('GET/PUT /config over HTTP', () => {
  it('GET shows the eight settings and the engine version; PUT/POST merge; errors are 400 naming the field', async () => {
    const h = await startHookServer({ hookPoolSize: 1 });
    harnesses.push(h);
    const g = await json(fetch(`${h.url}/config`));
    expect(g).toEqual({ ...HOOK_DEFAULTS, headroom_version: expect.any(String) });
    const p = await put(h.url, { protect_recent: 2, target_ratio: 0.5 });
    expect(p.status).toBe(200);
    expect(await json(p)).toEqual({ ...HOOK_DEFAULTS, protect_recent: 2, target_ratio: 0.5 });
    const post = await put(h.url, { target_ratio: null }, 'POST');
    expect((await json(post)).target_ratio).toBeNull();
    const bad = await put(h.url, { min_tokens_to_compress: -1 });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await bad.text()).toBe('min_tokens_to_compress must be >= 0\n');
    expect(bad.headers.get('x-headroom-invalid-field')).toBe('min_tokens_to_compress');
    const syntax = await put(h.url, '{"protect_recent": ');
    expect(syntax.status).toBe(400);
    expect(await syntax.text()).toMatch(/^invalid JSON/);
    const notObj = await put(h.url, '[1]');
    expect(notObj.status).toBe(400);
    expect((await fetch(`${h.url}/config`, { method: 'DELETE' })).status).toBe(405);
    expect((await json(fetch(`${h.url}/config`))).protect_recent).toBe(2);
  });

  it('a config file that cannot be written is a 500 with the reason, and the live settings stay as they were', async () => {
    const d = tmp();
    writeFileSync(join(d, 'a-file'), 'x');
    const h = await startHookServer({ hookPoolSize: 1, hookConfigFile: join(d, 'a-file', 'hook.json') });
    harnesses.push(h);
    const r = await put(h.url, { protect_recent: 2 });
    expect(r.status).toBe(500);
    expect(r.headers.get('x-headroom-invalid-field')).toBeNull();
    expect(await r.text()).toMatch(/^the settings were not changed: they could not be saved to .*a-file\/hook\.json: E(NOTDIR|EXIST)/);
    expect((await json(fetch(`${h.url}/config`))).protect_recent).toBe(HOOK_DEFAULTS.protect_recent);
  });

  it('survives a restart (the file is read at start) and takes effect on the next request', async () => {
    const workspace = tmp();
    const h1 = await startHookServer({ hookPoolSize: 1 }, { workspace });
    harnesses.push(h1);
    const env = fileListingEnvelope(400);
    expect((await postHook(h1.url, env)).json?.action).toBe('modify');
    // a token floor above the listing's size: nothing is compressed from the next request on
    expect((await put(h1.url, { min_tokens_to_compress: 1_000_000 })).status).toBe(200);
    expect((await postHook(h1.url, env)).json).toEqual({ action: 'allow' });
    expect(existsSync(join(workspace, 'hook.config.json'))).toBe(true);
    await h1.close();
    harnesses.splice(harnesses.indexOf(h1), 1);
    const h2 = await startHookServer({ hookPoolSize: 1 }, { workspace });
    harnesses.push(h2);
    expect((await json(fetch(`${h2.url}/config`))).min_tokens_to_compress).toBe(1_000_000);
    expect((await postHook(h2.url, env)).json).toEqual({ action: 'allow' });
    expect((await put(h2.url, { min_tokens_to_compress: 250 })).status).toBe(200);
    expect((await postHook(h2.url, env)).json?.action).toBe('modify');
  });

  it('--hook-config-file chooses the file', async () => {
    const path = join(tmp(), 'custom', 'settings.json');
    const h = await startHookServer({ hookPoolSize: 1, hookConfigFile: path });
    harnesses.push(h);
    await put(h.url, { compress_user_messages: true });
    expect(JSON.parse(readFileSync(path, 'utf8')).compress_user_messages).toBe(true);
  });
});
