/** Starts a mock upstream and a headroom-ts app pointed at it; collects outcomes and log lines. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RawValue } from '../../src/config/field.js';
import { type ConfigKey, configWith } from '../../src/config/index.js';
import { MockUpstream, type MockUpstreamOptions } from '../../src/mock/upstream.js';
import { createProxyApp } from '../../src/compose/proxy.js';
import type { App } from '../../src/core/app.js';
import type { Plugin } from '../../src/core/plugin.js';
import { createLogger } from '../../src/core/logger.js';
import type { RequestOutcome, RequestProgress, RequestStart } from '../../src/core/outcome.js';

export interface Harness {
  mock: MockUpstream;
  app: App;
  url: string;
  workspace: string;
  outcomes: RequestOutcome[];
  starts: RequestStart[];
  progress: RequestProgress[];
  logs: string[];
  /** Resolves when at least `n` outcomes were delivered. */
  waitForOutcomes(n: number, timeoutMs?: number): Promise<RequestOutcome[]>;
  /** Resolves when every started request has delivered its outcome; then clears outcomes/starts/progress and the mock. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  config?: Partial<Record<ConfigKey, RawValue>>;
  mock?: MockUpstreamOptions;
  plugins?: Plugin[];
  /** Point upstream URLs somewhere else (e.g. a closed port). */
  upstreamUrl?: string;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const mock = new MockUpstream(opts.mock);
  await mock.start();
  const workspace = mkdtempSync(join(tmpdir(), 'headroom-test-'));
  const upstream = opts.upstreamUrl ?? mock.url;
  const config = configWith({
    port: 0,
    anthropicApiUrl: upstream,
    openaiApiUrl: upstream,
    workspaceDir: workspace,
    logLevel: 'debug',
    retryBaseDelayMs: 5,
    ...opts.config,
  });
  const logs: string[] = [];
  // the production logger (request-id mixin, redaction), writing into `logs`
  const logger = createLogger({ level: config.logLevel, destination: { write: (s: string) => void logs.push(s) } });
  const app = await createProxyApp(config, { logger, ...(opts.plugins ? { plugins: opts.plugins } : {}) });
  const outcomes: RequestOutcome[] = [];
  const starts: RequestStart[] = [];
  const progress: RequestProgress[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  let inFlight = 0;
  const idleWaiters: (() => void)[] = [];
  app.addSink({
    name: 'test-recorder',
    start: (s) => {
      inFlight++;
      starts.push(s);
    },
    progress: (p) => void progress.push(p),
    outcome: (o) => {
      inFlight--;
      if (inFlight === 0) for (const fn of idleWaiters.splice(0)) fn();
      outcomes.push(o);
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (outcomes.length >= waiters[i]!.n) waiters.splice(i, 1)[0]!.resolve();
      }
    },
  });
  const { url } = await app.listen();
  // background start-up work (tokenizer vocabularies) is done before a test starts
  await Promise.all(app.warming);
  return {
    mock,
    app,
    url,
    workspace,
    outcomes,
    starts,
    progress,
    logs,
    waitForOutcomes(n, timeoutMs = 5_000) {
      if (outcomes.length >= n) return Promise.resolve(outcomes);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${n} outcomes (have ${outcomes.length})`)), timeoutMs);
        waiters.push({ n, resolve: () => { clearTimeout(timer); resolve(outcomes); } });
      });
    },
    async reset() {
      if (inFlight > 0) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`${inFlight} request(s) never produced an outcome`)), 10_000);
          idleWaiters.push(() => { clearTimeout(timer); resolve(); });
        });
      }
      outcomes.length = 0;
      starts.length = 0;
      progress.length = 0;
      logs.length = 0;
      mock.reset();
    },
    async close() {
      await app.close();
      await mock.close();
      rmSync(workspace, { recursive: true, force: true });
    },
  };
}

export const FAKE_ANTHROPIC_KEY = 'sk-ant-api03-FAKEFAKEFAKEtestkey0000000000000000';
export const FAKE_OPENAI_KEY = 'sk-proj-FAKEFAKEFAKEtestkey0000000000000000';
