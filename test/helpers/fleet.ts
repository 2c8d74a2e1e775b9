/**
 * A fleet for the tests: several built proxies (`dist/cli/main.js proxy`, child processes,
 * each on a free port with a workspace of its own) sharing one Redis (and, later, one
 * Postgres), each with an instance id, all in front of the same upstream.
 */
import { type ChildProxy, startChildProxy } from './child-proxy.js';

export interface Fleet {
  proxies: ChildProxy[];
  close(): Promise<void>;
}

export interface FleetOptions {
  size: number;
  upstreamUrl: string | ((i: number) => string);
  redisUrl?: string;
  redisPrefix?: string;
  databaseUrl?: string;
  args?: string[];
  env?: Record<string, string>;
}

export const INSTANCE_NAMES = ['a', 'b', 'c', 'd', 'e'];

export async function startFleet(o: FleetOptions): Promise<Fleet> {
  const proxies = await Promise.all(
    Array.from({ length: o.size }, (_, i) => {
      const args = [
        '--anthropic-api-url', typeof o.upstreamUrl === 'string' ? o.upstreamUrl : o.upstreamUrl(i),
        '--openai-api-url', typeof o.upstreamUrl === 'string' ? o.upstreamUrl : o.upstreamUrl(i),
        '--instance-id', INSTANCE_NAMES[i]!,
        ...(o.redisUrl ? ['--redis-url', o.redisUrl] : []),
        ...(o.redisPrefix ? ['--redis-prefix', o.redisPrefix] : []),
        ...(o.databaseUrl ? ['--database-url', o.databaseUrl] : []),
        ...(o.args ?? []),
      ];
      return startChildProxy(args, { HEADROOM_SKIP_UPSTREAM_CHECK: '1', ...o.env }, 60_000);
    }),
  );
  // a request that arrives before an instance has connected to Redis goes on without it (fail open)
  if (o.redisUrl) {
    await Promise.all(proxies.map((p) => eventually(async () => {
      const h = (await (await fetch(`${p.url}/health`)).json()) as { checks: { redis?: { connected?: boolean } } };
      return h.checks.redis?.connected === true;
    }, `${p.url} connected to Redis`)));
  }
  return {
    proxies,
    async close() {
      await Promise.all(proxies.map((p) => p.close()));
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a value (bounded: a safety net, not a timing assertion). */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, what: string, maxMs = 15_000): Promise<T> {
  const end = Date.now() + maxMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(50);
  }
}
