/**
 * Start-up check of the environment: a `HEADROOM_*` variable that is neither a headroom-ts
 * option nor a known Headroom variable is most likely a typo (`HEADROOM_PORTT`), silently
 * ignored otherwise. Each one is named in a warning with the closest known name.
 */
import { allFields } from '../config/index.js';
import type { Field } from '../config/field.js';
import { headroomKnownEnv } from './headroom-compat.js';

/** Every variable name that means something to headroom-ts or to Headroom. */
export function knownEnvNames(): Set<string> {
  const names = new Set<string>(headroomKnownEnv());
  for (const f of Object.values(allFields) as Field<unknown>[]) for (const e of [...f.env, ...f.negatedEnv]) names.add(e);
  return names;
}

/** Levenshtein distance (small strings: a plain dynamic programme). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] as number;
}

/** The closest known name, when it is close enough to be the intended one. */
export function closestName(name: string, known: Iterable<string>): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  const tolerance = Math.max(2, Math.floor(name.length / 6));
  return best !== null && bestD <= tolerance ? best : null;
}

/** One warning per unknown `HEADROOM_*` variable, sorted by name. */
export function unknownEnvWarnings(env: NodeJS.ProcessEnv): string[] {
  const known = knownEnvNames();
  const out: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('HEADROOM_') || known.has(name) || env[name] === undefined) continue;
    const near = closestName(name, known);
    out.push(`${name} is not a headroom-ts or Headroom variable and is ignored${near ? `; did you mean ${near}?` : ''}`);
  }
  return out;
}
