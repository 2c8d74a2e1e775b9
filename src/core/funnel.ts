/**
 * The outcome funnel: the only way request facts reach sinks. Start, update and progress events are
 * delivered synchronously (they are tiny and the live view needs them at once); outcomes are
 * queued and delivered off the request's tick: on a later turn of the event loop (the check
 * phase, after the response has been written and flushed), in batches. A batch delivers at
 * least `minPerTurn` outcomes, then for at most `sliceMs` before it yields to the loop and
 * continues on the next turn, so a burst
 * of outcomes, or a slow sink, does not hold back the I/O of other requests for longer than
 * one slice (plus the outcome being delivered). A sink that throws, or whose `outcome`
 * returns a promise that rejects, is counted and skipped; it never affects a request or the
 * other sinks, and the funnel never waits for a sink's promise. Annotators run on each
 * outcome before any sink sees it (once, in delivery order), to add facts that need state
 * across requests (e.g. the conversation's prompt-cache continuity).
 */
import { logContext } from './logger.js';
import type { RequestOutcome, RequestProgress, RequestStart } from './outcome.js';

export interface Sink {
  readonly name: string;
  start?(event: RequestStart): void;
  /** The request's facts changed after its start (its body was read and parsed): same id, new figures. */
  update?(event: RequestStart): void;
  progress?(event: RequestProgress): void;
  /** May return a promise (work the sink finishes later): never awaited; a rejection is counted as the sink's error. */
  outcome?(outcome: RequestOutcome): void | Promise<unknown>;
  /** Called once on shutdown, after the last outcome was delivered. */
  close?(): void | Promise<void>;
}

export interface SinkStats {
  name: string;
  delivered: number;
  errors: number;
  lastError: string | null;
}

export type SinkErrorReporter = (sink: string, phase: string, err: unknown) => void;

/** Adds facts to an outcome before the sinks see it. */
export interface Annotator {
  readonly name: string;
  annotate(outcome: RequestOutcome): void;
}

interface SinkSlot {
  sink: Sink;
  stats: SinkStats;
}

export interface FunnelOptions {
  /** Milliseconds of delivery per event-loop turn before the rest waits for the next turn (default 1). */
  sliceMs?: number;
  /** Outcomes delivered per turn before the slice is looked at (default 16). */
  minPerTurn?: number;
  /** Monotonic milliseconds (tests inject a clock). */
  now?: () => number;
}

const DEFAULT_SLICE_MS = 1;
const DEFAULT_MIN_PER_TURN = 16;

export class Funnel {
  private readonly slots: SinkSlot[] = [];
  private readonly annotators: Annotator[] = [];
  private queue: RequestOutcome[] = [];
  /** Next outcome of `queue` to deliver (the queue is consumed from the front without shifting). */
  private head = 0;
  private scheduled = false;
  private startsTotal = 0;
  private outcomesTotal = 0;
  private onSinkError: SinkErrorReporter;
  private readonly sliceMs: number;
  private readonly minPerTurn: number;
  private readonly now: () => number;

  constructor(onSinkError: SinkErrorReporter = () => {}, opts: FunnelOptions = {}) {
    this.onSinkError = onSinkError;
    this.sliceMs = opts.sliceMs ?? DEFAULT_SLICE_MS;
    this.minPerTurn = opts.minPerTurn ?? DEFAULT_MIN_PER_TURN;
    this.now = opts.now ?? (() => performance.now());
  }

  setErrorReporter(fn: SinkErrorReporter): void {
    this.onSinkError = fn;
  }

  add(sink: Sink): () => void {
    const slot: SinkSlot = { sink, stats: { name: sink.name, delivered: 0, errors: 0, lastError: null } };
    this.slots.push(slot);
    return () => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
    };
  }

  /** Adds an annotator (run before every sink, in the order added). */
  annotate(a: Annotator): () => void {
    this.annotators.push(a);
    return () => {
      const i = this.annotators.indexOf(a);
      if (i >= 0) this.annotators.splice(i, 1);
    };
  }

  get sinkNames(): string[] {
    return this.slots.map((s) => s.sink.name);
  }

  start(event: RequestStart): void {
    this.startsTotal++;
    for (const slot of this.slots) {
      if (!slot.sink.start) continue;
      try {
        slot.sink.start(event);
      } catch (err) {
        this.fail(slot, 'start', err);
      }
    }
  }

  update(event: RequestStart): void {
    for (const slot of this.slots) {
      if (!slot.sink.update) continue;
      try {
        slot.sink.update(event);
      } catch (err) {
        this.fail(slot, 'update', err);
      }
    }
  }

  progress(event: RequestProgress): void {
    for (const slot of this.slots) {
      if (!slot.sink.progress) continue;
      try {
        slot.sink.progress(event);
      } catch (err) {
        this.fail(slot, 'progress', err);
      }
    }
  }

  /** Queues an outcome for delivery after the current I/O completes. */
  emit(outcome: RequestOutcome): void {
    this.outcomesTotal++;
    this.queue.push(outcome);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.onTurn);
  }

  /** Delivers every queued outcome now (shutdown, tests). */
  flush(): void {
    this.drain(Number.POSITIVE_INFINITY);
  }

  private readonly onTurn = (): void => {
    this.scheduled = false;
    this.drain(this.sliceMs);
  };

  /** Delivers queued outcomes for up to `budgetMs`; what is left goes on the next turn. */
  private drain(budgetMs: number): void {
    const sliced = budgetMs !== Number.POSITIVE_INFINITY;
    const until = sliced ? this.now() + budgetMs : budgetMs;
    let delivered = 0;
    while (this.head < this.queue.length) {
      const outcome = this.queue[this.head] as RequestOutcome;
      this.queue[this.head++] = undefined as unknown as RequestOutcome; // collectable once delivered
      // whatever a sink logs while handling an outcome carries that outcome's request id
      logContext.run({ requestId: outcome.requestId }, this.deliver, outcome);
      if (sliced && ++delivered >= this.minPerTurn && this.head < this.queue.length && this.now() >= until) {
        this.schedule();
        return;
      }
    }
    this.queue = [];
    this.head = 0;
  }

  private readonly deliver = (outcome: RequestOutcome): void => {
    for (const a of this.annotators) {
      try {
        a.annotate(outcome);
      } catch (err) {
        try {
          this.onSinkError(a.name, 'annotate', err);
        } catch {
          // the reporter itself must never break delivery
        }
      }
    }
    for (const slot of this.slots) {
      const fn = slot.sink.outcome;
      if (!fn) continue;
      try {
        const r = fn.call(slot.sink, outcome);
        slot.stats.delivered++;
        if (r && typeof (r as Promise<unknown>).then === 'function') {
          (r as Promise<unknown>).then(undefined, (err: unknown) => this.fail(slot, 'outcome', err));
        }
      } catch (err) {
        this.fail(slot, 'outcome', err);
      }
    }
  };

  private fail(slot: SinkSlot, phase: string, err: unknown): void {
    slot.stats.errors++;
    slot.stats.lastError = err instanceof Error ? err.message : String(err);
    try {
      this.onSinkError(slot.sink.name, phase, err);
    } catch {
      // the reporter itself must never break delivery
    }
  }

  stats(): { starts: number; outcomes: number; pending: number; sinks: SinkStats[] } {
    return {
      starts: this.startsTotal,
      outcomes: this.outcomesTotal,
      pending: this.queue.length - this.head,
      sinks: this.slots.map((s) => ({ ...s.stats })),
    };
  }

  async close(): Promise<void> {
    this.flush();
    for (const slot of this.slots) {
      try {
        await slot.sink.close?.();
      } catch (err) {
        this.fail(slot, 'close', err);
      }
    }
  }
}
