/** The logger libraries take (pino's), and the silent one they use when given none. */
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/** A logger that discards everything (library use, tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
