/**
 * One batch of savings events folded into what a stats store writes for it: the lifetime and
 * session totals, the hour and day rollup drafts, the project totals and the attribution
 * drafts. The SQLite and the Postgres store both fold a batch this way, then write the result
 * with their own statements.
 */
import { type AttributionDrafts, draftAttribution } from './attribution-table.js';
import { emptySession, type SavingsEvent, type SessionTotals, type Totals, zeroTotals } from './types.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export const addInto = (t: Totals, e: SavingsEvent, requests = 1): void => {
  t.requests += requests;
  t.tokensSaved += e.tokensSaved;
  t.savingsUsd += e.savingsUsd;
  t.inputTokens += e.inputTokens;
  t.inputCostUsd += e.inputCostUsd;
  t.outputTokens += e.outputTokens;
  t.outputCostUsd += e.outputCostUsd;
};

/** The lifetime running figures stored beside each event and rollup row. */
export interface Cumulative {
  cumTokensSaved: number;
  cumSavingsUsd: number;
  cumInputTokens: number;
  cumInputCostUsd: number;
}

export type RollupDraft = Totals & Cumulative & { start: number; provider: string; model: string };

/** Adds an event to the draft row of its (start, provider, model) key. */
export function draftInto(drafts: Map<string, RollupDraft>, start: number, e: SavingsEvent, requests: number, cum: Cumulative): void {
  const key = `${start}\u0000${e.provider}\u0000${e.model}`;
  let d = drafts.get(key);
  if (!d) {
    d = { ...zeroTotals(), start, provider: e.provider, model: e.model, ...cum };
    drafts.set(key, d);
  }
  addInto(d, e, requests);
  d.cumTokensSaved = Math.max(d.cumTokensSaved, cum.cumTokensSaved);
  d.cumSavingsUsd = Math.max(d.cumSavingsUsd, cum.cumSavingsUsd);
  d.cumInputTokens = Math.max(d.cumInputTokens, cum.cumInputTokens);
  d.cumInputCostUsd = Math.max(d.cumInputCostUsd, cum.cumInputCostUsd);
}

export class BatchFold {
  // rollup and project rows are summed per key in memory, then written once per key
  readonly hours = new Map<string, RollupDraft>();
  readonly days = new Map<string, RollupDraft>();
  readonly projects = new Map<string, Totals & { lastActivityAt: number }>();
  readonly attribution: AttributionDrafts = new Map();
  /** The project of the newest event that had one (kept when the project cap evicts). */
  current: string | null = null;

  constructor(
    readonly life: Totals,
    public session: SessionTotals,
    private readonly sessionRolloverMs: number,
  ) {}

  /** Folds one event (events in time order); returns the lifetime running figures after it. */
  add(e: SavingsEvent): Cumulative {
    draftAttribution(this.attribution, e);
    const life = this.life;
    addInto(life, e);
    const cum: Cumulative = { cumTokensSaved: life.tokensSaved, cumSavingsUsd: life.savingsUsd, cumInputTokens: life.inputTokens, cumInputCostUsd: life.inputCostUsd };
    draftInto(this.hours, Math.floor(e.ts / HOUR_MS) * HOUR_MS, e, 1, cum);
    draftInto(this.days, Math.floor(e.ts / DAY_MS) * DAY_MS, e, 1, cum);
    let session = this.session;
    if (session.lastActivityAt === null || e.ts - session.lastActivityAt > this.sessionRolloverMs) {
      session = this.session = { ...emptySession(), startedAt: e.ts, lastActivityAt: e.ts };
    }
    addInto(session, e);
    session.lastActivityAt = Math.max(session.lastActivityAt ?? e.ts, e.ts);
    if (e.project) {
      let p = this.projects.get(e.project);
      if (!p) {
        p = { ...zeroTotals(), lastActivityAt: e.ts };
        this.projects.set(e.project, p);
      }
      addInto(p, e);
      p.lastActivityAt = Math.max(p.lastActivityAt, e.ts);
      this.current = e.project;
    }
    return cum;
  }
}
