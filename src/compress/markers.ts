/**
 * The retrieval marker: one wording for every lossy transform. It says the content shown is
 * abbreviated, that the original is intact, and how to get it back (the `headroom_retrieve`
 * tool with the hash). Example:
 *
 *   [headroom: 15 of 1000 rows shown (abbreviated); the full original is intact, call headroom_retrieve with hash=3f2a9c01be44aa0011223344 to read it]
 *
 * Content that already carries a marker (ours, or Headroom's older forms) is pinned: it is
 * never compressed again, so retrieved content cannot loop back into compression.
 */
import { HASH_LENGTH } from './hash.js';

export const RETRIEVE_TOOL_NAME = 'headroom_retrieve';

/** Builds the marker. `summary` says what is shown, e.g. `15 of 1000 rows shown (abbreviated)`. */
export function formatMarker(hash: string, summary: string): string {
  const clean = summary.replace(/[\]\n\r]/g, ' ').trim();
  return `[headroom: ${clean}; the full original is intact, call ${RETRIEVE_TOOL_NAME} with hash=${hash} to read it]`;
}

/** `N of M units shown (abbreviated)` with an optional detail, e.g. `omitted: 3 WARN, 1200 INFO`. */
export function shownSummary(kept: number, total: number, unit: string, detail?: string): string {
  const base = `${kept} of ${total} ${unit} shown (abbreviated`;
  return detail ? `${base}; ${detail})` : `${base})`;
}

const OUR_MARKER = new RegExp(`\\[headroom: [^\\]\\n]*?hash=([0-9a-f]{${HASH_LENGTH}}) to read it\\]`, 'g');

/** Every marker form we recognise as "already compressed by a headroom": ours and Headroom's. */
const ANY_MARKER = new RegExp(
  [
    `\\[headroom: [^\\]\\n]*?hash=[0-9a-fA-F]{${HASH_LENGTH}}`,
    'Retrieve (?:more|original|full diff): hash=[0-9a-fA-F]{12,24}',
    '\\[[^\\]\\n]{0,200}compressed[^\\]\\n]{0,200}hash=[0-9a-fA-F]{12,24}',
    '<<ccr:[0-9a-fA-F]{12,24}',
  ].join('|'),
);

export interface FoundMarker {
  hash: string;
  /** Character offsets of the whole marker in the text. */
  start: number;
  end: number;
}

/** Our markers in a text, in order (issue 4 uses this to know which hashes a request refers to). */
export function findMarkers(text: string): FoundMarker[] {
  const out: FoundMarker[] = [];
  if (!text.includes('[headroom: ')) return out;
  OUR_MARKER.lastIndex = 0;
  for (let m = OUR_MARKER.exec(text); m; m = OUR_MARKER.exec(text)) {
    out.push({ hash: m[1] as string, start: m.index, end: m.index + m[0].length });
  }
  return out;
}

/** True when the text carries any retrieval marker (ours or a Headroom form): never re-compress it. */
export function hasMarker(text: string): boolean {
  // every form contains one of these; skip the regex scan for ordinary text
  if (!text.includes('hash=') && !text.includes('<<ccr:')) return false;
  return ANY_MARKER.test(text);
}
