/**
 * The budget stage: before a metered request goes upstream it reserves the most it can cost
 * (estimated input x input price + max output x output price) in every scope that applies
 * (global, the caller's API-key hash, the project); when its outcome arrives the reservation
 * is replaced by the actual cost, priced by the same accounting as `/stats`. A request that
 * does not fit gets 429 `budget_exceeded` in the provider's shape, with `Retry-After` (the
 * period's end) and `x-should-retry: false`. Every response of a metered route carries the
 * remaining budget; crossing 80 % and 100 % of a limit is logged once per period.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { Config } from '../../../config/index.js';
import type { Exchange, ProxyStage, StageReply } from '../../proxy/api.js';
import type { Accounting } from '../../stats/api.js';
import type { Logger } from '../../../core/logger.js';
import type { RequestOutcome } from '../../../core/outcome.js';
import { reservationFor } from '../estimate.js';
import { PeriodClock, type PeriodWindow, resolveTimezone } from '../period.js';
import { estimateOf, isMetered } from '../request.js';
import type { BudgetDb } from './store.js';
import { BudgetLedger, type Reservation, type ReserveResult, type ScopeRef, type ScopeState } from './ledger.js';
import type { BudgetBook, StoreRefusal } from './book.js';
import { round6 } from '../../../util/round.js';

type BudgetConfig = Pick<Config, 'budget' | 'budgetPeriod' | 'budgetTimezone' | 'budgetPerKey' | 'budgetPerProject' | 'budgetDefaultMaxTokens'>;

export type ScopeKind = 'global' | 'key' | 'project' | 'virtual_key';

export const kindOf = (scope: string): ScopeKind =>
  scope.startsWith('key:') ? 'key' : scope.startsWith('project:') ? 'project' : scope.startsWith('vkey:') ? 'virtual_key' : 'global';

const usd = (n: number) => `$${n.toFixed(n !== 0 && Math.abs(n) < 0.01 ? 6 : 4)}`;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function budgetConfigured(c: BudgetConfig & Partial<Pick<Config, 'keys'>>): boolean {
  return c.budget !== null || c.budgetPerKey !== null || c.budgetPerProject !== null || (c.keys ?? []).some((k) => k.budget_usd !== undefined);
}

function describeScope(scope: string): string {
  const kind = kindOf(scope);
  if (kind === 'key') return `the budget of this API key (${scope.slice(4, 12)}…)`;
  if (kind === 'project') return `the budget of project "${scope.slice(8)}"`;
  if (kind === 'virtual_key') return `the budget of virtual key "${scope.slice(5)}"`;
  return 'the global budget';
}

/** Where the ledger lives, for `/stats.budget.store` and health. */
export type BudgetStoreInfo = Pick<BudgetDb, 'path' | 'openError' | 'movedAside'> & { backend: 'sqlite' | 'memory' | 'postgres' };

export interface BudgetControlOptions {
  config: BudgetConfig;
  /** The SQLite ledger's file (used when no `book` is given). */
  store: BudgetDb | null;
  /** A ledger kept elsewhere (the shared Postgres ledger). */
  book?: BudgetBook;
  log: Logger;
  /** The figures of an outcome (the stats service's `accountingOf`): spend is its provider-billed cost. */
  accounting: (o: RequestOutcome) => Accounting;
  now?: () => number;
  flushMs?: number;
  /** The budget of a virtual key, by name (`budget_usd` of its `keys:` entry; null: none). */
  keyBudget?: (name: string) => number | null;
}

export class BudgetControl implements ProxyStage {
  readonly name = 'budget';
  readonly order = 130;
  readonly ledger: BudgetBook;
  readonly clock: PeriodClock;
  readonly timezone: string;
  /** Refusals since start, by the scope that refused. */
  readonly rejected: Record<ScopeKind, number> = { global: 0, key: 0, project: 0, virtual_key: 0 };
  /** Requests refused because the shared store did not answer (`--budget-on-store-failure closed`). */
  storeRefusals = 0;
  private readonly reservations = new Map<string, Reservation>();
  /** Highest alert level logged per scope and period (`80` or `100`). */
  private readonly alerts = new Map<string, number>();
  private readonly config: BudgetConfig;
  private readonly log: Logger;
  private readonly now: () => number;
  private resetsAt = { end: 0, text: '' };

  constructor(readonly opts: BudgetControlOptions) {
    this.config = opts.config;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
    this.timezone = resolveTimezone(opts.config.budgetTimezone);
    this.clock = new PeriodClock(opts.config.budgetPeriod, this.timezone);
    if (opts.book) this.ledger = opts.book;
    else {
      const store = opts.store as BudgetDb;
      const ledger = new BudgetLedger({ db: store.db, log: opts.log, now: this.now, detached: store.waitingForFile, ...(opts.flushMs ? { flushMs: opts.flushMs } : {}) });
      this.ledger = ledger;
      store.onAttach = (db) => ledger.attach(db);
    }
  }

  /** The scopes a caller's request counts against. */
  scopesFor(apiKeyHash: string | null, project: string | null, virtualKey: string | null = null): ScopeRef[] {
    const c = this.config;
    const refs: ScopeRef[] = [{ scope: 'global', limit: c.budget }];
    if (c.budgetPerKey !== null && apiKeyHash) refs.push({ scope: `key:${apiKeyHash}`, limit: c.budgetPerKey });
    if (c.budgetPerProject !== null && project) refs.push({ scope: `project:${project}`, limit: c.budgetPerProject });
    const keyLimit = virtualKey ? (this.opts.keyBudget?.(virtualKey) ?? null) : null;
    if (keyLimit !== null) refs.push({ scope: `vkey:${virtualKey}`, limit: keyLimit });
    return refs;
  }

  /** The spend of a virtual key's budget this period (null: the key has no budget). */
  keySpent(name: string): number | null {
    const limit = this.opts.keyBudget?.(name) ?? null;
    return limit === null ? null : round6(this.ledger.read({ scope: `vkey:${name}`, limit }, this.window()).spent);
  }

  window(): PeriodWindow {
    return this.clock.at(this.now());
  }

  beforeUpstream(ex: Exchange): StageReply | undefined | Promise<StageReply | undefined> {
    const window = this.window();
    const refs = this.scopesFor(ex.info.apiKeyHash, ex.info.project, ex.rec.ext.virtualKey ?? null);
    if (isMetered(ex)) {
      const est = estimateOf(ex, this.config.budgetDefaultMaxTokens);
      const amount = reservationFor(ex.route.provider, ex.facts?.model ?? null, est);
      const r = this.ledger.reserve(refs, window, amount);
      // the SQLite ledger decides synchronously, and so does the shared one when a lease it holds fits; otherwise it answers after its one statement
      if (r instanceof Promise) return r.then((x) => this.reserved(ex, x, amount, refs, window));
      return this.reserved(ex, r, amount, refs, window);
    }
    this.setHeaders(ex, refs, window);
    return;
  }

  private reserved(ex: Exchange, r: ReserveResult | StoreRefusal, amount: number, refs: ScopeRef[], window: PeriodWindow): StageReply | undefined {
    if (!r.ok) return 'unavailable' in r ? this.unavailable(ex, r.unavailable) : this.refuse(ex, r.state, amount, refs, window);
    this.reservations.set(ex.id, r.reservation);
    this.setHeaders(ex, refs, window);
    return;
  }

  private setHeaders(ex: Exchange, refs: ScopeRef[], window: PeriodWindow): void {
    const headers = this.headersFor(refs, window);
    for (const name in headers) ex.res.setHeader(name, headers[name] as string);
  }

  /** `--budget-on-store-failure closed` and the shared store does not answer: 503, retry later. */
  private unavailable(ex: Exchange, reason: string): StageReply {
    this.storeRefusals++;
    const message = `The budget cannot be checked now (${reason}); the proxy refuses metered requests until its store answers again (--budget-on-store-failure closed).`;
    // refused by the budget (not by the upstream): the budget's error type, with 503 and a short Retry-After
    return { status: 503, headers: { 'retry-after': '1' }, body: ex.route.errors.errorBody(503, 'budget_exceeded', message), errorType: 'budget_exceeded', errorMessage: message };
  }

  /** Remaining-budget headers for the tightest limited scope (none when no limit applies). */
  headersFor(refs: ScopeRef[], window: PeriodWindow): OutgoingHttpHeaders {
    let tight: ScopeState | null = null;
    for (const ref of refs) {
      if (ref.limit === null) continue;
      const s = this.ledger.state(ref, window);
      if (tight === null || (s.remaining as number) < (tight.remaining as number)) tight = s;
    }
    if (!tight) return {};
    const h: OutgoingHttpHeaders = {
      'x-headroom-budget-limit-usd': String(tight.limit),
      'x-headroom-budget-remaining-usd': (tight.remaining as number).toFixed(6),
      'x-headroom-budget-period': this.config.budgetPeriod,
      'x-headroom-budget-resets-at': this.resetsText(window),
    };
    if (tight.scope !== 'global') h['x-headroom-budget-scope'] = kindOf(tight.scope);
    return h;
  }

  private resetsText(window: PeriodWindow): string {
    if (this.resetsAt.end !== window.end) this.resetsAt = { end: window.end, text: iso(window.end) };
    return this.resetsAt.text;
  }

  /** Headers for a reply another stage produced (rate limit, cache hit). */
  statusHeaders(ex: Exchange): OutgoingHttpHeaders {
    return this.headersFor(this.scopesFor(ex.info.apiKeyHash, ex.info.project, ex.rec.ext.virtualKey ?? null), this.window());
  }

  private refuse(ex: Exchange, s: ScopeState, amount: number, refs: ScopeRef[], window: PeriodWindow): StageReply {
    this.rejected[kindOf(s.scope)]++;
    this.alert(s, 100);
    const limit = s.limit as number;
    const period = this.config.budgetPeriod;
    const scope = describeScope(s.scope);
    const message = amount > limit
      ? `This request may cost up to ${usd(amount)}, more than ${scope} of ${usd(limit)} per ${period} period (spent ${usd(s.spent)} so far; resets at ${iso(window.end)}); lower max_tokens or raise the budget.`
      : `Budget exceeded for the ${period} period (${scope}): spent ${usd(s.spent)} of ${usd(limit)}, ${usd(s.inflight + s.others)} reserved by requests in flight; this request may cost up to ${usd(amount)}. Resets at ${iso(window.end)}.`;
    const headers: OutgoingHttpHeaders = {
      ...this.headersFor(refs, window),
      'retry-after': String(Math.max(1, Math.ceil((window.end - this.now()) / 1000))),
      // waiting for the period to end is not a retry an SDK should make on its own
      'x-should-retry': 'false',
    };
    return { status: 429, headers, body: ex.route.errors.errorBody(429, 'budget_exceeded', message), errorType: 'budget_exceeded', errorMessage: message };
  }

  /** Replaces the request's reservation with its actual cost (from the outcome funnel). */
  settle(o: RequestOutcome): void {
    const a = this.opts.accounting(o);
    const actual = a.cost ? a.cost.totalUsd : 0;
    const r = this.reservations.get(o.requestId);
    if (r) {
      this.reservations.delete(o.requestId);
      this.ledger.settle(r, actual);
      for (const s of r.states) this.checkAlert(s);
      return;
    }
    // spend that held no reservation (a stage failed open, an unmetered route that reported usage)
    if (actual > 0 && o.kind === 'proxy' && a.counted) {
      const window = this.window();
      const refs = this.scopesFor(o.apiKeyHash, o.project, o.ext.virtualKey ?? null);
      this.ledger.charge(refs, window, actual);
      for (const ref of refs) this.checkAlert(this.ledger.state(ref, window));
    }
  }

  private checkAlert(s: ScopeState): void {
    if (s.limit === null) return;
    const used = s.limit > 0 ? s.spent / s.limit : s.spent > 0 ? 1 : 0;
    if (used >= 1) this.alert(s, 100);
    else if (used >= 0.8) this.alert(s, 80);
  }

  private alert(s: ScopeState, level: 80 | 100): void {
    const key = `${s.scope}\u0000${s.window.start}`;
    if ((this.alerts.get(key) ?? 0) >= level) return;
    if (this.alerts.size > 10_000) this.alerts.clear();
    this.alerts.set(key, level);
    const limit = s.limit as number;
    const fields = {
      event: 'budget_alert', scope: kindOf(s.scope), scope_id: s.scope, period: this.config.budgetPeriod, threshold_percent: level,
      limit_usd: limit, spent_usd: round6(s.spent), reserved_usd: round6(s.inflight + s.others),
      percent_used: limit > 0 ? Math.round((s.spent / limit) * 1000) / 10 : 100, resets_at: iso(s.window.end),
    };
    if (level === 100) this.log.warn(fields, `budget exhausted (${describeScope(s.scope)}): requests are refused until ${iso(s.window.end)}`);
    else this.log.warn(fields, `budget 80% used (${describeScope(s.scope)})`);
  }

  private scopeList(prefix: 'key:' | 'project:', limit: number | null, window: PeriodWindow): unknown {
    if (limit === null) return null;
    const name = prefix === 'key:' ? 'key_hash' : 'project';
    return {
      limit_usd: limit,
      top: this.ledger.top(prefix, window, 20).map((r) => ({
        [name]: r.scope.slice(prefix.length),
        spent_usd: round6(r.spent),
        remaining_usd: round6(Math.max(0, limit - r.spent)),
        requests: r.requests,
      })),
    };
  }

  /** The `/stats.budget` block. */
  statsBlock(store: BudgetStoreInfo): Record<string, unknown> {
    const window = this.window();
    this.ledger.flush();
    const g = this.ledger.read({ scope: 'global', limit: this.config.budget }, window);
    const limit = this.config.budget;
    const rejected = this.rejected;
    const h = this.ledger.health();
    return {
      limit_usd: limit,
      spent_usd: round6(g.spent),
      remaining_usd: g.remaining === null ? null : round6(g.remaining),
      period: this.config.budgetPeriod,
      resets_at: iso(window.end),
      period_start: iso(window.start),
      timezone: this.timezone,
      percent_used: limit === null ? null : limit > 0 ? Math.round((g.spent / limit) * 10_000) / 100 : 100,
      reserved_usd: round6(g.inflight),
      reserved_by_other_processes_usd: round6(g.others),
      default_max_tokens: this.config.budgetDefaultMaxTokens,
      rejected_requests: { total: rejected.global + rejected.key + rejected.project + rejected.virtual_key, ...rejected },
      per_key: this.scopeList('key:', this.config.budgetPerKey, window),
      per_project: this.scopeList('project:', this.config.budgetPerProject, window),
      store: { backend: store.backend, path: store.path, ok: h.ok && store.openError === null, error: h.lastError ?? store.openError },
    };
  }

  close(): void | Promise<void> {
    return this.ledger.close();
  }
}
