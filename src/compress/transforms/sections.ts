/**
 * Splits a text into sections that are routed separately: protected blocks (custom XML-like
 * tags such as `<system-reminder>...</system-reminder>`, fenced code blocks, PEM blocks and
 * line-wrapped base64) stay verbatim; embedded JSON documents and the free text between them
 * are compressed on their own. Base64 is never cut line by line: a partial key or certificate
 * is worthless, and its lines carry no meaning a selection could rank.
 */

export type SectionKind = 'protected' | 'json' | 'free';

export interface Section {
  kind: SectionKind;
  text: string;
}

const HTML_ELEMENTS = new Set(
  ('a abbr address area article aside audio b base bdi bdo blockquote body br button canvas caption cite code col colgroup ' +
    'data datalist dd del details dfn dialog div dl dt em embed fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 ' +
    'head header hgroup hr html i iframe img input ins kbd label legend li link main map mark menu meta meter nav noscript ' +
    'object ol optgroup option output p param picture pre progress q rp rt ruby s samp script search section select slot ' +
    'small source span strong style sub summary sup svg table tbody td template textarea tfoot th thead time title tr track ' +
    'u ul var video wbr font center big tt strike').split(' '),
);

const OPEN_TAG_RE = /<([A-Za-z_][\w.:-]*)(?:\s(?:"[^"]*"|'[^']*'|[^'">])*)?(\/?)>/g;
/** Past this many custom blocks the text is markup (XML and the like): all of it is protected. */
const MAX_SPANS = 500;

interface Span {
  start: number;
  end: number;
}

/** Custom-tag blocks (`<x>...</x>`, `<x/>`), outermost only. HTML element names are ignored. */
export function customTagSpans(text: string): Span[] {
  const spans: Span[] = [];
  if (!text.includes('<')) return spans;
  const openers = new Map<string, RegExp>();
  const noClose = new Set<string>();
  let unmatched = 0;
  OPEN_TAG_RE.lastIndex = 0;
  for (let m = OPEN_TAG_RE.exec(text); m; m = OPEN_TAG_RE.exec(text)) {
    if (spans.length >= MAX_SPANS) return [{ start: 0, end: text.length }];
    if (unmatched > MAX_SPANS) break; // generics like `Array<string>` in code: stop searching for closes
    const name = m[1] as string;
    if (HTML_ELEMENTS.has(name.toLowerCase())) continue;
    const start = m.index;
    if (m[2] === '/') {
      spans.push({ start, end: start + m[0].length });
      continue;
    }
    // a name whose close tag is nowhere after this open (`<none>` cells of kubectl output)
    // cannot close later either: remembered, so each name costs one scan
    if (noClose.has(name)) {
      unmatched++;
      continue;
    }
    // the matching close, counting nested same-name opens
    let openRe = openers.get(name);
    if (!openRe) openers.set(name, (openRe = new RegExp(`<${escapeRe(name)}(?=[\\s>/])`, 'g')));
    const close = `</${name}>`;
    let depth = 1;
    let at = start + m[0].length;
    let end = -1;
    while (depth > 0) {
      const c = text.indexOf(close, at);
      if (c === -1) break;
      openRe.lastIndex = at;
      let o = openRe.exec(text);
      while (o && o.index < c) {
        depth++;
        o = openRe.exec(text);
      }
      depth--;
      at = c + close.length;
      if (depth === 0) end = at;
    }
    if (end === -1) {
      if (text.indexOf(close, start) === -1) noClose.add(name);
      unmatched++;
      continue; // unmatched open tags are ordinary text
    }
    spans.push({ start, end });
    OPEN_TAG_RE.lastIndex = end;
  }
  return spans;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function fenceSpans(text: string): Span[] {
  const spans: Span[] = [];
  const re = /^(\s*)(```|~~~)[^\n]*\n/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const fence = m[2] as string;
    const closeRe = new RegExp(`^\\s*${fence}\\s*$`, 'gm');
    closeRe.lastIndex = m.index + m[0].length;
    const c = closeRe.exec(text);
    const end = c ? c.index + c[0].length : text.length;
    spans.push({ start: m.index, end });
    re.lastIndex = end;
  }
  return spans;
}

const PEM_BEGIN_RE = /^[ \t]*-----BEGIN ([A-Z0-9 ]{1,60})-----[ \t]*$/gm;
/** A line of wrapped base64 (40+ characters; at least one that is not a hex digit, so hash lists are not taken). */
const B64_LINE_RE = /^[ \t]*(?=[A-Za-z0-9+/]*[g-zG-Z+/])[A-Za-z0-9+/]{40,}={0,2}[ \t]*$/;
const MIN_B64_LINES = 3;

/** PEM blocks (`-----BEGIN X-----` ... `-----END X-----`) and runs of equal-width base64 lines. */
export function base64Spans(text: string): Span[] {
  const spans: Span[] = [];
  if (text.includes('-----BEGIN ')) {
    PEM_BEGIN_RE.lastIndex = 0;
    for (let m = PEM_BEGIN_RE.exec(text); m; m = PEM_BEGIN_RE.exec(text)) {
      const endMark = `-----END ${m[1] as string}-----`;
      const e = text.indexOf(endMark, m.index + m[0].length);
      if (e === -1) continue;
      const end = e + endMark.length;
      spans.push({ start: m.index, end });
      PEM_BEGIN_RE.lastIndex = end;
    }
  }
  // runs of wrapped base64 outside PEM blocks: equal widths, the last line may be shorter
  let at = 0;
  let runStart = -1;
  let runEnd = -1;
  let width = -1;
  let count = 0;
  let closed = false;
  const flush = () => {
    if (count >= MIN_B64_LINES && !spans.some((s) => runStart >= s.start && runStart < s.end)) spans.push({ start: runStart, end: runEnd });
    runStart = -1;
    count = 0;
    width = -1;
    closed = false;
  };
  while (at <= text.length) {
    const nl = text.indexOf('\n', at);
    const end = nl === -1 ? text.length : nl;
    if (end - at < 16) {
      flush();
      if (nl === -1) break;
      at = nl + 1;
      continue;
    }
    const line = text.slice(at, end);
    const w = line.trim().length;
    if (w >= 16 && (w >= 40 || count > 0) && !closed && (count === 0 || w <= width) && (w >= 40 ? B64_LINE_RE.test(line) : /^[ \t]*[A-Za-z0-9+/]+={0,2}[ \t]*$/.test(line))) {
      if (count === 0) {
        runStart = at;
        width = w;
      } else if (w < width) closed = true; // a shorter line ends the block
      runEnd = end;
      count++;
    } else {
      flush();
    }
    if (nl === -1) break;
    at = nl + 1;
  }
  flush();
  return spans.sort((a, b) => a.start - b.start);
}

/** A balanced JSON document starting at `start` (which holds `{` or `[`), or -1. */
function jsonEnd(text: string, start: number): number {
  let depth = 0;
  let inStr = false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inStr) {
      if (c === 92) i++;
      else if (c === 34) inStr = false;
      continue;
    }
    if (c === 34) inStr = true;
    else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

function jsonSpans(text: string, taken: Span[]): Span[] {
  const spans: Span[] = [];
  const re = /^[ \t]*[[{]/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const start = m.index + m[0].length - 1;
    if (taken.some((s) => start >= s.start && start < s.end)) continue;
    const end = jsonEnd(text, start);
    if (end === -1 || end - start < 200) continue;
    re.lastIndex = end; // a span that is not JSON is not rescanned line by line
    try {
      JSON.parse(text.slice(start, end));
    } catch {
      continue;
    }
    spans.push({ start, end });
  }
  return spans;
}

/** Sections of `text` in order. A text with a single free section needs no splitting. */
export function splitSections(text: string): Section[] {
  const fences = fenceSpans(text);
  const tags = customTagSpans(text).filter((t) => !fences.some((f) => t.start < f.end && t.end > f.start));
  const b64 = base64Spans(text).filter((t) => ![...fences, ...tags].some((f) => t.start < f.end && t.end > f.start));
  const protectedSpans = [...fences, ...tags, ...b64].sort((a, b) => a.start - b.start);
  const json = jsonSpans(text, protectedSpans);
  const all = [...protectedSpans.map((s) => ({ ...s, kind: 'protected' as const })), ...json.map((s) => ({ ...s, kind: 'json' as const }))].sort((a, b) => a.start - b.start);
  const out: Section[] = [];
  let at = 0;
  for (const s of all) {
    if (s.start < at) continue;
    if (s.start > at) out.push({ kind: 'free', text: text.slice(at, s.start) });
    out.push({ kind: s.kind, text: text.slice(s.start, s.end) });
    at = s.end;
  }
  if (at < text.length) out.push({ kind: 'free', text: text.slice(at) });
  return out;
}
