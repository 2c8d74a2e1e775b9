/**
 * The replay keys a request's engine run will look up: the content hash of every slot long
 * enough to have a decision. A shared replay map fetches the decisions memory lacks for
 * these keys before the engine runs (its lookups stay synchronous), so a conversation whose
 * turns land on different instances is forwarded with byte-identical history.
 */
import { FLOOR_CHARS, MAX_SLOT_CHARS, requestShape } from './engine.js';
import { contentHash } from './hash.js';
import { decodeString, scanJson } from './json-scan.js';
import type { ApiShape } from './request/slots.js';

export function replayKeys(body: Buffer, api: ApiShape): string[] {
  const root = scanJson(body);
  const shape = requestShape(body, root, api, false, false);
  const keys: string[] = [];
  for (const slot of shape.slots) {
    if (slot.node.e - slot.node.s - 2 < FLOOR_CHARS) continue;
    const text = decodeString(body, slot.node);
    if (text.length < FLOOR_CHARS || text.length > MAX_SLOT_CHARS) continue;
    keys.push(contentHash(text));
  }
  return keys;
}
