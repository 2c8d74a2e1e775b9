/**
 * Content detection: what a tool output looks like, from cheap checks on its first lines.
 * Order: JSON (a document, or JSON Lines), unified diff, HTML, infrastructure plans
 * (terraform/tofu, helm diff), search results (`path:line:content`), tables (`kubectl get`,
 * `docker ps`, `psql`, CSV), build/test/log output, file listings, source code, else plain
 * text. Log lines are judged by their message behind timestamps, BuildKit step
 * numbers, service columns and ANSI codes; a timestamp or step prefix is itself a log sign.
 */
import { splitLogPrefix } from './log-prefix.js';
import { parseJsonExact } from './transforms/json-values.js';
import { looksLikeListing } from './transforms/listing.js';
import { looksLikePlan } from './transforms/plan.js';
import { looksLikeTextTable } from './transforms/text-table.js';
import type { ContentKind } from './types.js';

const DIFF_HEADER_RE = /^(?:diff --git |diff --combined |diff --cc |diff (?:-[\w=-]+ )+\S|--- a\/|\+\+\+ b\/|@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@|@@@ )/;
/** `path:12:content`, `path:12:3:content`, ripgrep context `path-12-content` (path needs a `/` or `.`). */
export const SEARCH_LINE_RE = /^(?:[A-Za-z]:[\\/])?(?:(?=[^\s:]*[A-Za-z/._])[^\s:[\]]+:\d+[:-]|(?=[^\s:]*[/.])[^\s:[\]]+?-\d+-)/;
const LOG_LINE_RE =
  /\b(?:ERROR|FAIL|FAILED|FATAL|CRITICAL|WARN|WARNING|INFO|DEBUG|TRACE|PASSED|SKIPPED)\b|^\s*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|^\[?\d{2}:\d{2}:\d{2}|^(?:={3,}|-{3,})|^npm (?:ERR!|WARN|warn|http|timing|verb|info|notice|sill)\b|npm ERR!|^Requirement already satisfied: |^(?:=== RUN|--- (?:PASS|FAIL|SKIP):) |^error(?:\[E\d+\])?:|^warning:|Traceback \(most recent call last\)|^\s+at [\w$.<>]+ ?\(|^\s+File ".+", line \d+|^\s*(?:Compiling|Finished|Running|Building|Downloading|Installing|Collecting)\b|^\s*(?:PASS|FAIL) {1,2}\S|^\s*[✓✔✕✗×●] |^##\[(?:group|endgroup|error|warning)\]|\b[A-Z][A-Za-z]*(?:Error|Exception): |^panic: /;
const CODE_LINE_RE =
  /^\s*(?:def |class |import |from \S+ import |function |const |let |var |export |return\b|if \(|for \(|while \(|} else|public |private |protected |static |func |package |fn |impl |use \w|pub |struct |enum |interface |type \w+ =|#include|@\w+|\/\/|\/\*|\* |[})\]];?$)/;
const STRUCT_TAG_RE = /<(?:div|span|script|style|link|meta|nav|header|footer|aside|article|section|main|table|p|a|ul|li)\b/gi;

function firstLines(text: string, max: number): string[] {
  const out: string[] = [];
  let at = 0;
  while (out.length < max && at <= text.length) {
    const nl = text.indexOf('\n', at);
    const end = nl === -1 ? text.length : nl;
    out.push(text.slice(at, end).replace(/\r$/, ''));
    if (nl === -1) break;
    at = nl + 1;
  }
  return out;
}

function looksLikeJson(t: string): boolean {
  const c = t[0];
  const last = t[t.length - 1];
  if (!((c === '[' && last === ']') || (c === '{' && last === '}'))) return false;
  try {
    parseJsonExact(t);
    return true;
  } catch {
    return false;
  }
}

function looksLikeJsonl(lines: string[]): boolean {
  const nonEmpty = lines.filter((l) => l.trim());
  if (nonEmpty.length < 3) return false;
  for (const l of nonEmpty) {
    const t = l.trim();
    if (t[0] !== '{' || t[t.length - 1] !== '}') return false;
  }
  return true;
}

export function detectContent(text: string): ContentKind {
  const t = text.trim();
  if (!t) return 'empty';
  if ((t[0] === '[' || t[0] === '{') && looksLikeJson(t)) return 'json';
  const lines = firstLines(t, 500);
  if (t[0] === '{' && looksLikeJsonl(lines)) {
    try {
      for (const l of t.split('\n')) if (l.trim()) JSON.parse(l);
      return 'jsonl';
    } catch {
      // not JSON Lines after all
    }
  }

  let headers = 0;
  let changes = 0;
  for (const l of lines) {
    if (DIFF_HEADER_RE.test(l)) headers++;
    else if (/^[+-][^+-]/.test(l)) changes++;
  }
  if (headers >= 1 && (lines.some((l) => l.startsWith('@@')) || headers >= 2) && 0.5 + 0.2 * headers + 0.05 * changes >= 0.7) return 'diff';

  const head = t.slice(0, 3000);
  const doctype = /<!doctype html/i.test(head);
  const html = /<html[\s>]/i.test(head);
  const structural = head.match(STRUCT_TAG_RE)?.length ?? 0;
  if (doctype || html || structural >= 3) {
    const conf = (doctype ? 0.5 : 0) + (html ? 0.3 : 0) + (/<head[\s>]/i.test(head) ? 0.1 : 0) + (/<body[\s>]/i.test(head) ? 0.1 : 0) + Math.min(0.3, 0.03 * structural);
    if (conf >= 0.7 || structural >= 10) return 'html';
  }

  if (looksLikePlan(head, lines)) return 'plan';

  const sample = lines.slice(0, 200);
  const nonEmpty = sample.filter((l) => l.trim());
  const ne = Math.max(1, nonEmpty.length);
  let search = 0;
  for (const l of nonEmpty.slice(0, 100)) if (SEARCH_LINE_RE.test(l) && !/^\s*\d{4}-\d{2}-\d{2}/.test(l) && !/^https?:/.test(l)) search++;
  if (search / Math.min(ne, 100) >= 0.5) return 'search';
  if (looksLikeTextTable(lines)) return 'table';

  let logHits = 0;
  for (const l of nonEmpty) {
    const p = splitLogPrefix(l);
    if (p.stamped || LOG_LINE_RE.test(p.message)) logHits++;
  }
  let codeHits = 0;
  for (const l of nonEmpty.slice(0, 100)) if (CODE_LINE_RE.test(l)) codeHits++;
  const codeRatio = codeHits / Math.min(ne, 100);
  const logRatio = logHits / ne;
  if (codeRatio >= 0.3 && codeHits >= 3 && codeRatio > logRatio) return 'code';
  if (logRatio >= 0.1 && nonEmpty.length >= 5) return 'log';
  if (looksLikeListing(sample)) return 'listing';
  if (codeRatio >= 0.3 && codeHits >= 3) return 'code';
  return 'text';
}
