/**
 * Reads the routing file (`--routing-config`, default the `--config` file): YAML or JSON, an
 * empty file being an empty mapping. The routing capability builds the registry from it; the
 * cloud capability reads its Bedrock and Vertex entries from the same parse.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { RoutingConfigError } from './schema.js';

/** The parsed file (throws RoutingConfigError naming the file when unreadable, invalid or not a mapping). */
export function readRoutingFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RoutingConfigError(`Cannot read routing config file ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = text.trim() === '' ? {} : (parseYaml(text) ?? {});
  } catch (err) {
    throw new RoutingConfigError(`Routing config file ${path} is not valid YAML/JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RoutingConfigError(`Routing config file ${path} must contain a mapping`);
  }
  return parsed as Record<string, unknown>;
}
