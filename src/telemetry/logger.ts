/**
 * Structured JSON logging (pino). Every line written while a request is being handled carries
 * that request's id (AsyncLocalStorage, safe under concurrency), and every line is scrubbed of
 * API keys before it is written.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type DestinationStream, type Logger } from 'pino';
import { redactSecrets } from './redact.js';

export type { Logger } from 'pino';

export interface LogContext {
  requestId: string;
}

export const logContext = new AsyncLocalStorage<LogContext>();

export interface LoggerOptions {
  level?: string;
  /** Where lines go (default: stdout, asynchronously). */
  destination?: DestinationStream;
  name?: string;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const destination = opts.destination ?? pino.destination({ dest: 1, sync: false });
  return pino(
    {
      name: opts.name ?? 'headroom-ts',
      level: opts.level ?? 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin() {
        const ctx = logContext.getStore();
        return ctx?.requestId ? { request_id: ctx.requestId } : {};
      },
      hooks: { streamWrite: redactSecrets },
      redact: {
        paths: ['headers.authorization', 'headers["x-api-key"]', 'headers["x-goog-api-key"]', 'headers["x-headroom-proxy-token"]', '*.headers.authorization', '*.headers["x-api-key"]'],
        censor: '***',
      },
    },
    destination,
  );
}

/** A logger that discards everything (library use, tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
