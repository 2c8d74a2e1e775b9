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
// Timestamp-like and step prefixes (`stamps`: they also mark a text as a log), by first character.
/** BuildKit plain progress: `#12 1.234 `, `#12 DONE 0.3s`, `#12 [4/7] RUN ...` */
const BUILDKIT_RE = /^#\d{1,5} (?:\d{1,6}\.\d{1,4} |(?=(?:DONE|CACHED|ERROR|CANCELED)\b|\[))/;
/** Other BuildKit step lines (`#12 transferring context: 2B done`): a tag. */
const BUILDKIT_TAG_RE = /^#\d{1,5} /;
/** ISO 8601 (GitHub Actions, kubectl --timestamps, most structured loggers), optionally bracketed. */
const ISO_RE = /^\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}| ?UTC)?\]? ?/;
/** Time of day: `10:11:12`, `[10:11:12.345]`. */
const TIME_RE = /^\[?\d{2}:\d{2}:\d{2}(?:[.,]\d{1,6})?\]? ?/;
/** Elapsed time `[  12.345s]` and step counters `[4/7] `. */
const BRACKET_STAMP_RE = /^\[(?: {0,6}\d{1,6}\.\d{1,6}s?|\d{1,4}\/\d{1,4})\] ?/;
/** syslog / journald `Mar  2 10:11:12 `, and `Step 3/12 : `. */
const WORD_STAMP_RE = /^(?:(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d{2}:\d{2}:\d{2}(?:\.\d{1,6})? ?|(?:[Ss]tep|STEP) \d{1,4}\/\d{1,4}:? ?:? ?)/;
/** Source tags, not evidence of a log on their own: `[pod/api-7c9d/api] `, `[web] `. */
const BRACKET_TAG_RE = /^\[[^\]\s]{1,160}\] /;
/** docker compose: `api-1  | ` (a replica-numbered service padded to its column: a log sign). */
const COMPOSE_STAMP_RE = /^[A-Za-z0-9][\w.-]{0,80}[-_]\d{1,3} {1,40}\| ?/;
/** Other `name | ` columns: a tag. */
const COMPOSE_RE = /^[A-Za-z0-9][\w.-]{0,80} {0,40}\| ?/;
const MONTH_OR_STEP_RE = /^(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|[Ss]tep|STEP) /;

export interface PrefixInfo {
  /** The line without ANSI codes and leading prefixes. */
  message: string;
  /** A timestamp, BuildKit step or step counter was found. */
  stamped: boolean;
}

/** True when no prefix pattern can match at the start of `s` (most lines of most texts). */
function plainStart(s: string): boolean {
  const c = s.charCodeAt(0);
  // `#`, `[` and digits start stamps and tags
  if (c === 35 || c === 91 || (c >= 48 && c <= 57)) return false;
  const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  if (!letter) return true;
  // a service column needs its `|`; syslog dates and step counters their word
  const bar = s.indexOf('|');
  return (bar === -1 || bar > 122) && !MONTH_OR_STEP_RE.test(s);
}

/** The length of one prefix at the start of `s` (0: none), and whether it is a stamp. */
function onePrefix(s: string): [number, boolean] {
  const c = s.charCodeAt(0);
  let m: RegExpExecArray | null;
  if (c === 35) {
    if ((m = BUILDKIT_RE.exec(s))) return [m[0].length, true];
    if ((m = BUILDKIT_TAG_RE.exec(s))) return [m[0].length, false];
    return [0, false];
  }
  if (c === 91 || (c >= 48 && c <= 57)) {
    if ((m = ISO_RE.exec(s)) || (m = TIME_RE.exec(s)) || (c === 91 && (m = BRACKET_STAMP_RE.exec(s)))) return [m[0].length, true];
    if (c === 91 && (m = BRACKET_TAG_RE.exec(s))) return [m[0].length, false];
  }
  if ((m = WORD_STAMP_RE.exec(s))) return [m[0].length, true];
  if ((m = COMPOSE_STAMP_RE.exec(s)) && m[0].length < s.length) return [m[0].length, true];
  if ((m = COMPOSE_RE.exec(s)) && m[0].length < s.length) return [m[0].length, false];
  return [0, false];
}

/** The message of a log line behind its prefixes (at most four, in any order). */
export function splitLogPrefix(line: string): PrefixInfo {
  const ansi = line.includes('\u001b');
  if (!ansi && plainStart(line)) return { message: line, stamped: false };
  let s = ansi ? line.replace(ANSI_RE, '') : line;
  let stamped = false;
  for (let round = 0; round < 4 && s && !plainStart(s); round++) {
    const [len, stamp] = onePrefix(s);
    if (len === 0) break;
    s = s.slice(len);
    stamped ||= stamp;
  }
  return { message: s, stamped };
}

export function logMessage(line: string): string {
  return splitLogPrefix(line).message;
}
