/**
 * What the budget stage needs of a ledger, whichever store keeps it: the SQLite ledger
 * (`ledger.ts`: leases per process, synchronous) or the shared Postgres ledger
 * (`pg-ledger.ts`: leases granted by one atomic statement; a request that fits in one is
 * decided synchronously, otherwise after that statement).
 */
import type { PeriodWindow } from '../period.js';
import type { LedgerHealth, Reservation, ReserveResult, ScopeRef, ScopeState } from './ledger.js';

export type { LedgerHealth, Reservation, ReserveResult, ScopeRef, ScopeState } from './ledger.js';

/** The store could not decide and `--budget-on-store-failure closed` says refuse. */
export interface StoreRefusal {
  ok: false;
  unavailable: string;
}

export interface BudgetBook {
  /** Reserves `amount` in every scope, or in none (a Promise only when the store must be asked). */
  reserve(refs: ScopeRef[], window: PeriodWindow, amount: number): ReserveResult | StoreRefusal | Promise<ReserveResult | StoreRefusal>;
  /** Releases a reservation and records what the request actually cost (written off the request path). */
  settle(r: Reservation, actualUsd: number): void;
  /** Records spend of a request that held no reservation. */
  charge(refs: ScopeRef[], window: PeriodWindow, actualUsd: number): void;
  /** The figures known now of a scope (no I/O). */
  state(ref: ScopeRef, window: PeriodWindow): ScopeState;
  /** The figures for reports (the SQLite ledger reads them now; Postgres: last read, refreshed in the background). */
  read(ref: ScopeRef, window: PeriodWindow): ScopeState;
  top(prefix: string, window: PeriodWindow, limit: number): { scope: string; spent: number; requests: number }[];
  flush(): void;
  health(): LedgerHealth;
  close(): void | Promise<void>;
}
