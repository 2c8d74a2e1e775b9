/**
 * Leases of the shared Postgres ledger (`pg-ledger.ts`): dollars held in the database for one
 * instance and one set of limited scopes in one period, from which that instance admits
 * requests without a round trip. The vocabulary is the SQLite ledger's (`ledger.ts`: a lease
 * per process), but here a lease is granted by one atomic statement ({@link LEASE_SQL}) and
 * sized by the room left, so that the fleet-wide invariant `spent + reserved <= limit` of
 * `budget_period` holds with leases exactly as it held with one reservation per request.
 *
 * A lease's dollars sit in `budget_reservations` (one row per scope, `id = <lease>:<scope>`,
 * `amount_usd` = what it still holds, owner = the instance) and in `reserved_usd` of each of
 * its scopes' `budget_period` rows. Spend settled under it moves from the one to `spent_usd`
 * ({@link SETTLE_SQL}); its unused remainder is given back when it is replaced, idle, or of
 * a period that ended.
 */
import type { PeriodWindow } from '../period.js';
import { ScopeState } from './ledger.js';

/** A lease takes at most this share of the room left (min over its scopes of limit - spent - reserved). */
export const LEASE_SHARE = 1 / 16;
/** A lease asks for about this many times what its scope set reserved over the last second. */
const WANT_FACTOR = 2;
/** ... and for at most this many times the request's own amount. */
const WANT_CAP = 500;
const EPS = 1e-9;

/** A scope's figures, plus what this instance's leases hold in it (to tell the others' holds apart). */
export class PgScopeState extends ScopeState {
  /** Dollars the database holds for this instance's leases covering this scope (as this instance last wrote them). */
  held = 0;
}

export interface Lease {
  id: string;
  set: LeaseSet;
  /** Dollars the database holds for it, after every change this instance has queued. */
  held: number;
  /** Reservations of the requests admitted under it and not settled yet. */
  inflight: number;
  grantedAt: number;
  lastUsed: number;
  /** Admits nothing more (replaced, idle, period over, or no longer safe to use). */
  retired: boolean;
  /** Given back entirely; forgotten once that is written. */
  closed: boolean;
  /** Counter of the release items queued for it (their idempotency keys). */
  releases: number;
}

/** What one instance keeps per set of limited scopes (sorted) in one period. */
export interface LeaseSet {
  key: string;
  states: PgScopeState[];
  window: PeriodWindow;
  /** Leases that may admit (normally one). */
  live: Lease[];
  /** The lease statement in flight for this set, if any (requests that do not fit may wait for it). */
  asking: Promise<unknown> | null;
  /** The last grant was held back by the room left (near the limit): requests then ask on their own at once. */
  tight: boolean;
  /** Dollars reserved in this set in the current and the previous second. */
  second: number;
  thisSecond: number;
  lastSecond: number;
  lastUsed: number;
}

export function setKey(scopes: string[], window: PeriodWindow): string {
  return `${scopes.join('\u0000')}\u0001${window.start}`;
}

export function newSet(key: string, states: PgScopeState[], window: PeriodWindow): LeaseSet {
  return { key, states, window, live: [], asking: null, tight: false, second: 0, thisSecond: 0, lastSecond: 0, lastUsed: 0 };
}

/** Dollars a lease may still commit to new requests. */
export const free = (l: Lease): number => (l.retired ? 0 : Math.max(0, l.held - l.inflight));

/**
 * Changes a lease and keeps its scopes' sums (`lease`: unused dollars of live leases; `held`:
 * dollars held) in step.
 */
export function adjust(l: Lease, change: () => void): void {
  const [freeBefore, heldBefore] = [free(l), l.held];
  change();
  const [dFree, dHeld] = [free(l) - freeBefore, l.held - heldBefore];
  if (dFree === 0 && dHeld === 0) return;
  for (const s of l.set.states) {
    s.lease = clamp(s.lease + dFree);
    s.held = clamp(s.held + dHeld);
  }
}

const clamp = (n: number): number => (n < EPS ? 0 : n);

/** Counts `amount` reserved in the set now (for the size of its next lease). */
export function noteDemand(set: LeaseSet, amount: number, now: number): void {
  roll(set, now);
  set.thisSecond += amount;
  set.lastUsed = now;
}

function roll(set: LeaseSet, now: number): void {
  const second = Math.floor(now / 1000);
  if (second === set.second) return;
  set.lastSecond = second === set.second + 1 ? set.thisSecond : 0;
  set.thisSecond = 0;
  set.second = second;
}

/**
 * What a new lease asks for: about {@link WANT_FACTOR} x what the set reserved over the last
 * second, at least the request's amount, at most {@link WANT_CAP} times it. The database grants
 * less near the limit ({@link LEASE_SQL}).
 */
export function wantFor(set: LeaseSet, amount: number, now: number): number {
  roll(set, now);
  const into = (now % 1000) / 1000;
  const recent = set.thisSecond + set.lastSecond * (1 - into);
  return Math.min(Math.max(amount, WANT_FACTOR * recent), WANT_CAP * amount);
}

/**
 * A lease in one statement (autocommit: the row locks last only for it): `cur` locks the set's
 * scope rows in scope order and reads their committed figures; `room` is the least
 * `limit - spent - reserved` over them; the grant is 0 when the request's amount `a` does not
 * fit (or a row is missing), else a whole number of `a`: `a x max(1, floor(min(want, room x
 * LEASE_SHARE) / a))`. So near the limit (room < 2a / LEASE_SHARE) the grant is exactly `a`,
 * one reservation per request as without leases, and never more than the room. `upd` adds the
 * grant to every scope and `held` records it. Returns the figures before the grant and the grant;
 * fewer rows than scopes means a row is missing (the period's first request of that scope).
 * $1 scopes, $2 limits, $3 period start, $4 a, $5 want, $6 lease id, $7 owner, $8 now.
 */
export const LEASE_SQL = `
WITH want AS (SELECT * FROM unnest($1::text[], $2::float8[]) AS w(scope, lim)),
cur AS (SELECT p.scope, p.spent_usd, p.reserved_usd FROM budget_period p
         WHERE p.period_start = $3 AND p.scope = ANY($1::text[]) ORDER BY p.scope FOR UPDATE),
room AS (SELECT count(*) = cardinality($1::text[]) AS complete, min(w.lim - c.spent_usd - c.reserved_usd) AS usd
           FROM cur c JOIN want w USING (scope)),
granted AS (SELECT CASE WHEN r.complete AND r.usd + ${EPS} >= $4::float8
                        THEN $4::float8 * greatest(1, floor(least($5::float8, r.usd * ${LEASE_SHARE}) / $4::float8 + 1e-9))
                        ELSE 0 END AS usd FROM room r),
upd AS (UPDATE budget_period p SET reserved_usd = p.reserved_usd + g.usd FROM granted g
         WHERE g.usd > 0 AND p.period_start = $3 AND p.scope = ANY($1::text[]) RETURNING p.scope, g.usd),
held AS (INSERT INTO budget_reservations (id, owner, scope, period_start, amount_usd, created_at)
         SELECT $6::text || ':' || upd.scope, $7, upd.scope, $3, upd.usd, $8 FROM upd)
SELECT c.scope, c.spent_usd, c.reserved_usd, g.usd AS granted FROM cur c CROSS JOIN granted g`;

/**
 * A batch of settlements and lease changes in one statement. Each (item, scope) is a row: `key`
 * its idempotency key (`fresh` keeps the items not applied yet, so a batch replayed after an
 * outage is applied once), `lid` the lease it was admitted under (null: none), `actual` the
 * spend, `free` dollars to give back beyond the spend, `close` give the lease back entirely,
 * `req` 1 for a request (0 for a lease change). Per lease and scope, `held` locks its row and
 * what it gives up is `close ? all it holds : least(actual + free, what it holds)`: settled spend
 * moves from `reserved_usd` to `spent_usd` (never counted in both), and spend beyond what the
 * lease holds (a request that cost more than its reservation) is added to `spent_usd` only.
 * Rows are locked leases first (this instance's own), then periods in scope order.
 * $1 keys, $2 lease ids, $3 scopes, $4 period starts, $5 buckets, $6 actual, $7 free, $8 close, $9 req, $10 now.
 */
export const SETTLE_SQL = `
WITH items AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::float8[], $7::float8[], $8::bool[], $9::int[])
                 AS i(key, lid, scope, ps, bucket, actual, free, close, req)),
fresh AS (INSERT INTO budget_settled (id, at) SELECT DISTINCT key, $10::bigint FROM items ON CONFLICT DO NOTHING RETURNING id),
applied AS (SELECT i.* FROM items i JOIN fresh f ON f.id = i.key),
used AS (SELECT lid || ':' || scope AS rid, sum(actual + free) AS usd, bool_or(close) AS close FROM applied WHERE lid IS NOT NULL GROUP BY lid, scope),
held AS (SELECT r.id, r.scope, r.period_start, r.amount_usd, u.usd, u.close FROM budget_reservations r JOIN used u ON r.id = u.rid ORDER BY r.id FOR UPDATE OF r),
closed AS (DELETE FROM budget_reservations r USING held h WHERE h.close AND r.id = h.id RETURNING 1),
kept AS (UPDATE budget_reservations r SET amount_usd = h.amount_usd - least(h.usd, h.amount_usd) FROM held h WHERE NOT h.close AND r.id = h.id RETURNING 1),
released AS (SELECT scope, period_start, sum(CASE WHEN close THEN amount_usd ELSE least(usd, amount_usd) END) AS amount FROM held GROUP BY scope, period_start),
period AS (INSERT INTO budget_period AS p (scope, period_start, spent_usd, requests)
           SELECT scope, ps, sum(actual), sum(req) FROM applied GROUP BY scope, ps ORDER BY scope, ps
           ON CONFLICT (scope, period_start) DO UPDATE SET spent_usd = p.spent_usd + excluded.spent_usd, requests = p.requests + excluded.requests,
             reserved_usd = greatest(p.reserved_usd - coalesce((SELECT r.amount FROM released r WHERE r.scope = excluded.scope AND r.period_start = excluded.period_start), 0), 0)
           RETURNING 1),
spend AS (INSERT INTO budget_spend AS b (scope, bucket, spent_usd, requests)
          SELECT scope, bucket, sum(actual), sum(req) FROM applied WHERE req > 0 GROUP BY scope, bucket ORDER BY scope, bucket
          ON CONFLICT (scope, bucket) DO UPDATE SET spent_usd = b.spent_usd + excluded.spent_usd, requests = b.requests + excluded.requests
          RETURNING 1)
SELECT (SELECT count(*) FROM period) AS periods, (SELECT count(*) FROM spend) AS buckets, (SELECT count(*) FROM closed) AS closed, (SELECT count(*) FROM kept) AS kept`;
