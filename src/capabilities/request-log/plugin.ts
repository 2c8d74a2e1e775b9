/** A sink that writes one JSON log line per finished request. */
import { definePlugin } from '../../core/plugin.js';
import type { Sink } from '../../core/funnel.js';
import type { Logger } from '../../core/logger.js';
import type { RequestOutcome } from '../../core/outcome.js';

export function requestLogSink(log: Logger): Sink {
  return {
    name: 'request-log',
    outcome(o: RequestOutcome) {
      const line = {
        request_id: o.requestId,
        kind: o.kind,
        method: o.method,
        path: o.path,
        provider: o.provider,
        model: o.model,
        stream: o.stream,
        status: o.status,
        error_type: o.errorType,
        input_tokens: o.usage?.input ?? null,
        output_tokens: o.usage?.output ?? null,
        cache_read_tokens: o.usage?.cacheRead ?? null,
        cache_write_tokens: o.usage?.cacheWrite ?? null,
        tokens_saved: o.compression.tokensSaved,
        total_ms: o.timing.totalMs,
        overhead_ms: o.timing.overheadMs,
        ttfb_ms: o.timing.ttfbMs,
        attempts: o.timing.upstreamAttempts,
        stack: o.stack,
        project: o.project,
      };
      if (o.ok) log.info(line, 'request');
      else log.warn({ ...line, error: o.errorMessage }, 'request failed');
    },
  };
}

export const requestLogPlugin = definePlugin({
  name: 'request-log',
  setup({ app }) {
    if (app.config.logRequests) app.addSink(requestLogSink(app.log));
  },
});
