/**
 * The plugin contract. A capability is a plugin that declares the services it needs, the ones
 * it uses when present, and the ones it provides:
 *
 * ```ts
 * export const metricsPlugin = definePlugin({
 *   name: 'metrics',
 *   needs: ['stats', 'accounting'],
 *   provides: ['metrics'],
 *   setup(ctx) {
 *     const stats = ctx.need('stats');            // typed StatsService, no cast
 *     ...
 *     return { metrics: registry };               // every declared service, typed
 *   },
 * });
 * ```
 *
 * Services are named in `Services`, which each capability augments from its `api.ts`
 * (TypeScript declaration merging), so the core names none of them:
 *
 * ```ts
 * declare module '../../core/plugin.js' { interface Services { stats: StatsService } }
 * ```
 *
 * The App installs plugins in dependency order (`installOrder`), whatever the order of the
 * list: a plugin runs after every plugin providing what it needs or optionally uses; plugins
 * with no order between them run by name. It refuses to start on a missing need, a service
 * provided twice, two plugins with one name, or a cycle, naming the plugins involved.
 */
import type { Config } from '../config/index.js';
import type { App } from './app.js';
import type { Logger } from './logger.js';

/** The services capabilities provide, by name (augmented by each capability's `api.ts`). */
export interface Services {}

export type ServiceName = keyof Services;

/** What a plugin's setup gets: the app, and the services it declared. */
export interface PluginContext<N extends ServiceName = never, O extends ServiceName = never> {
  readonly app: App;
  readonly config: Config;
  readonly log: Logger;
  /** A service named in `needs` (installed before this plugin). */
  need<K extends N>(name: K): Services[K];
  /** A service named in `optional`: undefined when no installed plugin provides it. */
  optional<K extends O>(name: K): Services[K] | undefined;
}

/** The services a setup returns: exactly the declared ones. */
export type Provided<P extends ServiceName> = [P] extends [never] ? void : { [K in P]: Services[K] };

export interface PluginSpec<N extends ServiceName, O extends ServiceName, P extends ServiceName> {
  readonly name: string;
  readonly needs?: readonly N[];
  readonly optional?: readonly O[];
  readonly provides?: readonly P[];
  setup(ctx: PluginContext<N, O>): NoInfer<Provided<P>> | Promise<NoInfer<Provided<P>>>;
}

/** A plugin as the App sees it (built by `definePlugin`). */
export interface Plugin {
  readonly name: string;
  readonly needs: readonly ServiceName[];
  readonly optional: readonly ServiceName[];
  readonly provides: readonly ServiceName[];
  setup(ctx: PluginContext<ServiceName, ServiceName>): unknown;
}

/** Declares a plugin; the declared names type `ctx.need`, `ctx.optional` and the returned services. */
export function definePlugin<const N extends ServiceName = never, const O extends ServiceName = never, const P extends ServiceName = never>(
  spec: PluginSpec<N, O, P>,
): Plugin {
  return {
    name: spec.name,
    needs: spec.needs ?? [],
    optional: spec.optional ?? [],
    provides: spec.provides ?? [],
    setup: (ctx) => spec.setup(ctx as unknown as PluginContext<N, O>),
  };
}

/** A plugin set that cannot be installed (the message names the plugins and services involved). */
export class PluginError extends Error {
  override readonly name = 'PluginError';
}

/**
 * The order to install `plugins` in: every plugin after the providers of what it needs and
 * optionally uses; among plugins free to go, by name (so the result does not depend on the
 * order of the list). Throws a `PluginError` when the set cannot be installed.
 */
export function installOrder(plugins: readonly Plugin[]): Plugin[] {
  const byName = new Map<string, Plugin>();
  const provider = new Map<ServiceName, Plugin>();
  for (const p of plugins) {
    if (byName.has(p.name)) throw new PluginError(`two plugins are named "${p.name}"`);
    byName.set(p.name, p);
    for (const s of p.provides) {
      const other = provider.get(s);
      if (other) throw new PluginError(`service "${s}" is provided by two plugins: "${other.name}" and "${p.name}"`);
      provider.set(s, p);
    }
  }
  const deps = new Map<Plugin, Set<Plugin>>();
  for (const p of plugins) {
    const d = new Set<Plugin>();
    for (const s of p.needs) {
      const by = provider.get(s);
      if (!by) throw new PluginError(`plugin "${p.name}" needs "${s}", which no installed plugin provides`);
      if (by !== p) d.add(by);
    }
    for (const s of p.optional) {
      const by = provider.get(s);
      if (by && by !== p) d.add(by);
    }
    deps.set(p, d);
  }
  const order: Plugin[] = [];
  const done = new Set<Plugin>();
  const left = [...plugins].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  while (left.length > 0) {
    const i = left.findIndex((p) => [...deps.get(p)!].every((d) => done.has(d)));
    if (i === -1) throw new PluginError(`plugin dependency cycle: ${describeCycle(left, deps)}`);
    const [next] = left.splice(i, 1) as [Plugin];
    order.push(next);
    done.add(next);
  }
  return order;
}

/** One cycle among the plugins left, as `a -> b -> a` with the service each edge is for. */
function describeCycle(left: readonly Plugin[], deps: Map<Plugin, Set<Plugin>>): string {
  const start = left[0]!;
  const path: Plugin[] = [start];
  const seen = new Map<Plugin, number>([[start, 0]]);
  let at = start;
  for (;;) {
    const next = [...deps.get(at)!].find((d) => left.includes(d))!;
    const idx = seen.get(next);
    if (idx !== undefined) {
      const cycle = [...path.slice(idx), next];
      return cycle.map((p, k) => (k === 0 ? `"${p.name}"` : `(${edgeService(cycle[k - 1]!, p)}) "${p.name}"`)).join(' -> ');
    }
    seen.set(next, path.length);
    path.push(next);
    at = next;
  }
}

function edgeService(from: Plugin, to: Plugin): string {
  const s = [...from.needs, ...from.optional].find((n) => to.provides.includes(n));
  return `needs ${String(s)}`;
}
