/** What the storage capability offers (type-only imports): the `database` service. */
import type { SharedDatabase } from './shared.js';

export type { SharedDatabase } from './shared.js';

declare module '../../core/plugin.js' {
  interface Services {
    /** The shared Postgres database (`--database-url`); `db` is null when none is configured. */
    database: SharedDatabase;
  }
}
