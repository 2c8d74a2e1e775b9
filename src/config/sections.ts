/**
 * Config file sections that are not options: structured blocks a capability reads from the
 * file itself (the routing registry). `loadConfig` accepts them beside the options and leaves
 * them to their reader.
 */
export const FILE_SECTIONS: ReadonlySet<string> = new Set(['providers', 'model_aliases', 'fallbacks']);
