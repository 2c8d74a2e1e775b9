/**
 * What a SQLite failure means for the file behind it. Only a real corruption signal
 * (`SQLITE_CORRUPT*`, `SQLITE_NOTADB*`, a failed integrity check, a file that is another
 * program's database) says the file itself is unusable and may be moved aside. Everything
 * else (a full disk, a permission or read-only error, a lock held by another process, an I/O
 * error, a file that cannot be opened) is a condition of the machine: the file is kept and
 * opened again once the condition clears.
 */

/** A store's own check found the file unusable (integrity check, not our database, missing tables). */
export class CorruptStoreError extends Error {
  override readonly name = 'CorruptStoreError';
}

export function sqliteCode(err: unknown): string | null {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : null;
}

/** Whether `err` says the database file itself is damaged or not a database. */
export function isCorruption(err: unknown): boolean {
  if (err instanceof CorruptStoreError) return true;
  const code = sqliteCode(err);
  return code !== null && (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB'));
}

/** A one-line reason for logs and `/health`: the code (when there is one) and the message. */
export function describeError(err: unknown): string {
  const message = (err as Error)?.message ?? String(err);
  const code = sqliteCode(err);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
