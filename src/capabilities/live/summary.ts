/**
 * The periodic summary log line: every N completed requests and/or every T seconds (only when
 * requests completed since the previous line). Each line carries two clearly labelled blocks:
 * `cumulative` (since process start) and `window` (since the previous summary line).
 */
import type { Logger } from '../../core/logger.js';
import { newSection, type Section } from './section.js';
import type { LiveTracker } from './tracker.js';
import { round4 } from '../../util/round.js';

export interface SummaryOptions {
  everyRequests: number;
  everySeconds: number;
  /** Models listed in a line, by request count. */
  topModels?: number;
}

const rate = (errors: number, requests: number) => (requests > 0 ? round4((errors / requests)) : 0);

function figures(s: Section) {
  return {
    requests: s.completed,
    errors: s.errors,
    error_rate: rate(s.errors, s.completed),
    input_tokens: s.inputTokens,
    output_tokens: s.outputTokens,
    cache_read_tokens: s.cacheReadTokens,
    cache_creation_tokens: s.cacheWriteTokens,
    tool_calls: s.toolCalls,
    tool_uses: s.toolCalls,
    tokens_saved: s.tokensSaved,
    average_duration_ms: s.completed > 0 ? Math.round(s.durationMs / s.completed) : 0,
  };
}

function minus(a: Section, b: Section): Section {
  const out = newSection();
  for (const k of Object.keys(out) as (keyof Section)[]) out[k] = a[k] - b[k];
  return out;
}

export class SummaryLog {
  private previous: Section = newSection();
  private timer: NodeJS.Timeout | null = null;
  lines = 0;

  constructor(
    private readonly tracker: LiveTracker,
    private readonly log: Logger,
    private readonly opts: SummaryOptions,
  ) {
    if (opts.everyRequests > 0) {
      tracker.onCompleted(() => {
        if (tracker.completed % opts.everyRequests === 0) this.emit(`every_${opts.everyRequests}_requests`);
      });
    }
    if (opts.everySeconds > 0) {
      this.timer = setInterval(() => {
        if (tracker.all.total.completed > this.previous.completed) this.emit(`every_${opts.everySeconds}s`);
      }, opts.everySeconds * 1000);
      this.timer.unref();
    }
  }

  emit(trigger: string): void {
    const t = this.tracker;
    const now = { ...t.all.total };
    const window = minus(now, this.previous);
    this.previous = now;
    const models: { provider: string; model: string; requests: number; errors: number }[] = [];
    for (const [provider, bucket] of t.providers) {
      for (const [model, split] of bucket.models) models.push({ provider, model, requests: split.total.completed, errors: split.total.errors });
    }
    models.sort((a, b) => b.requests - a.requests);
    const errorTypes: Record<string, number> = {};
    for (const [k, v] of t.all.errorTypes) errorTypes[k] = v;
    this.lines++;
    this.log.info(
      {
        live_summary: {
          trigger,
          window: { ...figures(window), label: 'since the previous summary line' },
          cumulative: { ...figures(now), since: new Date(t.since).toISOString(), label: 'since process start' },
          active_requests: t.active.size,
          top_models_cumulative: models.slice(0, this.opts.topModels ?? 10),
          error_types_cumulative: errorTypes,
        },
      },
      `live summary: ${window.completed} requests (${window.errors} errors) since the previous line; ${now.completed} requests (${now.errors} errors) cumulative since start`,
    );
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
