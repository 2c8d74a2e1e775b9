/**
 * A supervised pool of compression worker threads, so large compressions never block the
 * event loop.
 *
 * - Each slot owns at most one worker; all slots spawn at start. A worker must say `ready`
 *   within `readyTimeoutMs`; a failed spawn is retried with backoff (200 ms doubling to 10 s).
 * - A call that crashes its worker, breaks the protocol or exceeds `maxCompressMs` fails (the
 *   caller fails open) and the worker is terminated and replaced. An engine error reported by
 *   a healthy worker fails the call but keeps the worker.
 * - Session affinity: a keyed job goes to its slot's private queue (capacity one) when that is
 *   free (a hit), else to the shared queue served by whichever slot frees up first (a spill).
 *   Jobs without a key (or with affinity off) use the shared queue.
 * - A caller that gives up (AbortSignal) leaves the queue at once; a job already running keeps
 *   its worker busy until it finishes (warming it), bounded by the cap.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ResourceLimits, Worker } from 'node:worker_threads';
import type { Logger } from '../../core/logger.js';
import { slotFor } from './affinity.js';
import type { FromWorker, ToWorker, WorkJob, WorkResult } from './protocol.js';

export type Dispatch = 'hit' | 'spill' | 'shared';
export type PoolErrorCode = 'shutdown' | 'aborted' | 'crash' | 'timeout' | 'protocol' | 'worker_error';

export class PoolError extends Error {
  override readonly name = 'PoolError';
  constructor(
    readonly code: PoolErrorCode,
    message: string,
    /** How the job was dispatched before it failed (null: it never reached a queue). */
    readonly dispatch: Dispatch | null = null,
    readonly slot = -1,
  ) {
    super(message);
  }
}

export interface PoolOptions {
  size: number;
  maxCompressMs: number;
  affinity: boolean;
  log: Logger;
  /** Worker entry (default: the built `worker.js` next to this module). */
  script?: URL | string;
  readyTimeoutMs?: number;
  /** How long close() lets running calls finish before terminating workers. */
  closeGraceMs?: number;
  resourceLimits?: ResourceLimits;
}

export interface PoolResult {
  result: WorkResult;
  slot: number;
  dispatch: Dispatch;
  /** Milliseconds the job waited for a worker. */
  queueMs: number;
}

interface Job {
  payload: WorkJob;
  key: string;
  dispatch: Dispatch;
  state: 'queued' | 'running' | 'done';
  enqueuedAt: number;
  startedAt: number;
  resolve: (r: PoolResult) => void;
  reject: (e: PoolError) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | null;
}

interface Slot {
  index: number;
  worker: Worker | null;
  ready: boolean;
  current: Job | null;
  currentId: number;
  queued: Job | null;
  nextId: number;
  timer: NodeJS.Timeout | null;
  backoffMs: number;
  respawn: NodeJS.Timeout | null;
}

/** The built worker next to this module; under a TypeScript test runner, the one in `dist/`. */
export function defaultWorkerScript(): URL {
  const here = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  return new URL('../../../dist/capabilities/hook/worker.js', import.meta.url);
}

const BACKOFF_START_MS = 200;
const BACKOFF_MAX_MS = 10_000;

export class WorkerPool {
  readonly size: number;
  private readonly slots: Slot[];
  private readonly shared: Job[] = [];
  private readonly script: URL | string;
  private closed = false;
  private rr = 0;
  /** The engine version the workers last reported. */
  version: string | null = null;
  /** Workers started so far (spawns and replacements). */
  spawned = 0;

  constructor(private readonly opts: PoolOptions) {
    this.size = Math.max(1, Math.floor(opts.size));
    this.script = opts.script ?? defaultWorkerScript();
    this.slots = Array.from({ length: this.size }, (_, index) => ({
      index, worker: null, ready: false, current: null, currentId: 0, queued: null, nextId: 0, timer: null, backoffMs: BACKOFF_START_MS, respawn: null,
    }));
    for (const s of this.slots) this.spawn(s);
  }

  /** Slots inside a worker call. */
  get busy(): number {
    let n = 0;
    for (const s of this.slots) if (s.current) n++;
    return n;
  }

  /** Slots with a ready worker. */
  get readyCount(): number {
    let n = 0;
    for (const s of this.slots) if (s.ready) n++;
    return n;
  }

  /** Jobs waiting for a worker (private queues and the shared queue). */
  get waiting(): number {
    let n = this.shared.length;
    for (const s of this.slots) if (s.queued) n++;
    return n;
  }

  /** Resolves when every slot has a ready worker (or rejects after `timeoutMs`). */
  async whenReady(timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.readyCount < this.size) {
      if (this.closed) throw new PoolError('shutdown', 'pool shutting down');
      if (Date.now() > until) throw new Error(`hook workers not ready after ${timeoutMs} ms (${this.readyCount}/${this.size})`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  run(payload: WorkJob, key: string, signal?: AbortSignal): Promise<PoolResult> {
    if (this.closed) return Promise.reject(new PoolError('shutdown', 'pool shutting down'));
    if (signal?.aborted) return Promise.reject(new PoolError('aborted', 'request canceled before a worker took it'));
    return new Promise<PoolResult>((resolve, reject) => {
      const job: Job = {
        payload, key, dispatch: 'shared', state: 'queued', enqueuedAt: performance.now(), startedAt: 0, resolve, reject, signal, onAbort: null,
      };
      if (signal) {
        job.onAbort = () => this.abandon(job);
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      if (this.opts.affinity && key) {
        const slot = this.slots[slotFor(key, this.size)] as Slot;
        if (slot.queued === null) {
          job.dispatch = 'hit';
          slot.queued = job;
          this.pump(slot);
          return;
        }
        job.dispatch = 'spill';
      }
      this.shared.push(job);
      this.pumpAll();
    });
  }

  private settle(job: Job, r: { ok: true; value: PoolResult } | { ok: false; error: PoolError }): void {
    if (job.state === 'done') return;
    job.state = 'done';
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    if (r.ok) job.resolve(r.value);
    else job.reject(r.error);
  }

  /** The caller gave up: drop a queued job; a running one finishes in the background. */
  private abandon(job: Job): void {
    if (job.state === 'done') return;
    if (job.state === 'queued') {
      const i = this.shared.indexOf(job);
      if (i !== -1) this.shared.splice(i, 1);
      for (const s of this.slots) if (s.queued === job) s.queued = null;
      this.settle(job, { ok: false, error: new PoolError('aborted', 'request canceled before a worker took it', null) });
      this.pumpAll();
      return;
    }
    this.opts.log.warn({ dispatch: job.dispatch }, 'request canceled before worker finished; failing open (worker continues, warming)');
    this.settle(job, { ok: false, error: new PoolError('aborted', 'request canceled before the worker finished', job.dispatch) });
  }

  private pumpAll(): void {
    for (let i = 0; i < this.size && this.shared.length > 0; i++) {
      this.pump(this.slots[(this.rr + i) % this.size] as Slot);
    }
    this.rr = (this.rr + 1) % this.size;
  }

  private pump(slot: Slot): void {
    if (!slot.ready || slot.current || !slot.worker) return;
    const job = slot.queued ?? this.shared.shift();
    if (!job) return;
    if (slot.queued === job) slot.queued = null;
    job.state = 'running';
    job.startedAt = performance.now();
    slot.current = job;
    slot.currentId = ++slot.nextId;
    const msg: ToWorker = { type: 'job', id: slot.currentId, job: job.payload };
    slot.timer = setTimeout(() => this.recycle(slot, 'timeout', `worker exceeded the ${this.opts.maxCompressMs} ms cap`), this.opts.maxCompressMs);
    slot.timer.unref?.();
    try {
      slot.worker.postMessage(msg);
    } catch (err) {
      this.recycle(slot, 'protocol', `cannot post to worker: ${(err as Error).message}`);
    }
  }

  private onResult(slot: Slot, msg: FromWorker): void {
    if (msg.type !== 'result') return this.recycle(slot, 'protocol', `unexpected ${String(msg.type)} message from a ready worker`);
    const job = slot.current;
    if (!job || msg.id !== slot.currentId) return this.recycle(slot, 'protocol', `response id mismatch (got ${msg.id}, expected ${slot.currentId})`);
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.current = null;
    const dur = performance.now() - job.startedAt;
    if (msg.ok) {
      if (dur >= 2000) this.opts.log.info({ slot: slot.index, dur_ms: Math.round(dur), cold_first_call: msg.result.coldFirstCall, worker_ms: msg.result.elapsedMs }, 'slow worker call');
      this.settle(job, { ok: true, value: { result: msg.result, slot: slot.index, dispatch: job.dispatch, queueMs: job.startedAt - job.enqueuedAt } });
    } else {
      this.opts.log.warn({ slot: slot.index, err: msg.error }, 'compress failed in worker');
      this.settle(job, { ok: false, error: new PoolError('worker_error', msg.error, job.dispatch, slot.index) });
    }
    this.pump(slot);
  }

  /** Fails the running call, terminates the worker and spawns a replacement. */
  private recycle(slot: Slot, code: PoolErrorCode, message: string): void {
    const w = slot.worker;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.worker = null;
    slot.ready = false;
    const job = slot.current;
    slot.current = null;
    this.opts.log.warn({ slot: slot.index, reason: code, err: message }, 'worker request failed; recycling');
    if (job) this.settle(job, { ok: false, error: new PoolError(code, message, job.dispatch, slot.index) });
    if (w) {
      w.removeAllListeners();
      w.on('error', () => undefined);
      void w.terminate().catch(() => undefined);
    }
    if (!this.closed) this.spawn(slot);
  }

  private spawn(slot: Slot): void {
    slot.respawn = null;
    if (this.closed) return;
    let w: Worker;
    try {
      w = new Worker(this.script, this.opts.resourceLimits ? { resourceLimits: this.opts.resourceLimits } : {});
    } catch (err) {
      this.spawnFailed(slot, null, (err as Error).message);
      return;
    }
    this.spawned++;
    slot.worker = w;
    const readyTimer = setTimeout(() => this.spawnFailed(slot, w, `worker not ready after ${this.opts.readyTimeoutMs ?? 60_000} ms`), this.opts.readyTimeoutMs ?? 60_000);
    readyTimer.unref?.();
    w.on('message', (msg: FromWorker) => {
      if (slot.worker !== w) return;
      if (slot.ready) return this.onResult(slot, msg);
      clearTimeout(readyTimer);
      if (msg?.type !== 'ready') return this.spawnFailed(slot, w, `unexpected first message from worker: ${JSON.stringify(msg).slice(0, 200)}`);
      slot.ready = true;
      slot.backoffMs = BACKOFF_START_MS;
      if (msg.version) this.version = msg.version;
      this.opts.log.info({ slot: slot.index, thread: w.threadId, version: msg.version }, 'worker ready');
      this.pump(slot);
      this.pumpAll();
    });
    const died = (why: string) => {
      if (slot.worker !== w) return;
      clearTimeout(readyTimer);
      if (!slot.ready) this.spawnFailed(slot, w, why);
      else this.recycle(slot, 'crash', why);
    };
    w.on('error', (err) => died(`worker crashed: ${err?.message ?? String(err)}`));
    w.on('exit', (code) => died(`worker exited with code ${code}`));
  }

  private spawnFailed(slot: Slot, w: Worker | null, message: string): void {
    if (w && slot.worker !== w) return;
    slot.worker = null;
    slot.ready = false;
    if (w) {
      w.removeAllListeners();
      w.on('error', () => undefined);
      void w.terminate().catch(() => undefined);
    }
    if (this.closed) return;
    this.opts.log.error({ slot: slot.index, err: message, retry_ms: slot.backoffMs }, 'worker spawn failed; retrying');
    // A job waiting for this slot is better served by any other worker.
    const q = slot.queued;
    if (q) {
      slot.queued = null;
      q.dispatch = 'spill';
      this.shared.unshift(q);
      this.pumpAll();
    }
    slot.respawn = setTimeout(() => this.spawn(slot), slot.backoffMs);
    slot.respawn.unref?.();
    slot.backoffMs = Math.min(BACKOFF_MAX_MS, slot.backoffMs * 2);
  }

  /** Answers queued jobs `pool shutting down`, lets running calls finish (bounded), then stops every worker. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const shutdown = (j: Job) => this.settle(j, { ok: false, error: new PoolError('shutdown', 'pool shutting down', j.dispatch) });
    for (const j of this.shared.splice(0)) shutdown(j);
    for (const s of this.slots) {
      if (s.queued) shutdown(s.queued);
      s.queued = null;
      if (s.respawn) clearTimeout(s.respawn);
    }
    const until = Date.now() + (this.opts.closeGraceMs ?? 5_000);
    while (this.busy > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    await Promise.all(
      this.slots.map(async (s) => {
        const w = s.worker;
        if (s.timer) clearTimeout(s.timer);
        if (s.current) shutdown(s.current);
        s.current = null;
        s.worker = null;
        s.ready = false;
        if (w) {
          w.removeAllListeners();
          w.on('error', () => undefined);
          await w.terminate().catch(() => undefined);
        }
      }),
    );
  }
}
