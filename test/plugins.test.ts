/**
 * The plugin contract: declared needs order the installation (list order does not matter),
 * a missing need, a cycle, a service provided twice or a name used twice stop the app from
 * starting with an error naming the plugins, a setup must return what it declares, and every
 * shuffle of the built-in plugins serves the same routes, `/metrics` families, `/stats` keys,
 * health checks, stages and sinks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createHookApp } from '../src/compose/hook.js';
import { defaultPlugins } from '../src/compose/proxy.js';
import { configWith } from '../src/config/index.js';
import { createApp } from '../src/core/app.js';
import { createLogger } from '../src/core/logger.js';
import { definePlugin, installOrder, type Plugin, PluginError } from '../src/core/plugin.js';
import type { StatsService } from '../src/capabilities/stats/api.js';

const silent = createLogger({ level: 'silent' });
const config = configWith({ port: 0, skipUpstreamCheck: true, stateless: true, logRequests: false });

// stand-ins: the service names are real, the services are not
const fakeStats = {} as StatsService;
const provider = (name: string) => definePlugin({ name, provides: ['stats'], setup: () => ({ stats: fakeStats }) });
const consumer = (name: string) => definePlugin({ name, needs: ['stats'], setup: () => undefined });
const names = (ps: readonly Plugin[]) => ps.map((p) => p.name);

describe('installOrder', () => {
  it('puts providers before the plugins that need or optionally use them, whatever the list order', () => {
    const metrics = definePlugin({ name: 'a-metrics', needs: ['stats'], provides: ['metrics'], setup: () => ({ metrics: { registry: null as never, readFamily: () => undefined } }) });
    const controls = definePlugin({ name: 'a-controls', needs: ['stats'], optional: ['metrics'], setup: () => undefined });
    const stats = provider('z-stats');
    for (const list of [[controls, metrics, stats], [stats, metrics, controls], [metrics, controls, stats]]) {
      expect(names(installOrder(list))).toEqual(['z-stats', 'a-metrics', 'a-controls']);
    }
  });

  it('orders plugins with no dependency between them by name', () => {
    const a = definePlugin({ name: 'a', setup: () => undefined });
    const b = definePlugin({ name: 'b', setup: () => undefined });
    expect(names(installOrder([b, a]))).toEqual(['a', 'b']);
  });

  it('an optional service nobody provides is no dependency', () => {
    const p = definePlugin({ name: 'p', optional: ['metrics'], setup: () => undefined });
    expect(names(installOrder([p]))).toEqual(['p']);
  });

  it('refuses a missing need, naming the plugin and the service', () => {
    expect(() => installOrder([consumer('metrics')])).toThrow(new PluginError('plugin "metrics" needs "stats", which no installed plugin provides'));
  });

  it('refuses a service provided twice and a name used twice', () => {
    expect(() => installOrder([provider('one'), provider('two')])).toThrow('service "stats" is provided by two plugins: "one" and "two"');
    expect(() => installOrder([consumer('x'), consumer('x')])).toThrow('two plugins are named "x"');
  });

  it('refuses a cycle, naming its plugins and the services of each edge', () => {
    const a = definePlugin({ name: 'a', needs: ['metrics'], provides: ['stats'], setup: () => ({ stats: fakeStats }) });
    const b = definePlugin({ name: 'b', needs: ['stats'], provides: ['metrics'], setup: () => ({ metrics: { registry: null as never, readFamily: () => undefined } }) });
    const c = definePlugin({ name: 'c', needs: ['stats'], setup: () => undefined });
    expect(() => installOrder([c, b, a])).toThrow('plugin dependency cycle: "a" -> (needs metrics) "b" -> (needs stats) "a"');
  });
});

describe('App.install', () => {
  it('a missing need stops createApp before any plugin runs', async () => {
    let ran = false;
    const early = definePlugin({ name: 'early', setup: () => void (ran = true) });
    await expect(createApp(config, { logger: silent, plugins: [early, consumer('needs-stats')] })).rejects.toThrow('plugin "needs-stats" needs "stats"');
    expect(ran).toBe(false);
  });

  it('hands a plugin the services it declared, and only those', async () => {
    let seen: unknown;
    const user = definePlugin({ name: 'user', needs: ['stats'], setup: (ctx) => void (seen = ctx.need('stats')) });
    const app = await createApp(config, { logger: silent, plugins: [user, provider('stats')] });
    expect(seen).toBe(fakeStats);
    expect(app.service('stats')).toBe(fakeStats);
    expect(app.service('metrics')).toBeUndefined();
    const sneaky = definePlugin({ name: 'sneaky', setup: (ctx) => void (ctx as unknown as { need(n: string): unknown }).need('stats') });
    await expect(createApp(config, { logger: silent, plugins: [provider('stats'), sneaky] })).rejects.toThrow('plugin "sneaky" asked for "stats" without declaring it in needs');
  });

  it('a setup that does not return a service it declares stops the app', async () => {
    const liar = definePlugin({ name: 'liar', provides: ['stats'], setup: () => ({}) as { stats: StatsService } });
    await expect(createApp(config, { logger: silent, plugins: [liar] })).rejects.toThrow('plugin "liar" declares it provides "stats" but its setup did not return it');
  });
});

/** Mulberry32: a small seeded generator, so the shuffles are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], rnd: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Every key path of a JSON value (arrays by their first item), sorted. */
function keyPaths(v: unknown, at = ''): string[] {
  if (Array.isArray(v)) return v.length > 0 ? keyPaths(v[0], `${at}[]`) : [`${at}[]`];
  if (v === null || typeof v !== 'object') return [at];
  return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => keyPaths(x, at ? `${at}.${k}` : k)).sort();
}

interface Shape {
  order: string[];
  routes: string[];
  families: string[];
  statsKeys: string[];
  healthChecks: string[];
  stages: string[];
  sinks: string[];
}

describe('the built-in plugins in any order', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function shapeOf(plugins: Plugin[]): Promise<Shape> {
    const workspace = mkdtempSync(join(tmpdir(), 'headroom-plugins-'));
    dirs.push(workspace);
    // every capability on: budgets, rate limits and the response cache (their metric families
    // were dropped when controls came before metrics), the hook, live metrics
    const c = configWith({
      port: 0, workspaceDir: workspace, skipUpstreamCheck: true, logRequests: false, logLevel: 'silent',
      budget: 5, rpm: 100, cache: true, hook: true, hookPoolSize: 1, logFile: join(workspace, 'requests.jsonl'),
    });
    const app = await createApp(c, { logger: silent, plugins });
    try {
      const { url } = await app.listen();
      const metrics = await (await fetch(`${url}/metrics`)).text();
      const stats = (await (await fetch(`${url}/stats`)).json()) as Record<string, unknown>;
      const health = (await (await fetch(`${url}/health`)).json()) as { checks: Record<string, unknown> };
      // values differ between runs (uptime, ports, paths); the shape may not
      return {
        order: names(app.plugins),
        routes: app.router.list(),
        families: [...metrics.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!).sort(),
        statsKeys: keyPaths(stats),
        healthChecks: Object.keys(health.checks),
        stages: app.service('proxy')!.stages.map((s) => s.name),
        sinks: app.funnel.sinkNames,
      };
    } finally {
      await app.close(0);
    }
  }

  it('every shuffle (fixed seed) starts and serves the same routes, /metrics families, /stats keys, checks, stages and sinks', async () => {
    const base = defaultPlugins();
    const reference = await shapeOf(base);
    // the families list order used to drop or the start it used to break
    expect(reference.families).toEqual(expect.arrayContaining(['headroom_budget_spent_usd', 'headroom_rate_limit_rejected_requests_total', 'headroom_response_cache_hits_total', 'tsheadroom_pool_slots_total', 'headroom_requests_total']));
    expect(reference.stages).toEqual(['attribution', 'unpriced', 'rate_limit', 'response_cache', 'budget', 'ccr', 'compression']);
    expect(reference.routes).toEqual(expect.arrayContaining(['GET /stats', 'GET /metrics', 'POST /hooks/aperture', 'POST /v1/compress', 'POST /v1/messages', 'POST /cache/clear']));
    const rnd = seeded(17);
    const lists = [[...base].reverse(), ...Array.from({ length: 6 }, () => shuffled(base, rnd))];
    for (const list of lists) {
      expect(await shapeOf(list), names(list).join(',')).toEqual(reference);
    }
  }, 120_000);
});

describe('services between capabilities', () => {
  it('compression keeps originals in the CCR store when the ccr capability is installed, in its own bounded map otherwise', async () => {
    const originalsOf = async (plugins: Plugin[]) => {
      const app = await createApp(config, { logger: silent, plugins });
      try {
        const { url } = await app.listen();
        const health = (await (await fetch(`${url}/health`)).json()) as { checks: { compression: { originals: { backend: string } } } };
        return { backend: health.checks.compression.originals.backend, sameAsStore: app.service('compression')!.originals === app.service('originals') };
      } finally {
        await app.close(0);
      }
    };
    expect(await originalsOf(defaultPlugins())).toEqual({ backend: 'external', sameAsStore: true });
    expect(await originalsOf(defaultPlugins().filter((p) => p.name !== 'ccr'))).toEqual({ backend: 'memory', sameAsStore: false });
  });

  it('the standalone hook server is the App with the hook, its metrics and its health capabilities', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'headroom-hook-app-'));
    const app = await createHookApp(configWith({ hookPort: 0, workspaceDir: workspace, hookPoolSize: 1 }), silent);
    try {
      expect(names(app.plugins)).toEqual(['hook', 'hook-health', 'hook-metrics']);
      expect(app.router.list()).toEqual(['* /*', '* /config', '* /metrics', 'GET /health', 'GET /livez', 'GET /readyz']);
      expect(app.service('hook')).not.toBeNull();
    } finally {
      await app.close(0);
      rmSync(workspace, { recursive: true, force: true });
    }
  });
});
