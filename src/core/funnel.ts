/**
 * The outcome funnel: the only way request facts reach sinks. Start, update and progress events are
 * delivered synchronously (they are tiny and the live view needs them at once); outcomes are
 * queued and delivered on the next turn of the event loop, after the response has been
 * written, in batches. A sink that throws is counted and skipped; it never affects a request
 * or the other sinks. Annotators run on each outcome before any sink sees it (once, in
 * delivery order), to add facts that need state across requests (e.g. the conversation's
 * prompt-cache continuity).
 */
import { logContext } from './logger.js';
import type { RequestOutcome, RequestProgress, RequestStart } from './outcome.js';

export interface Sink {
  readonly name: string;
  start?(event: RequestStart): void;
  /** The request's facts changed after its start (its body was read and parsed): same id, new figures. */
  update?(event: RequestStart): void;
  progress?(event: RequestProgress): void;
  outcome?(outcome: RequestOutcome): void;
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

export class Funnel {
  private readonly slots: SinkSlot[] = [];
  private readonly annotators: Annotator[] = [];
  private queue: RequestOutcome[] = [];
  private scheduled = false;
  private startsTotal = 0;
  private outcomesTotal = 0;
  private onSinkError: SinkErrorReporter;

  constructor(onSinkError: SinkErrorReporter = () => {}) {
    this.onSinkError = onSinkError;
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
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
  }

  /** Delivers queued outcomes now (shutdown, tests). */
  flush(): void {
    this.drain();
  }

  private readonly drain = (): void => {
    this.scheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    for (const outcome of batch) {
      // whatever a sink logs while handling an outcome carries that outcome's request id
      logContext.run({ requestId: outcome.requestId }, () => this.deliver(outcome));
    }
  };

  private deliver(outcome: RequestOutcome): void {
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
        fn.call(slot.sink, outcome);
        slot.stats.delivered++;
      } catch (err) {
        this.fail(slot, 'outcome', err);
      }
    }
  }

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
      pending: this.queue.length,
      sinks: this.slots.map((s) => ({ ...s.stats })),
    };
  }

  async close(): Promise<void> {
    this.drain();
    for (const slot of this.slots) {
      try {
        await slot.sink.close?.();
      } catch (err) {
        this.fail(slot, 'close', err);
      }
    }
  }
}
