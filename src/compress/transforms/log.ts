/**
 * Log / build / test output. Keeps every error and failure line (with two lines of context
 * either side), stack traces and failure blocks (first five, up to 25 lines each), distinct
 * warnings (the first line of each warning template), summary lines (test totals, build
 * results), the first lines and the tail; collapses the rest into `... N lines omitted ...`
 * gaps and ends with the retrieval marker giving the omitted counts by level. Lines are
 * classified by their message behind timestamps, BuildKit steps, service columns and ANSI
 * codes (see log-prefix.ts), and printed as they were. Exception class names, panics and
 * failure marks count as errors. With `keepAllErrors` (short error-bearing outputs) no error
 * line is ever dropped, repeated or not.
 */
import { hasErrorClass, lineTemplate, matchesAnchor } from '../lexical.js';
import { logMessage } from '../log-prefix.js';
import { formatMarker, shownSummary } from '../markers.js';
import type { TransformContext, TransformOutput } from '../types.js';

type Level = 'error' | 'fail' | 'warn' | 'info' | 'debug' | 'trace' | 'other';

const LEVEL_RE =
  /\b(ERROR|Error|error|FATAL|Fatal|fatal|CRITICAL|Critical|critical|CRIT|EMERG|ALERT|PANIC|panic|FAIL|FAILED|Fail|Failed|failed|FAILURE|WARN|WARNING|Warn|Warning|warn|warning|INFO|Info|info|NOTICE|DEBUG|Debug|debug|TRACE|Trace|VERBOSE)\b/;
const ERROR_HINT_RE =
  /npm ERR!|^error(?:\[E\d+\])?:|^\s*E\s{2,}|\bexception\b|Exception\b|\bsegfault|\bpanicked\b|\bunhandled\b|\bUncaught\b|\b[Ee]xit(?:ed)? (?:with )?(?:code|status):? [1-9]|\bnon-zero exit|\bdid not complete successfully/;
const SUMMARY_RE =
  /^(?:={3,}|-{3,}|#{3,})\s*$|^(?:={3,}|-{3,}|#{3,}) .* (?:={3,}|-{3,}|#{3,})\s*$|\b\d+ (?:passed|failed|skipped|errors?|warnings?|tests?|suites?|deselected|xfailed|xpassed)\b|^\s*(?:Tests?|Test Suites|Suites?|Snapshots|Time|Ran \d+ tests?|TOTAL|Total|Summary|Coverage)\b|\bBUILD (?:SUCCESS(?:FUL)?|FAILED|FAILURE)\b|\bBuild (?:succeeded|failed|complete)|\b(?:Compilation|Compile|Tests?) (?:succeeded|failed|complete|finished)|^\s*(?:Finished|Done in|Compiled|Successfully)\b|^(?:OK|FAILED)(?: \(|$)/;
const TRACE_START_RE = /Traceback \(most recent call last\)|^goroutine \d+ \[|^thread '.+' panicked at|^\s*(?:Caused by|Exception in thread)\b/;
const TRACE_LINE_RE =
  /^\s+at\s|^\s+File ".+", line \d+|^\s{2,}\S|^\s*\.\.\. \d+ more|^\s*-->\s|^\s*\d+: 0x[0-9a-f]+|^\s+[\w./-]+\.go:\d+|^\t|^[\w./-]+\.(?:\(\*?\w+\)\.)?\w+\(.*\)$|^created by |^\[signal /;

/** The level of a log message (the line behind its prefixes). */
export function levelOf(line: string): Level {
  const m = LEVEL_RE.exec(line);
  if (m) {
    const w = (m[1] as string).toUpperCase();
    if (w === 'ERROR' || w === 'FATAL' || w === 'CRITICAL' || w === 'CRIT' || w === 'EMERG' || w === 'ALERT' || w === 'PANIC') return 'error';
    if (w.startsWith('FAIL')) return 'fail';
    if (w.startsWith('WARN')) return 'warn';
    if (w === 'INFO' || w === 'NOTICE') return 'info';
    if (w === 'DEBUG' || w === 'VERBOSE') return 'debug';
    if (w === 'TRACE') return 'trace';
  }
  if (ERROR_HINT_RE.test(line) || hasErrorClass(line)) return 'error';
  return 'other';
}

/** Step headers of build logs (BuildKit `#8 [4/7] RUN ...`, `Step 3/12 :`, `##[group]Run ...`): the outline of what ran. */
const STEP_RE = /^#\d+ \[[^\]]{1,80}\] |^Step \d+\/\d+ : |^\[\d+\/\d+\] /;
const isStep = (line: string) => {
  const c = line.charCodeAt(0);
  return ((c === 35 || c === 83 || c === 91) && STEP_RE.test(line)) || line.includes('##[group]');
};
const MAX_STEPS = 60;
const CONTEXT = 2;
const MIN_LINES = 40;
const MAX_TRACES = 5;
const MAX_TRACE_LINES = 25;
const MAX_WARN_TEMPLATES = 10;
const HEAD = 3;
const TAIL = 5;

export function compressLog(text: string, ctx: TransformContext): TransformOutput | null {
  const trailingNewline = text.endsWith('\n');
  const lines = (trailingNewline ? text.slice(0, -1) : text).split('\n');
  const n = lines.length;
  if (n < MIN_LINES) return null;
  const keep = new Uint8Array(n);
  const levels: Level[] = new Array(n);
  const keepRange = (from: number, to: number) => {
    for (let i = Math.max(0, from); i <= Math.min(n - 1, to); i++) keep[i] = 1;
  };

  // classification looks at the message behind timestamps, step numbers and service columns
  const msgs: string[] = new Array(n);
  for (let i = 0; i < n; i++) msgs[i] = logMessage(lines[i] as string);
  // Repeats of one error template: the first three occurrences and the last are kept.
  const errTemplate: (string | null)[] = new Array(n).fill(null);
  const lastOfTemplate = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const line = msgs[i] as string;
    const level = levelOf(line);
    levels[i] = level;
    if (level === 'error' || level === 'fail') {
      const t = lineTemplate(line);
      errTemplate[i] = t;
      lastOfTemplate.set(t, i);
    }
  }
  const seenErr = new Map<string, number>();

  let traces = 0;
  let steps = 0;
  const warnTemplates = new Set<string>();
  const lowerQuery = ctx.query.anchors.length > 0;
  for (let i = 0; i < n; i++) {
    const line = msgs[i] as string;
    const level = levels[i] as Level;
    if (level === 'error' || level === 'fail') {
      const t = errTemplate[i] as string;
      const seen = (seenErr.get(t) ?? 0) + 1;
      seenErr.set(t, seen);
      if (ctx.keepAllErrors || seen <= 3 || lastOfTemplate.get(t) === i) keepRange(i - CONTEXT, i + CONTEXT);
    } else if (level === 'warn') {
      const t = lineTemplate(line);
      if (!warnTemplates.has(t) && warnTemplates.size < MAX_WARN_TEMPLATES) {
        warnTemplates.add(t);
        keep[i] = 1;
      }
    }
    if (SUMMARY_RE.test(line)) keep[i] = 1;
    if (steps < MAX_STEPS && isStep(lines[i] as string)) {
      keep[i] = 1;
      steps++;
    }
    if (lowerQuery && matchesAnchor(ctx.query, (lines[i] as string).toLowerCase())) keepRange(i - 1, i + 1);
    // stack traces and failure blocks: the opening line (or an error line followed, after at
    // most one blank line, by indented frames or details) plus what follows
    const failing = level === 'error' || level === 'fail';
    const next = i + 1 < n && (msgs[i + 1] as string).trim() === '' ? i + 2 : i + 1;
    const opens = TRACE_START_RE.test(line) || (failing && next < n && TRACE_LINE_RE.test(msgs[next] as string));
    if (opens) {
      let j = i + 1;
      while (j < n && j - i < 400 && (TRACE_LINE_RE.test(msgs[j] as string) || (msgs[j] as string).trim() === '')) j++;
      // a Python trace ends with the exception line (`ValueError: boom`)
      if (j < n && /^[A-Z][\w.]*(?:Error|Exception|Exit|Interrupt)\b/.test(msgs[j] as string)) j++;
      if (traces < MAX_TRACES || ctx.keepAllErrors) {
        keepRange(i, Math.min(j - 1, i + MAX_TRACE_LINES - 1));
        if (j - 1 > i + MAX_TRACE_LINES - 1) keep[j - 1] = 1;
      }
      traces++;
    }
    if ((i & 1023) === 0 && ctx.expired()) return null;
  }
  keepRange(0, HEAD - 1);
  // the tail, ignoring trailing empty lines
  let end = n - 1;
  while (end > 0 && (msgs[end] as string).trim() === '') end--;
  keepRange(end - TAIL + 1, end);

  let kept = 0;
  for (let i = 0; i < n; i++) kept += keep[i] as number;
  if (kept >= 0.6 * n) return null;

  const out: string[] = [];
  const omitted: Record<Level, number> = { error: 0, fail: 0, warn: 0, info: 0, debug: 0, trace: 0, other: 0 };
  let gap = 0;
  for (let i = 0; i < n; i++) {
    if (keep[i]) {
      if (gap) out.push(`... ${gap} line${gap === 1 ? '' : 's'} omitted ...`);
      gap = 0;
      out.push(lines[i] as string);
    } else {
      gap++;
      omitted[levels[i] as Level]++;
    }
  }
  if (gap) out.push(`... ${gap} line${gap === 1 ? '' : 's'} omitted ...`);
  const parts: string[] = [];
  for (const [lvl, label] of [['error', 'ERROR'], ['fail', 'FAIL'], ['warn', 'WARN'], ['info', 'INFO'], ['debug', 'DEBUG'], ['trace', 'TRACE'], ['other', 'other']] as const) {
    if (omitted[lvl]) parts.push(`${omitted[lvl]} ${label}`);
  }
  out.push(formatMarker(ctx.hash, shownSummary(kept, n, 'lines', parts.length ? `omitted: ${parts.join(', ')}` : undefined)));
  const result = out.join('\n');
  if (result.length >= text.length) return null;
  return { text: result, transform: 'log_compressor', lossy: true, originalItems: n, keptItems: kept, unit: 'lines' };
}
