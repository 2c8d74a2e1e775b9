/**
 * Log line prefixes. Real logs rarely start with their message: BuildKit prints `#12 1.234 `,
 * CI runners and `kubectl logs --timestamps` an ISO timestamp, `docker compose logs` a
 * `service-1  | ` column, `kubectl logs --prefix` a `[pod/name/container] ` tag, build tools a
 * `Step 3/12 :` or `[4/7]` counter, and many add ANSI colours. Classification (level, stack
 * frames, summaries, templates) looks at the message behind those prefixes; kept lines are
 * always printed as they were.
 */

// Every pattern is anchored, bounded and free of nested quantifiers (linear time).
const ANSI_RE = /\u001b\[[0-9;?]{0,32}[ -/]{0,4}[@-~]|\u001b[()][0-9A-Za-z]|\u001b[=>]/g;
/** Timestamp-like and step prefixes: they also mark a text as a log. */
const STAMP_PREFIXES: readonly RegExp[] = [
  // BuildKit plain progress: `#12 1.234 `, `#12 DONE 0.3s`, `#12 [4/7] RUN ...`
  /^#\d{1,5} (?:\d{1,6}\.\d{1,4} |(?=(?:DONE|CACHED|ERROR|CANCELED)\b|\[))/,
  // ISO 8601 (GitHub Actions, kubectl --timestamps, most structured loggers)
  /^\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}| ?UTC)?\]? ?/,
  // syslog / journald: `Mar  2 10:11:12 `
  /^(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d{2}:\d{2}:\d{2}(?:\.\d{1,6})? ?/,
  // time of day: `10:11:12`, `[10:11:12.345]`
  /^\[?\d{2}:\d{2}:\d{2}(?:[.,]\d{1,6})?\]? ?/,
  // elapsed time: `[  12.345s]`, `0.512 `
  /^\[ {0,6}\d{1,6}\.\d{1,6}s?\] ?/,
  // step counters: `Step 3/12 : `, `[4/7] `, `step 2/5: `
  /^(?:\[?[Ss](?:tep|TEP) \d{1,4}\/\d{1,4}\]? ?:? ?|\[\d{1,4}\/\d{1,4}\] )/,
];
/** Source tags: stripped for classification, but not evidence of a log on their own. */
const TAG_PREFIXES: readonly RegExp[] = [
  // other BuildKit step lines: `#12 transferring context: 2B done`
  /^#\d{1,5} /,
  // kubectl logs --prefix, stern, journald units: `[pod/api-7c9d/api] `, `[web] `
  /^\[[^\]\s]{1,160}\] /,
  // docker compose: `api-1  | `
  /^[A-Za-z0-9][\w.-]{0,80} {0,40}\| ?/,
];

export interface PrefixInfo {
  /** The line without ANSI codes and leading prefixes. */
  message: string;
  /** A timestamp, BuildKit step or step counter was found. */
  stamped: boolean;
}

/** The message of a log line behind its prefixes (at most a few, applied in any order). */
export function splitLogPrefix(line: string): PrefixInfo {
  let s = line.includes('\u001b') ? line.replace(ANSI_RE, '') : line;
  let stamped = false;
  for (let round = 0; round < 4; round++) {
    let hit = false;
    for (const re of STAMP_PREFIXES) {
      const m = re.exec(s);
      if (m && m[0].length > 0) {
        s = s.slice(m[0].length);
        stamped = true;
        hit = true;
      }
    }
    for (const re of TAG_PREFIXES) {
      const m = re.exec(s);
      if (m && m[0].length > 0 && m[0].length < s.length) {
        s = s.slice(m[0].length);
        hit = true;
      }
    }
    if (!hit) break;
  }
  return { message: s, stamped };
}

export function logMessage(line: string): string {
  return splitLogPrefix(line).message;
}
