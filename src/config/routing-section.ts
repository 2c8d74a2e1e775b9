/**
 * The routing sections of a config file (`providers`, `model_aliases`, `fallbacks`): not
 * options of the typed Config, but kept beside the Config they were loaded with, for the
 * code that builds the provider registry (and the cloud platforms' provider entries) to read.
 */
export { FILE_SECTIONS as ROUTING_SECTIONS } from './sections.js';

const sections = new WeakMap<object, Record<string, unknown>>();

export function attachRoutingSections(config: object, raw: Record<string, unknown>): void {
  if (Object.keys(raw).length > 0) sections.set(config, raw);
}

/** The routing sections of the file a config was loaded from (empty: none). */
export function routingSectionsOf(config: object): Record<string, unknown> {
  return sections.get(config) ?? {};
}
