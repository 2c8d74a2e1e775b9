/**
 * Durable stores on a disk that fills up (or a workspace that loses its permissions) and
 * comes back, through the real proxy: a full disk is not corruption. The files are kept,
 * the proxy serves from what they held, `/health` says degraded and why, and once the disk is
 * free everything recorded meanwhile reaches the files. Corrupt files, by contrast, are moved
 * aside and reported.
 */
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findMarkers } from '../src/compress/markers.js';
import { generateOutput } from '../src/mock/agent-outputs.js';
import { FAKE_ANTHROPIC_KEY, type Harness, startHarness } from './helpers/harness.js';
import { anthropicHeaders, send } from './helpers/http.js';
import { type BlockableDir, blockableDir, requireBlockable } from './helpers/unwritable.js';

type Json = Record<string, any>;

let h: Harness | null = null;
let ws: BlockableDir | null = null;
afterEach(async () => {
  ws?.unblock();
  await h?.close();
  h = null;
  ws?.cleanup();
  ws = null;
});

const message = (text: string) =>
  JSON.stringify({ model: 'claude-haiku-5-5', max_tokens: 16, messages: [{ role: 'user', content: text }] });

async function ask(hh: Harness, text: string): Promise<void> {
  const r = await send(`${hh.url}/v1/messages`, { body: message(text), headers: anthropicHeaders(FAKE_ANTHROPIC_KEY) });
  expect(r.status).toBe(200);
}

const health = async (hh: Harness) => (await send(`${hh.url}/health`)).json<Json>();
const stats = async (hh: Harness) => (await send(`${hh.url}/stats`)).json<Json>();
const lifetime = async (hh: Harness) => (await send(`${hh.url}/stats-history`)).json<Json>().lifetime as Json;
const corruptFiles = (dir: string) => readdirSync(dir).filter((f) => f.includes('.corrupt-'));

describe('a full disk or a permission error is not corruption', () => {
  it('keeps the stats and budget files, serves what they held, reports degraded, and writes the backlog once the disk is free', async () => {
    ws = requireBlockable(blockableDir());
    if (!ws) return;
    const config = { workspaceDir: ws.dir, budget: 100 };

    // a first run records three requests and their spend
    h = await startHarness({ config });
    for (let i = 0; i < 3; i++) await ask(h, `first run ${i}`);
    const spentBefore = (await stats(h)).budget.spent_usd as number;
    expect(spentBefore).toBeGreaterThan(0);
    expect((await lifetime(h)).requests).toBe(3);
    await h.close();
    h = null;

    // the disk fills up (or the workspace loses its permissions) while the proxy is down
    ws.block();
    h = await startHarness({ config });
    // what the files held is still what the proxy reports (not a fresh store, not $0 spent)
    expect((await lifetime(h)).requests).toBe(3);
    expect((await stats(h)).budget.spent_usd).toBeCloseTo(spentBefore, 9);
    const degraded = await health(h);
    expect(degraded.status).toBe('degraded');
    expect(degraded.checks.store).toMatchObject({ ready: true, status: 'degraded', degraded: true, moved_aside: null });
    expect(degraded.checks.store.error).toMatch(/could not be opened.*the file is kept and opening it is retried/);
    expect(degraded.checks.budget).toMatchObject({ ready: true, status: 'degraded', degraded: true, moved_aside: null });
    expect(degraded.degraded_checks).toEqual(expect.arrayContaining(['store', 'budget']));

    // requests keep working meanwhile
    await ask(h, 'while the disk is full');
    expect((await lifetime(h)).requests).toBe(4);

    // the disk is freed: the files open in the background and take what was recorded meanwhile
    ws.unblock();
    await expect.poll(async () => (await health(h!)).status, { timeout: 20_000, interval: 200 }).toBe('healthy');
    expect((await lifetime(h)).requests).toBe(4);
    const spentAfter = (await stats(h)).budget.spent_usd as number;
    expect(spentAfter).toBeGreaterThan(spentBefore);
    await h.close();
    h = null;

    // and it is all on disk: a clean start reads it back
    h = await startHarness({ config });
    expect((await health(h)).checks.store.status).toBe('healthy');
    expect((await lifetime(h)).requests).toBe(4);
    expect((await stats(h)).budget.spent_usd).toBeCloseTo(spentAfter, 9);
    expect(corruptFiles(ws.dir)).toEqual([]);
  }, 60_000);
});

function toolBody(seed: number): string {
  return JSON.stringify({
    model: 'claude-haiku-5-5',
    max_tokens: 16,
    messages: [
      { role: 'user', content: 'Find the failing items in the search index.' },
      { role: 'assistant', content: [{ type: 'text', text: 'Searching.' }, { type: 'tool_use', id: 'toolu_1', name: 'search', input: { q: 'failing' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: generateOutput('search_json', 12_000, seed).text }] },
    ],
  });
}

describe('the disk fills up while the proxy runs', () => {
  it('a compressed request whose original cannot be written is forwarded unchanged; the write is retried and compression resumes once the disk is free', async () => {
    const d = requireBlockable(blockableDir());
    if (!d) return;
    ws = d;
    if (d.kind !== 'full disk') {
      // an open file keeps working without permissions: only a full disk fails writes mid-run
      if (process.env.CI) throw new Error('CI=1: this test needs root (a tmpfs to fill)');
      process.stderr.write('skipping: not root, cannot fill a disk\n');
      return;
    }
    h = await startHarness({ config: { workspaceDir: d.dir } });
    const headers = { ...anthropicHeaders(FAKE_ANTHROPIC_KEY), 'x-mock-tools': 'off' };
    d.block();
    const sent = toolBody(7);
    expect((await send(`${h.url}/v1/messages`, { body: sent, headers })).status).toBe(200);
    // no marker reached the upstream: the body went exactly as the client sent it
    expect(h.mock.last!.body.toString('utf8')).toBe(sent);
    expect(findMarkers(h.mock.last!.body.toString('utf8'))).toEqual([]);
    const [o] = await h.waitForOutcomes(1);
    expect(o!.compression).toMatchObject({ tokensSaved: 0 });
    expect(o!.compression.error).toMatch(/could not be stored durably, forwarded unchanged/);
    expect(o!.modified).toBe(false);
    const during = await health(h);
    expect(during.checks.ccr).toMatchObject({ status: 'degraded', degraded: true });
    expect(during.checks.ccr.pending_writes).toBeGreaterThan(0);

    d.unblock();
    // the pending writes are retried in the background
    await expect.poll(async () => (await health(h!)).checks.ccr.pending_writes, { timeout: 20_000, interval: 200 }).toBe(0);
    expect((await health(h)).checks.ccr.status).toBe('healthy');
    await h.reset();
    expect((await send(`${h.url}/v1/messages`, { body: toolBody(8), headers })).status).toBe(200);
    const markers = findMarkers(h.mock.last!.body.toString('utf8'));
    expect(markers.length).toBeGreaterThan(0);
    expect((await send(`${h.url}/v1/retrieve/${markers[0]!.hash}`)).status).toBe(200);
  }, 60_000);
});

describe('corrupt files are moved aside and reported', () => {
  it('ccr_store.db and replay.db that are not databases are moved aside, fresh ones start, and /health names them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'headroom-corrupt-'));
    for (const name of ['ccr_store.db', 'replay.db']) writeFileSync(join(dir, name), 'not a database, just some text '.repeat(40));
    h = await startHarness({ config: { workspaceDir: dir } });
    const body = await health(h);
    const moved = corruptFiles(dir).filter((f) => !f.endsWith('-wal') && !f.endsWith('-shm')).sort();
    expect(moved).toHaveLength(2);
    expect(moved[0]).toMatch(/^ccr_store\.db\.corrupt-/);
    expect(moved[1]).toMatch(/^replay\.db\.corrupt-/);
    expect(body.checks.ccr.moved_aside).toBe(join(dir, moved[0]!));
    expect(body.checks.compression.replay.moved_aside).toBe(join(dir, moved[1]!));
    expect(body.checks.ccr).toMatchObject({ status: 'healthy', persistent: true, error: null });
    expect(existsSync(join(dir, 'ccr_store.db'))).toBe(true);
    expect(h.logs.join('')).toContain('CCR store is unusable; moved aside');
    expect(h.logs.join('')).toContain('replay map is unusable; moved aside');
  });
});
