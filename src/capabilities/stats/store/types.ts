/**
 * The durable stats store: append-only per-request savings events plus lifetime, display
 * session, per-project and hourly/daily rollups. SQLite is the built-in backend; the interface
 * is asynchronous so that a networked backend (Postgres) can implement it later.
 *
 * Writes are buffered: `record()` never blocks and never throws; the backend writes batches
 * within `flushMs`. Readers call `flush()` first when they need what was just recorded.
 */

import type { StoredAttribution } from './attribution-table.js';

/** One recorded request (or /v1/compress call, or hook call). */
export interface SavingsEvent {
  /** Epoch milliseconds (request end). */
  ts: number;
  kind: string;
  provider: string;
  model: string;
  project: string | null;
  /** Prompt tokens sent upstream (after compression). */
  inputTokens: number;
  outputTokens: number;
  tokensSaved: number;
  /** Tokens first seen this turn (new-input denominator); 0 when unknown. */
  newInputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** Net dollars compression saved on this request (`savings/savings.ts`; can be negative). */
  savingsUsd: number;
  /** Prompt-side spend (uncached + cache reads + cache writes). */
  inputCostUsd: number;
  outputCostUsd: number;
  /** Hashed session id (`attribution/ids.ts`), never the raw id; null or absent when none. */
  session?: string | null;
  /** Hashed user id, never the raw id; null or absent when none. */
  user?: string | null;
}

/** Additive totals (lifetime, session, project, bucket). */
export interface Totals {
  requests: number;
  tokensSaved: number;
  savingsUsd: number;
  inputTokens: number;
  inputCostUsd: number;
  outputTokens: number;
  outputCostUsd: number;
}

export interface SessionTotals extends Totals {
  /** Epoch ms, or null when no session is active. */
  startedAt: number | null;
  lastActivityAt: number | null;
}

export interface ProjectTotals extends Totals {
  lastActivityAt: number | null;
}

/** A cumulative checkpoint: lifetime totals right after a request that saved tokens. */
export interface HistoryPoint {
  ts: number;
  provider: string;
  model: string;
  cumTokensSaved: number;
  cumSavingsUsd: number;
  cumInputTokens: number;
  cumInputCostUsd: number;
}

export type Granularity = 'hour' | 'day';

/** One (UTC hour or day, provider, model) rollup row, built from events as they are written. */
export interface RollupRow extends Totals {
  /** Epoch ms of the hour or day start (UTC). */
  start: number;
  provider: string;
  model: string;
  /** Lifetime cumulative values after the last event of this row. */
  cumTokensSaved: number;
  cumSavingsUsd: number;
  cumInputTokens: number;
  cumInputCostUsd: number;
}

export interface StoreHealth {
  backend: string;
  path: string | null;
  ok: boolean;
  /** Events waiting to be written. */
  pending: number;
  lastFlushAt: number | null;
  lastError: string | null;
  /** Events dropped because the backlog exceeded its cap while the store was failing. */
  dropped: number;
  /** Set when an unusable store file was moved aside at startup. */
  movedAside: string | null;
  /** Set when a Headroom proxy_savings.json was imported into this store. */
  importedFrom: string | null;
}

export interface StoreLimits {
  /** Inactivity after which the display session rolls over. */
  sessionRolloverMs: number;
  /** Events and rollup rows older than this are pruned. */
  retentionMs: number;
  /** History points kept (newest first). */
  maxHistoryPoints: number;
  /** Projects kept; the smallest (tokens saved, last activity) is evicted beyond it. */
  maxProjects: number;
}

export const DEFAULT_LIMITS: StoreLimits = {
  sessionRolloverMs: 60 * 60_000,
  retentionMs: 365 * 86_400_000,
  maxHistoryPoints: 5000,
  maxProjects: 50,
};

export interface StatsStore {
  readonly backend: string;
  /** Where the data lives (file path, or null for memory). */
  readonly location: string | null;
  readonly limits: StoreLimits;
  /** Buffers one event; written within the flush window. Never throws. */
  record(event: SavingsEvent): void;
  /** Writes everything buffered. Resolves even when the write failed (see health()). */
  flush(): Promise<void>;
  lifetime(): Promise<Totals>;
  /** The display session as of `now` (empty when it rolled over). */
  session(now?: number): Promise<SessionTotals>;
  projects(): Promise<Record<string, ProjectTotals>>;
  /** The newest `limit` history points, oldest first, and how many are stored. */
  history(limit: number): Promise<{ points: HistoryPoint[]; stored: number }>;
  /** Rollup rows of one granularity starting at or after `since` (epoch ms), oldest first. */
  rollups(granularity: Granularity, since?: number): Promise<RollupRow[]>;
  /** Per session and per user totals (hashed ids) of the UTC days starting at or after `since` (`attribution-table.ts`). */
  attribution(since?: number): Promise<StoredAttribution[]>;
  /** Changes whenever any process committed to the store; lets readers cache derived views. */
  version(): string;
  health(): StoreHealth;
  close(): Promise<void>;
}

export const zeroTotals = (): Totals => ({
  requests: 0,
  tokensSaved: 0,
  savingsUsd: 0,
  inputTokens: 0,
  inputCostUsd: 0,
  outputTokens: 0,
  outputCostUsd: 0,
});

export const emptySession = (): SessionTotals => ({ ...zeroTotals(), startedAt: null, lastActivityAt: null });
