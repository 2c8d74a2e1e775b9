/**
 * `HeadroomClient`: in-process compression with local metrics, no proxy needed.
 *
 * ```ts
 * const headroom = new HeadroomClient({ provider: 'anthropic' });
 * const anthropic = headroom.wrap(new Anthropic());     // compresses before every call
 * await anthropic.messages.create({ ... });
 * await headroom.getStats();    // this session
 * await headroom.getMetrics({ startTime: new Date(Date.now() - 3_600_000), limit: 100 });
 * await headroom.getSummary();  // everything stored
 * await headroom.validateSetup();
 * ```
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { CompressOptionsError } from '../compress/options.js';
import { priceFor, costOf } from '../providers/pricing.js';
import { NO_CONTINUITY } from '../savings/continuity.js';
import { savedPlacement } from '../savings/placement.js';
import { savingsOf } from '../savings/savings.js';
import type { ProviderId } from '../providers/types.js';
import type { SavedPlacement } from '../savings/placement.js';
import { MemoryReplayStore } from '../compress/replay.js';
import { MemoryCcrStore } from '../originals/store.js';
import { searchOriginal } from '../originals/search.js';
import { type CompressOptions, type CompressResult, type MessageFormat, runCompress, settingsFrom } from './compress.js';
import { type MetricsQuery, type MetricsSummary, type SdkRequestMetric, SdkMetricsStore } from './metrics-store.js';
import type { CallRecord, HeadroomClientOptions, SdkMode } from './types.js';
import type { SdkApi } from './usage.js';
import { wrapWith } from './wrap.js';
import { round3, round4 } from '../util/round.js';

export type { CallRecord, HeadroomClientOptions, SdkMode } from './types.js';

export interface SessionStats {
  session: {
    requests_total: number;
    tokens_input_before: number;
    tokens_input_after: number;
    tokens_saved_total: number;
    tokens_output_total: number;
    cache_hits: number;
    /** Mean of the per-call compression ratios (after / before). */
    compression_ratio_avg: number;
    cost_saved_usd: number;
    errors: number;
  };
  config: { mode: SdkMode; provider: ProviderId | null; cache_optimizer_enabled: boolean; semantic_cache_enabled: boolean; metrics_path: string };
  transforms: Record<string, boolean>;
}

export interface SetupReport {
  valid: boolean;
  issues: string[];
  checks: { provider_key: boolean; metrics_store: boolean; config: boolean };
}

const FORMAT_OF: Record<SdkApi, MessageFormat> = { messages: 'anthropic', chat: 'openai', responses: 'responses' };

export class HeadroomClient {
  readonly mode: SdkMode;
  readonly provider: ProviderId | null;
  readonly workspaceDir: string;
  readonly metricsPath: string;
  private readonly options: CompressOptions;
  private readonly store: SdkMetricsStore;
  private readonly originals = new MemoryCcrStore({ ttlMs: 3_600_000, maxBytes: 64 * 1024 * 1024, maxEntries: 10_000 });
  /** Compression decisions of earlier turns, replayed to wrapped calls (1 h idle, 64 MiB). */
  private readonly replay = new MemoryReplayStore({ ttlMs: 3_600_000, maxBytes: 64 * 1024 * 1024 });
  private readonly providersUsed = new Set<ProviderId>();
  private readonly session = { requests: 0, before: 0, after: 0, saved: 0, output: 0, cacheHits: 0, ratioSum: 0, savedUsd: 0, errors: 0 };
  private readonly transformCounts: Record<string, number> = {};
  /** Where each wrapped call's saved tokens sit (fresh vs replayed, under which breakpoint), for its dollar figure. */
  private readonly placements = new WeakMap<CompressResult, SavedPlacement>();

  constructor(opts: HeadroomClientOptions = {}) {
    if (opts.mode !== undefined && opts.mode !== 'optimize' && opts.mode !== 'audit') throw new CompressOptionsError('mode must be optimize or audit');
    this.mode = opts.mode ?? 'optimize';
    this.provider = opts.provider ?? null;
    this.options = opts.compress ?? {};
    settingsFrom(this.options); // a bad option fails here, not on the first call
    const ws = opts.workspaceDir ?? process.env.HEADROOM_WORKSPACE_DIR ?? '~/.headroom';
    this.workspaceDir = ws === '~' ? homedir() : ws.startsWith('~/') ? join(homedir(), ws.slice(2)) : resolve(ws);
    this.metricsPath = opts.metricsPath ?? join(this.workspaceDir, 'sdk_metrics.sqlite');
    // metrics never break calls: a file that cannot be opened is kept in memory meanwhile and validateSetup() says why
    this.store = new SdkMetricsStore(this.metricsPath);
  }

  /** Wraps an official `openai` or `@anthropic-ai/sdk` client so every call is compressed and measured. */
  wrap<C extends object>(client: C): C {
    return wrapWith(client, this);
  }

  /** Compresses messages in-process (any supported format) and records the call. */
  compress<M>(messages: readonly M[], options: CompressOptions = {}): CompressResult<M> {
    const startedAt = Date.now();
    const t0 = performance.now();
    const { result } = runCompress(messages, { ...this.options, ...options });
    this.keepOriginals(result);
    const model = typeof options.model === 'string' ? options.model : null;
    const provider: ProviderId = options.format === 'anthropic' || /claude/i.test(model ?? '') ? 'anthropic' : 'openai';
    this.record({ provider, api: 'compress', model, stream: false, startedAt, durationMs: performance.now() - t0, result, usage: null, error: result.error ?? null });
    return result;
  }

  /** The compression a wrapped call applies to its messages (`null`: nothing to compress). */
  compressCall(api: SdkApi, model: string | null, messages: unknown): CompressResult | null {
    if (!Array.isArray(messages) || messages.length === 0) return null;
    // like the proxy: only the newest turn is compressed; resent history gets its earlier bytes
    // back from the replay map (re-compressing it against a new question would bust the cache)
    const { result, engine } = runCompress(messages, { ...this.options, ...(model ? { model } : {}), format: FORMAT_OF[api] }, { scope: 'live', replay: this.replay });
    if (this.mode === 'optimize') {
      this.keepOriginals(result);
      if (engine?.replayWrites.length) this.replay.putMany(engine.replayWrites);
      if (engine) this.placements.set(result, savedPlacement(api, api === 'responses' ? { input: messages } : { messages }, engine.slots));
    }
    return result;
  }

  /** The original behind a marker's hash (kept in memory for an hour), optionally searched. */
  retrieve(hash: string, query?: string): { hash: string; original: string; search?: ReturnType<typeof searchOriginal> } | null {
    const hit = this.originals.get(hash, { touch: true });
    if (hit.status !== 'available') return null;
    return { hash: hit.entry.hash, original: hit.entry.original, ...(query ? { search: searchOriginal(hit.entry.original, query) } : {}) };
  }

  /** Records one call (wrapped clients call this when the response or stream ends). */
  record(call: CallRecord): void {
    this.providersUsed.add(call.provider);
    const r = call.result;
    const u = call.usage;
    const sent = this.mode === 'optimize';
    const saved = r && sent ? r.tokens_saved : 0;
    // the provider's prompt count is the truth for what was sent; the estimate fills in without usage
    const after = u ? u.input : r ? (sent ? r.tokens_after : r.tokens_before) : 0;
    const before = u ? u.input + saved : r ? r.tokens_before : 0;
    const price = priceFor(call.provider, call.model);
    const cost = u ? costOf(u, price).totalUsd : null;
    // the proxy's formula: saved tokens at the rates the uncompressed call would have been billed
    const placement = r ? this.placements.get(r) : undefined;
    const savedUsd = savingsOf({ providerCall: call.api !== 'compress', ok: call.error === null, usage: u, tokensAfter: after, placement }, saved, price, NO_CONTINUITY).netUsd;
    const ratio = before > 0 ? round4((after / before)) : 1;
    const s = this.session;
    s.requests++;
    s.before += before;
    s.after += after;
    s.saved += saved;
    s.output += u?.output ?? 0;
    if (u && u.cacheRead > 0) s.cacheHits++;
    s.ratioSum += ratio;
    s.savedUsd += savedUsd;
    if (call.error) s.errors++;
    for (const t of r?.transforms_applied ?? []) this.transformCounts[t] = (this.transformCounts[t] ?? 0) + 1;
    const metric: SdkRequestMetric = {
      timestamp: new Date(call.startedAt).toISOString(), provider: call.provider, api: call.api, model: call.model, mode: this.mode,
      stream: call.stream, tokens_input_before: before, tokens_input_after: after, tokens_saved: saved, tokens_output: u?.output ?? 0,
      cache_read_tokens: u?.cacheRead ?? 0, cache_write_tokens: u?.cacheWrite ?? 0, compression_ratio: ratio,
      transforms_applied: r?.transforms_applied ?? [], cost_usd: cost, cost_saved_usd: savedUsd,
      duration_ms: round3(call.durationMs), error: call.error,
    };
    this.store.add(metric);
  }

  /** This session's figures (no database query), with the seed's keys. */
  async getStats(): Promise<SessionStats> {
    const s = this.session;
    const transforms: Record<string, boolean> = { smart_crusher_enabled: true, cache_aligner_enabled: true, rolling_window_enabled: false };
    for (const t of Object.keys(this.transformCounts)) transforms[`${t}_applied`] = true;
    return {
      session: {
        requests_total: s.requests,
        tokens_input_before: s.before,
        tokens_input_after: s.after,
        tokens_saved_total: s.saved,
        tokens_output_total: s.output,
        cache_hits: s.cacheHits,
        compression_ratio_avg: s.requests ? round4((s.ratioSum / s.requests)) : 1,
        cost_saved_usd: Math.round(s.savedUsd * 1e8) / 1e8,
        errors: s.errors,
      },
      config: {
        mode: this.mode,
        provider: this.provider ?? (this.providersUsed.size === 1 ? [...this.providersUsed][0]! : null),
        cache_optimizer_enabled: true,
        semantic_cache_enabled: false,
        metrics_path: this.metricsPath,
      },
      transforms,
    };
  }

  /** Stored calls (this and earlier processes sharing the workspace), newest first. */
  async getMetrics(query: MetricsQuery = {}): Promise<SdkRequestMetric[]> {
    return this.store.query(query);
  }

  /** Totals over every stored call. */
  async getSummary(): Promise<MetricsSummary> {
    return this.store.summary();
  }

  /** Checks what calls need: a provider API key, a writable metrics store, valid options. */
  async validateSetup(): Promise<SetupReport> {
    const issues: string[] = [];
    const wanted: ProviderId[] = this.provider ? [this.provider] : this.providersUsed.size ? [...this.providersUsed] : [];
    const keyOf = (p: ProviderId) => (p === 'anthropic' ? process.env.ANTHROPIC_API_KEY : process.env.OPENAI_API_KEY);
    let providerKey: boolean;
    if (wanted.length) {
      providerKey = true;
      for (const p of wanted) {
        if (!keyOf(p)) {
          providerKey = false;
          issues.push(`${p === 'anthropic' ? 'ANTHROPIC_API_KEY' : 'OPENAI_API_KEY'} is not set (needed for ${p} calls unless the client is given a key)`);
        }
      }
    } else {
      providerKey = Boolean(process.env.ANTHROPIC_API_KEY || process.env.OPENAI_API_KEY);
      if (!providerKey) issues.push('neither ANTHROPIC_API_KEY nor OPENAI_API_KEY is set');
    }
    const storeError = this.store.openError ?? this.store.probeWrite();
    if (storeError) issues.push(`metrics store ${this.metricsPath} is not writable: ${storeError}`);
    let config = true;
    try {
      settingsFrom(this.options);
    } catch (err) {
      config = false;
      issues.push(`compression options: ${(err as Error).message}`);
    }
    return { valid: issues.length === 0, issues, checks: { provider_key: providerKey, metrics_store: storeError === null, config } };
  }

  /** Writes pending metrics and closes the store. */
  close(): void {
    this.store.close();
    this.replay.close();
  }

  private keepOriginals(result: CompressResult): void {
    if (result.ccr.length) this.originals.put(result.ccr);
  }
}

export interface WithHeadroomOptions extends HeadroomClientOptions {
  /** The client that compresses and keeps the metrics (default: a new one from these options). */
  headroom?: HeadroomClient;
}

/**
 * `withHeadroom(client)`: an official `openai` or `@anthropic-ai/sdk` client whose calls
 * compress their messages in-process before they are sent and record tokens, savings and
 * usage locally (`wrap.ts`).
 */
export function withHeadroom<C extends object>(client: C, opts: WithHeadroomOptions = {}): C {
  return wrapWith(client, opts.headroom ?? new HeadroomClient(opts));
}
