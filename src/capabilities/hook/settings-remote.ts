/**
 * Where a fleet keeps the hook's settings so that a `PUT /config` on one instance applies on
 * every instance (the Postgres adapter is `pg-settings.ts`; a Redis notification can make
 * the others read sooner). Without one, each instance keeps its own file.
 */
export interface SettingsRemote {
  /** For logs and health (no secrets). */
  readonly where: string;
  /** The stored settings (the `settingsJson` shape) and their version; null when none were stored yet. */
  read(): Promise<{ json: unknown; version: number } | null>;
  /** Stores new settings; returns their version. */
  write(json: unknown): Promise<number>;
}
