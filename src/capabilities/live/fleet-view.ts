/**
 * The fleet's live view, shared in Redis: every instance publishes its requests in flight and
 * running totals under its id (a key that expires unless refreshed, so a stopped or killed
 * instance drops out by itself), and reads everyone else's. `/metrics/active-requests` and
 * its SSE stream then list the whole fleet, each row with its `instance`. Publishing and
 * reading run on a timer, never on a request; Redis unavailable: the view shows this
 * instance only and says `degraded`.
 */
import type { Fleet } from '../fleet/api.js';
import type { LiveTracker } from './tracker.js';
import type { ActiveRow, ActiveSnapshot } from './schema.js';
import { activeSnapshot, MAX_SNAPSHOT_ROWS } from './views.js';

/** How often this instance publishes and reads (and at most how stale another instance's rows are). */
export const FLEET_VIEW_EVERY_MS = 500;
/** An instance that has not published for this long is gone from the view. */
const EXPIRE_MS = 3_000;
/** A change of this instance's requests is published this soon (coalesced). */
const CHANGE_DELAY_MS = 50;

interface Published {
  instance: string;
  active_total: number;
  active_requests: ActiveRow[];
  completed: ActiveSnapshot['completed'];
}

export class FleetLiveView {
  /** Bumped whenever another instance's published state changed (the SSE version adds it). */
  version = 0;
  private others: Published[] = [];
  private lastText = '';
  private degraded = false;
  private readonly timer: NodeJS.Timeout;
  private pending: NodeJS.Timeout | null = null;
  private busy = false;
  private readonly key: (instance: string) => string;
  private readonly members: string;

  constructor(
    private readonly tracker: LiveTracker,
    private readonly fleet: Fleet,
    private readonly onChange: () => void,
  ) {
    this.key = (i) => `${fleet.prefix}live:i:${i}`;
    this.members = `${fleet.prefix}live:instances`;
    this.timer = setInterval(() => void this.tick(), FLEET_VIEW_EVERY_MS);
    this.timer.unref();
    tracker.onChange(() => {
      if (this.pending) return;
      this.pending = setTimeout(() => {
        this.pending = null;
        void this.tick();
      }, CHANGE_DELAY_MS);
      this.pending.unref();
    });
    void this.tick();
  }

  private own(now: number): Published {
    const s = activeSnapshot(this.tracker, now);
    const instance = this.fleet.instance;
    return { instance, active_total: s.active_total, active_requests: s.active_requests.map((r) => ({ ...r, instance })), completed: s.completed };
  }

  /** Publishes this instance, then reads the others. */
  async tick(): Promise<void> {
    if (this.busy) return;
    if (!this.fleet.redis.connected) {
      // the timer is not a request: nothing is counted as a failure, the view just says so
      this.degraded = true;
      return;
    }
    this.busy = true;
    try {
      const me = this.fleet.instance;
      const wrote = await this.fleet.redis.run('live view publish', (c) =>
        c.multi().set(this.key(me), JSON.stringify(this.own(Date.now())), 'PX', EXPIRE_MS).sadd(this.members, me).exec(),
      );
      const names = await this.fleet.redis.run('live view read', (c) => c.smembers(this.members));
      const others = (names ?? []).filter((n) => n !== me);
      const texts = others.length ? await this.fleet.redis.run('live view read', (c) => c.mget(others.map(this.key))) : [];
      this.degraded = wrote === undefined || names === undefined || texts === undefined;
      if (texts === undefined) return;
      const gone = others.filter((_, i) => texts[i] === null);
      if (gone.length) void this.fleet.redis.run('live view prune', (c) => c.srem(this.members, ...gone));
      const live = texts.filter((t): t is string => t !== null).sort();
      const joined = live.join('\n');
      if (joined !== this.lastText) {
        this.lastText = joined;
        this.others = live.flatMap((t) => {
          try {
            return [JSON.parse(t) as Published];
          } catch {
            return [];
          }
        });
        this.version++;
        this.onChange();
      }
    } finally {
      this.busy = false;
    }
  }

  /** This instance's snapshot widened to the fleet. */
  snapshot(now: number = Date.now()): ActiveSnapshot {
    const mine = this.own(now);
    const base = activeSnapshot(this.tracker, now);
    const rows = [...mine.active_requests];
    for (const o of this.others) for (const r of o.active_requests) rows.push({ ...r, duration_ms: Math.max(0, now - r.start_time * 1000) });
    rows.sort((a, b) => b.start_time - a.start_time);
    const total = mine.active_total + this.others.reduce((n, o) => n + o.active_total, 0);
    const shown = rows.length > MAX_SNAPSHOT_ROWS ? rows.slice(0, MAX_SNAPSHOT_ROWS) : rows;
    return {
      ...base,
      version: this.tracker.version + this.version,
      active_total: total,
      truncated: shown.length < total,
      active_requests: shown,
      fleet: {
        instance: mine.instance,
        degraded: this.degraded,
        instances: [mine, ...this.others].map((p) => ({ instance: p.instance, self: p.instance === mine.instance, active_total: p.active_total, completed: p.completed })),
      },
    };
  }

  close(): void {
    clearInterval(this.timer);
    if (this.pending) clearTimeout(this.pending);
    void this.fleet.redis.run('live view leave', (c) => c.multi().del(this.key(this.fleet.instance)).srem(this.members, this.fleet.instance).exec());
  }
}
