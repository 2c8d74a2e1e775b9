/** Helpers for the controls tests: a harness whose controls plugin uses a test clock. */
import type { RawValue } from '../../src/config/field.js';
import type { ConfigKey } from '../../src/config/index.js';
import { createControlsPlugin } from '../../src/capabilities/controls/plugin.js';
import { defaultPlugins } from '../../src/compose/proxy.js';
import { type Harness, startHarness } from './harness.js';

export interface ControlsHarnessOptions {
  config: Partial<Record<ConfigKey, RawValue>>;
  now?: () => number;
  upstreamUrl?: string;
}

export function startControlsHarness(opts: ControlsHarnessOptions): Promise<Harness> {
  const plugins = defaultPlugins().map((p) => (p.name === 'controls' ? createControlsPlugin({ ...(opts.now ? { now: opts.now } : {}), budgetFlushMs: 20 }) : p));
  return startHarness({ config: opts.config, plugins, ...(opts.upstreamUrl ? { upstreamUrl: opts.upstreamUrl } : {}) });
}

/** Waits (bounded) until `fn` is true; the bound is a safety net, not a timing assertion. */
export async function until(fn: () => boolean, what: string, maxMs = 15_000): Promise<void> {
  const end = Date.now() + maxMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Log lines (parsed) whose `msg` contains `text`. */
export function logged(h: Harness, text: string): Record<string, unknown>[] {
  return h.logs.flatMap((l) => l.split('\n')).filter((l) => l.includes(text)).map((l) => JSON.parse(l) as Record<string, unknown>);
}
