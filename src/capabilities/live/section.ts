/**
 * Counters for one slice of traffic (a model, a provider rollup, or everything), split into
 * total / streaming / non-streaming. Completed requests add their final figures; active
 * requests are only ever added to a transient copy (running totals with `include_active`), so
 * nothing is counted twice.
 */
import type { RequestOutcome } from '../../core/outcome.js';

export interface Section {
  /** Completed requests plus, in a view with `include_active`, the active ones. */
  requests: number;
  /** Completed requests only: the denominator of the average duration. */
  completed: number;
  active: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  toolDefinitions: number;
  toolResults: number;
  toolCalls: number;
  tokensSaved: number;
  /** Sum of `timing.totalMs` over completed requests. */
  durationMs: number;
}

export const newSection = (): Section => ({
  requests: 0, completed: 0, active: 0, errors: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0,
  cacheWriteTokens: 0, toolDefinitions: 0, toolResults: 0, toolCalls: 0, tokensSaved: 0, durationMs: 0,
});

export function addSection(into: Section, from: Section): void {
  into.requests += from.requests;
  into.completed += from.completed;
  into.active += from.active;
  into.errors += from.errors;
  into.inputTokens += from.inputTokens;
  into.outputTokens += from.outputTokens;
  into.cacheReadTokens += from.cacheReadTokens;
  into.cacheWriteTokens += from.cacheWriteTokens;
  into.toolDefinitions += from.toolDefinitions;
  into.toolResults += from.toolResults;
  into.toolCalls += from.toolCalls;
  into.tokensSaved += from.tokensSaved;
  into.durationMs += from.durationMs;
}

/** Figures of an in-flight request as far as they are known. */
export interface ActiveFigures {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  toolDefinitions: number;
  toolResults: number;
  toolCalls: number;
}

export function addActiveTo(s: Section, a: ActiveFigures): void {
  s.requests++;
  s.active++;
  s.inputTokens += a.inputTokens;
  s.outputTokens += a.outputTokens;
  s.cacheReadTokens += a.cacheReadTokens;
  s.cacheWriteTokens += a.cacheWriteTokens;
  s.toolDefinitions += a.toolDefinitions;
  s.toolResults += a.toolResults;
  s.toolCalls += a.toolCalls;
}

function addOutcomeTo(s: Section, o: RequestOutcome, error: boolean): void {
  s.requests++;
  s.completed++;
  if (error) s.errors++;
  const u = o.usage;
  if (u) {
    s.inputTokens += u.input;
    s.outputTokens += u.output;
    s.cacheReadTokens += u.cacheRead;
    s.cacheWriteTokens += u.cacheWrite;
  }
  s.toolDefinitions += o.tools.definitions;
  s.toolResults += o.tools.results;
  s.toolCalls += o.tools.calls;
  s.tokensSaved += o.compression.tokensSaved;
  s.durationMs += o.timing.totalMs;
}

/** A slice of traffic with its streaming split, error types and last access. */
export class Split {
  readonly total = newSection();
  readonly streaming = newSection();
  readonly nonStreaming = newSection();
  readonly errorTypes = new Map<string, number>();
  /** Epoch ms of the most recent request start seen in this slice; 0 = never. */
  lastAccessed = 0;

  addOutcome(o: RequestOutcome): void {
    const error = !o.ok;
    addOutcomeTo(this.total, o, error);
    addOutcomeTo(o.stream ? this.streaming : this.nonStreaming, o, error);
    if (error) {
      const t = o.errorType ?? `http_${o.status}`;
      this.errorTypes.set(t, (this.errorTypes.get(t) ?? 0) + 1);
    }
    if (o.startedAt > this.lastAccessed) this.lastAccessed = o.startedAt;
  }

  addActive(a: ActiveFigures, stream: boolean, startedAt: number): void {
    addActiveTo(this.total, a);
    addActiveTo(stream ? this.streaming : this.nonStreaming, a);
    if (startedAt > this.lastAccessed) this.lastAccessed = startedAt;
  }

  addSplit(from: Split): void {
    addSection(this.total, from.total);
    addSection(this.streaming, from.streaming);
    addSection(this.nonStreaming, from.nonStreaming);
    for (const [t, n] of from.errorTypes) this.errorTypes.set(t, (this.errorTypes.get(t) ?? 0) + n);
    if (from.lastAccessed > this.lastAccessed) this.lastAccessed = from.lastAccessed;
  }

  clone(): Split {
    const c = new Split();
    c.addSplit(this);
    return c;
  }
}
