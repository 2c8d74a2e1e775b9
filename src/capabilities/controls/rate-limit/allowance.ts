/**
 * One caller's local allowance from the fleet's buckets (see `redis.ts`): request tokens and
 * tpm tokens this instance took from Redis in one script call and spends here, for at most
 * `ALLOWANCE_MS`; what it owes back (unspent tokens of an expired allowance, tpm corrections
 * after responses), sent with the next call for the caller or by the sweep; and this
 * instance's recent demand for the caller, which sizes the next grant.
 */

/** An allowance is spent only this long after it was granted; what is left then is given back. */
export const ALLOWANCE_MS = 500;
/** The demand that sizes a grant: the requests seen for the caller in this last window. */
export const DEMAND_WINDOW_MS = 250;
/** At most this many request tokens per grant. */
export const MAX_WANT = 64;

export interface Levels {
  /** Bucket levels Redis returned (after give-backs and corrections, before the grant). */
  requests: number;
  tokens: number;
  /** This instance's clock when they were read. */
  at: number;
}

export class Allowance {
  /** Unspent grant (0 when none). */
  requests = 0;
  tokens = 0;
  expiresAt = 0;
  /** What was spent here since `levels` were read (the grant's spending, counted for the headers). */
  spentRequests = 0;
  spentTokens = 0;
  levels: Levels | null = null;
  /** Owed back to the buckets (tokens may be negative: a correction that takes). */
  owedRequests = 0;
  owedTokens = 0;
  /** A grant of several tokens on its way: requests arriving meanwhile wait for it. */
  inflight: Promise<unknown> | null = null;
  lastSeen = 0;
  /** Times and tpm needs of the last requests seen (a ring of `MAX_WANT`). */
  private readonly times: number[] = [];
  private readonly needs: number[] = [];
  private next = 0;

  /** Records one request's demand. */
  note(now: number, need: number): void {
    this.lastSeen = now;
    if (this.times.length < MAX_WANT) {
      this.times.push(now);
      this.needs.push(need);
    } else {
      this.times[this.next] = now;
      this.needs[this.next] = need;
      this.next = (this.next + 1) % MAX_WANT;
    }
  }

  /** Request tokens and tpm tokens to ask for: the demand of the last window (this request included), at least this request's. */
  want(now: number, need: number): { requests: number; tokens: number } {
    let requests = 0;
    let tokens = 0;
    for (let i = 0; i < this.times.length; i++) {
      if (now - this.times[i]! < DEMAND_WINDOW_MS) {
        requests++;
        tokens += this.needs[i]!;
      }
    }
    return { requests: Math.min(MAX_WANT, Math.max(1, requests)), tokens: Math.max(need, tokens) };
  }

  /** Spends one request token and `need` tpm tokens here when the allowance has them and is fresh. */
  spend(now: number, need: number, rpmOn: boolean, tpmOn: boolean): boolean {
    if (now >= this.expiresAt) return false;
    if (rpmOn && this.requests < 1) return false;
    if (tpmOn && this.tokens < need) return false;
    if (rpmOn) this.requests--;
    if (tpmOn) this.tokens -= need;
    this.spentRequests++;
    this.spentTokens += need;
    return true;
  }

  /** Moves what is left of the grant to what is owed back (expiry, or a new grant replacing it). */
  release(): void {
    this.owedRequests += this.requests;
    this.owedTokens += this.tokens;
    this.requests = 0;
    this.tokens = 0;
    this.expiresAt = 0;
  }

  /** Takes everything owed (and any unspent grant) for one call; `restore` puts it back if the call was never sent. */
  detach(): { requests: number; tokens: number } {
    this.release();
    const out = { requests: this.owedRequests, tokens: this.owedTokens };
    this.owedRequests = 0;
    this.owedTokens = 0;
    return out;
  }

  restore(back: { requests: number; tokens: number }): void {
    this.owedRequests += back.requests;
    this.owedTokens += back.tokens;
  }

  /** A new grant from Redis; this request (which took `need`) is its first spending. */
  grant(levels: Levels, requests: number, tokens: number, need: number, rpmOn: boolean, tpmOn: boolean): void {
    this.release();
    this.levels = levels;
    this.requests = rpmOn ? requests - 1 : 0;
    this.tokens = tpmOn ? tokens - need : 0;
    this.spentRequests = 1;
    this.spentTokens = need;
    this.expiresAt = levels.at + ALLOWANCE_MS;
  }

  /** Redis refused: nothing granted, the levels are Redis's. */
  refused(levels: Levels): void {
    this.levels = levels;
    this.spentRequests = 0;
    this.spentTokens = 0;
  }

  get owes(): boolean {
    return this.owedRequests !== 0 || this.owedTokens !== 0;
  }

  /** Nothing held, nothing owed, nothing seen lately: the entry can go. */
  idle(now: number): boolean {
    return this.inflight === null && this.requests === 0 && this.tokens === 0 && !this.owes && now - this.lastSeen >= DEMAND_WINDOW_MS + ALLOWANCE_MS;
  }
}
