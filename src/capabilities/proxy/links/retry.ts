/**
 * The `retry` link (position 600): a call answered 429/5xx (honouring Retry-After) or failing
 * to connect is made again, up to `--retry-max-attempts`, with backoff. Only before anything of
 * the response was handed on: a retried response's body is dropped, and once headers pass
 * this link the call is never repeated. Each attempt is its own upstream call in the outcome.
 */
import type { Logger } from '../../../core/logger.js';
import type { Config } from '../../../config/index.js';
import { LINK_POSITION, type CallFailure, type CallHandler, type ForwardLink } from '../chain.js';
import { backoffMs, delayForStatus, type RetryPolicy, sleep } from '../retry.js';
import { clientGone, failureBeforeResponse } from './relay.js';

const RETRYABLE_FAILURES = new Set(['connect', 'connect_timeout', 'reset']);

export function retryLink(config: Config, log: Logger): ForwardLink {
  const policy: RetryPolicy = { maxAttempts: config.retryMaxAttempts, baseDelayMs: config.retryBaseDelayMs, maxDelayMs: config.retryMaxDelayMs };
  return {
    name: 'retry',
    position: LINK_POSITION.retry,
    wrap: (next) => (call, handler) => {
      const ex = call.ex;
      let attempts = 0;
      let discardDelay: number | null = null;
      const again = (delay: number) => {
        void sleep(delay, ex.abort).then((ok) => (ok && !ex.closed ? attempt() : handler.onError(clientGone(false))));
      };
      const inner: CallHandler = {
        onHeaders(status, headers, control) {
          discardDelay = ex.closed ? null : delayForStatus(policy, attempts, status, headers);
          if (discardDelay !== null) {
            log.warn({ status, attempt: ex.rec.attempts, delay_ms: discardDelay }, 'upstream returned a retryable status; retrying');
            return;
          }
          handler.onHeaders(status, headers, control);
        },
        onData(chunk, control) {
          if (discardDelay === null) handler.onData(chunk, control);
        },
        onEnd() {
          if (discardDelay === null) handler.onEnd();
          else again(discardDelay);
        },
        onError(f: CallFailure) {
          if (discardDelay === null && !f.midBody && RETRYABLE_FAILURES.has(f.kind) && attempts < policy.maxAttempts && !ex.closed) {
            const delay = backoffMs(policy, ex.rec.attempts);
            log.warn({ failure: f.kind, attempt: ex.rec.attempts, delay_ms: delay }, 'upstream request failed; retrying');
            again(delay);
            return;
          }
          // a response being dropped for a retry broke: nothing of it was passed on
          handler.onError(discardDelay === null ? f : failureBeforeResponse(f.kind, new Error(f.detail ?? f.message)));
        },
      };
      const attempt = () => {
        attempts++;
        discardDelay = null;
        next(call, inner);
      };
      attempt();
    },
  };
}
