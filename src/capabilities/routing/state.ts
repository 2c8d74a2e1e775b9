/**
 * The registry in use, built from the routing file (`--routing-config`, default the `--config`
 * file), the `<P>_API_KEY` / `<P>_BASE_URL` / `<P>_API_FORMAT` environment and the two default
 * upstreams; its key pools and the circuit breakers. A reload swaps all of it at once, or
 * nothing (a bad file keeps the old registry); breakers survive reloads (a dead provider stays
 * known dead).
 */
import type { Config } from '../../config/index.js';
import { BreakerSet, KeyPool, type Registry, buildRegistry } from '../../routing/index.js';
import { readRoutingFile } from '../../routing/file.js';
import type { ReloadResult } from './api.js';

export interface Snapshot {
  readonly registry: Registry;
  readonly pools: ReadonlyMap<string, KeyPool>;
  /** Nothing to route: no routing sections and no server-side keys (every request passes as before). */
  readonly inert: boolean;
  /** The routing file as parsed (null: no file); other capabilities read their provider entries from it. */
  readonly file: Readonly<Record<string, unknown>> | null;
}

export class RoutingState {
  current: Snapshot;
  readonly breakers: BreakerSet;
  readonly file: string | null;

  constructor(
    private readonly config: Config,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.file = config.routingConfig;
    this.breakers = new BreakerSet({ failureThreshold: config.routingBreakerFailures, cooldownMs: config.routingBreakerCooldownSeconds * 1000 });
    this.current = this.build();
  }

  /** Builds a snapshot from the file as it is now; throws RoutingConfigError naming the field. */
  private build(): Snapshot {
    const file = this.file ? readRoutingFile(this.file) : null;
    const registry = buildRegistry({
      file,
      env: this.env,
      defaults: { anthropicUrl: this.config.anthropicApiUrl, openaiUrl: this.config.openaiApiUrl },
    });
    const pools = new Map<string, KeyPool>();
    for (const p of registry.providers.values()) if (p.apiKeys.length) pools.set(p.name, new KeyPool(p.apiKeys));
    const inert =
      pools.size === 0 && registry.aliases.size === 0 && registry.patterns.length === 0 && registry.fallbacks.size === 0 && !registry.strictPrefixes;
    return { registry, pools, inert, file };
  }

  reload(): ReloadResult {
    try {
      this.current = this.build();
      return this.describe(true);
    } catch (err) {
      return { ...this.describe(false), error: (err as Error).message };
    }
  }

  describe(ok: boolean): ReloadResult {
    const r = this.current.registry;
    return { ok, file: this.file, providers: [...r.providers.keys()], aliases: r.aliases.size, patterns: r.patterns.length, fallbacks: r.fallbacks.size };
  }
}
