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
  // Asynchronous and buffered: lines are written in batches of up to 8 KiB (flushed on exit),
  // so a log line per request costs microseconds, not a write system call.
  // The buffer holds Buffers, not one growing string: appending a line to a string buffer
  // measures the whole buffer's UTF-8 length on every write (microseconds per line at 8 KiB).
  let destination = opts.destination;
  if (!destination) {
    const boom = pino.destination({ dest: 1, sync: false, minLength: 8192, contentMode: 'buffer' });
    // A quiet proxy still shows its lines within half a second.
    setInterval(() => {
      try {
        boom.flush();
      } catch {
        // flushing while a write is in flight is retried on the next tick
      }
    }, 500).unref();
    destination = {
      write: (line: string) => boom.write(Buffer.from(line, 'utf8') as unknown as string),
      flush: (cb?: (err?: Error) => void) => boom.flush(cb),
      flushSync: () => boom.flushSync(),
    } as DestinationStream;
  }
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
      // Every line is scrubbed as it is written (keys in messages, errors, header dumps).
      hooks: { streamWrite: redactSecrets },
    },
    destination,
  );
}

export { silentLogger } from '../storage/logger.js';
