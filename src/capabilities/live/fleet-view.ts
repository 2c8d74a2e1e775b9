/**
 * The fleet's live view, shared in Redis: every instance publishes its requests in flight and
 * running totals under its id (a key that expires unless refreshed, so a stopped or killed
 * instance drops out by itself), and reads everyone else's. `/metrics/active-requests` and
 * its SSE stream then list the whole fleet, each row with its `instance`.
 *
 * Cost: publishing runs on a timer, never on a request: every `FLEET_VIEW_EVERY_MS` (so the
 * key never expires while the instance lives), and while this instance's requests change at
 * most every `PUBLISH_MIN_MS`. Reading the others runs only while someone watches this
 * instance's view: a client on the SSE stream, or a `watch()` (a GET of
 * `/metrics/active-requests`) in the last `WATCHED_FOR_MS`. A watch after a quiet period reads
 * at once, so what it shows was read at most one interval ago. Redis unavailable: the view
 * shows this instance only and says `degraded`.
 */
import type { Fleet } from '../fleet/api.js';
import type { LiveTracker } from './tracker.js';
import type { ActiveRow, ActiveSnapshot } from './schema.js';
import { activeSnapshot, MAX_SNAPSHOT_ROWS } from './views.js';

/** How often this instance publishes (and reads, while watched) when nothing changes. */
export const FLEET_VIEW_EVERY_MS = 500;
/** While this instance's requests change, publishes are at least this far apart. */
export const PUBLISH_MIN_MS = 250;
/** A GET of the view keeps the others being read for this long. */
export const WATCHED_FOR_MS = 10_000;
/** An instance that has not published for this long is gone from the view. */
const EXPIRE_MS = 3_000;
/** A change is published no sooner than this (coalesced with the changes right after it). */
const CHANGE_DELAY_MS = 50;

interface Published {
  instance: string;
  active_total: number;
  active_requests: ActiveRow[];
  completed: ActiveSnapshot['completed'];
}

export interface FleetViewOptions {
  /** Clients on the SSE stream now (they watch the view). */
  watchers?: () => number;
}

export class FleetLiveView {
  /** Bumped whenever another instance's published state changed (the SSE version adds it). */
  version = 0;
  private others: Published[] = [];
  private lastText = '';
  private degraded = false;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private dirty = false;
  private closed = false;
  private lastPublishAt = 0;
  private lastReadAt = 0;
  private lastWatchedAt = -Infinity;
  private reading: Promise<void> | null = null;
  private readonly key: (instance: string) => string;
  private readonly members: string;
  private readonly watchers: () => number;

  constructor(
    private readonly tracker: LiveTracker,
    private readonly fleet: Fleet,
    private readonly onChange: () => void,
    opts: FleetViewOptions = {},
  ) {
    this.key = (i) => `${fleet.prefix}live:i:${i}`;
    this.members = `${fleet.prefix}live:instances`;
    this.watchers = opts.watchers ?? (() => 0);
    tracker.onChange(() => {
      if (this.dirty) return;
      this.dirty = true;
      if (!this.busy) this.schedule();
    });
    void this.tick();
  }

  /** Someone watches the fleet view: keep reading the others, and read now if the last read is older than one interval. */
  watch(now: number = Date.now()): Promise<void> {
    this.lastWatchedAt = now;
    if (now - this.lastReadAt < FLEET_VIEW_EVERY_MS) return Promise.resolve();
    return this.read();
  }

  get watched(): boolean {
    return this.watchers() > 0 || Date.now() - this.lastWatchedAt < WATCHED_FOR_MS;
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    const now = Date.now();
    const due = this.dirty ? Math.max(now + CHANGE_DELAY_MS, this.lastPublishAt + PUBLISH_MIN_MS) : this.lastPublishAt + FLEET_VIEW_EVERY_MS;
    this.timer = setTimeout(() => void this.tick(), Math.max(0, due - now));
    this.timer.unref();
  }

  private own(now: number): Published {
    const s = activeSnapshot(this.tracker, now);
    const instance = this.fleet.instance;
    return { instance, active_total: s.active_total, active_requests: s.active_requests.map((r) => ({ ...r, instance })), completed: s.completed };
  }

  /** Publishes this instance, then reads the others while watched. */
  async tick(): Promise<void> {
    if (this.busy || this.closed) return;
    this.timer = null;
    this.busy = true;
    this.dirty = false;
    this.lastPublishAt = Date.now();
    try {
      if (!this.fleet.redis.connected) {
        // the timer is not a request: nothing is counted as a failure, the view just says so
        this.degraded = true;
        return;
      }
      const me = this.fleet.instance;
      const wrote = await this.fleet.redis.run('live view publish', (c) =>
        c.multi().set(this.key(me), JSON.stringify(this.own(Date.now())), 'PX', EXPIRE_MS).sadd(this.members, me).exec(),
      );
      if (this.watched) await this.read();
      else this.forgetOthers();
      if (wrote === undefined) this.degraded = true;
    } finally {
      this.busy = false;
      this.schedule();
    }
  }

  /** Unwatched: what was read of the others goes stale, so it is dropped rather than shown later. */
  private forgetOthers(): void {
    this.degraded = false;
    if (this.others.length === 0 && this.lastText === '') return;
    this.others = [];
    this.lastText = '';
    this.lastReadAt = 0;
    this.version++;
    this.onChange();
  }

  /** Reads the other instances (one read at a time; callers meanwhile share it). */
  private read(): Promise<void> {
    if (!this.reading) {
      this.reading = this.readOthers().finally(() => {
        this.reading = null;
      });
    }
    return this.reading;
  }

  private async readOthers(): Promise<void> {
    if (!this.fleet.redis.connected) {
      this.degraded = true;
      return;
    }
    const me = this.fleet.instance;
    const names = await this.fleet.redis.run('live view read', (c) => c.smembers(this.members));
    const others = (names ?? []).filter((n) => n !== me);
    const texts = others.length ? await this.fleet.redis.run('live view read', (c) => c.mget(others.map(this.key))) : [];
    this.degraded = names === undefined || texts === undefined;
    if (texts === undefined) return;
    this.lastReadAt = Date.now();
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
  }

  /** This instance's snapshot widened to the fleet (the others as last read). */
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
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    void this.fleet.redis.run('live view leave', (c) => c.multi().del(this.key(this.fleet.instance)).srem(this.members, this.fleet.instance).exec());
  }
}
