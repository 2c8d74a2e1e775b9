/** Starts a standalone hook server on a free port with a temp workspace; collects outcomes and -v lines. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RawValue } from '../../src/config/field.js';
import { type ConfigKey, configWith } from '../../src/config/index.js';
import type { HookService } from '../../src/capabilities/hook/api.js';
import { createHookApp, type HookAppOptions } from '../../src/compose/hook.js';
import type { App } from '../../src/core/app.js';
import { createLogger } from '../../src/core/logger.js';
import type { RequestOutcome } from '../../src/core/outcome.js';

export const FAKE_WORKER = new URL('../fixtures/hook-fake-worker.mjs', import.meta.url);

export interface HookHarness {
  server: App;
  service: HookService;
  url: string;
  workspace: string;
  outcomes: RequestOutcome[];
  lines: string[];
  logs: string[];
  waitForOutcomes(n: number): Promise<RequestOutcome[]>;
  close(): Promise<void>;
}

export async function startHookServer(config: Partial<Record<ConfigKey, RawValue>> = {}, opts: HookAppOptions & { workspace?: string } = {}): Promise<HookHarness> {
  const workspace = opts.workspace ?? mkdtempSync(join(tmpdir(), 'headroom-hook-'));
  const cfg = configWith({ hookPort: 0, workspaceDir: workspace, hookPoolSize: 2, hookVerbose: true, ...config });
  const logs: string[] = [];
  const log = createLogger({ level: 'debug', destination: { write: (s: string) => void logs.push(s) } });
  const lines: string[] = [];
  const server = await createHookApp(cfg, log, { verboseOut: (l) => void lines.push(l), ...opts });
  const service = server.service('hook')!;
  const outcomes: RequestOutcome[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  server.addSink({
    name: 'test-recorder',
    outcome: (o) => {
      outcomes.push(o);
      for (let i = waiters.length - 1; i >= 0; i--) if (outcomes.length >= waiters[i]!.n) waiters.splice(i, 1)[0]!.resolve();
    },
  });
  const { url } = await server.listen(cfg.hookPort);
  await service.pool.whenReady(30_000);
  return {
    server, service, url, workspace, outcomes, lines, logs,
    waitForOutcomes(n) {
      if (outcomes.length >= n) return Promise.resolve(outcomes);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${n} outcomes (have ${outcomes.length})`)), 15_000);
        waiters.push({ n, resolve: () => { clearTimeout(t); resolve(outcomes); } });
      });
    },
    async close() {
      await server.close(10_000);
      if (!opts.workspace) rmSync(workspace, { recursive: true, force: true });
    },
  };
}

/** POSTs an envelope (object, string or bytes) to the hook. */
export async function postHook(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string; json: Record<string, unknown> | null }> {
  const payload = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
  const r = await fetch(`${url}/`, { method: 'POST', body: payload as string, headers: { 'content-type': 'application/json', ...headers } });
  const text = await r.text();
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = null;
  }
  return { status: r.status, headers: r.headers, text, json };
}
