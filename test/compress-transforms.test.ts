import { describe, expect, it } from 'vitest';
import { detectContent } from '../src/compress/detect.js';
import { findMarkers } from '../src/compress/markers.js';
import { routeText } from '../src/compress/router.js';
import { compressDiff } from '../src/compress/transforms/diff.js';
import { compressHtml, extractHtmlText } from '../src/compress/transforms/html.js';
import { compressListing } from '../src/compress/transforms/listing.js';
import { compressLog, levelOf } from '../src/compress/transforms/log.js';
import { compressSearch } from '../src/compress/transforms/search.js';
import { customTagSpans, splitSections } from '../src/compress/transforms/sections.js';
import { compressProse } from '../src/compress/transforms/text.js';
import { generateOutput, OUTPUT_TYPES } from '../src/mock/agent-outputs.js';
import { tctx } from './helpers/compress.js';

describe('content detection', () => {
  it('recognises every generated tool output type', () => {
    const expected: Record<string, string> = {
      search_json: 'json', logs_json: 'json', api_listing: 'json', db_rows: 'json', grep: 'search', build_log: 'log',
      service_log: 'log', diff: 'diff', file_listing: 'listing', prose: 'text', html: 'html',
    };
    for (const type of OUTPUT_TYPES) expect(detectContent(generateOutput(type, 20_000, 1).text), type).toBe(expected[type]);
  });

  it('recognises JSON Lines, code and empty text', () => {
    expect(detectContent('{"a":1}\n{"a":2}\n{"a":3}\n')).toBe('jsonl');
    expect(detectContent('import x from "y";\nexport function f() {\n  return 1;\n}\nconst a = 2;\n')).toBe('code');
    expect(detectContent('   ')).toBe('empty');
    expect(detectContent('[12:00:01] INFO started\n[12:00:02] INFO ok\n[12:00:03] ERROR boom\n[12:00:04] INFO a\n[12:00:05] INFO b')).toBe('log');
  });
});

describe('log compressor', () => {
  const lines: string[] = [];
  for (let i = 0; i < 300; i++) lines.push(`2026-03-01T10:00:${String(i % 60).padStart(2, '0')}Z INFO [api] request ${i} ok in ${i % 97}ms`);
  lines.splice(100, 0, '2026-03-01T10:01:40Z WARN [api] slow query 812ms', '2026-03-01T10:01:41Z WARN [api] slow query 944ms');
  lines.splice(200, 0, '2026-03-01T10:03:20Z ERROR [db] connection refused: db-3:5432', 'Traceback (most recent call last):', '  File "/srv/db.py", line 12, in connect', '    sock.connect(addr)', 'ConnectionRefusedError: [Errno 111] Connection refused');
  lines.push('Ran 300 requests: 299 passed, 1 failed');
  const text = lines.join('\n');

  it('keeps errors with context, the trace, one line per warning template, summaries, head and tail', () => {
    const out = compressLog(text, tctx())!;
    expect(out.transform).toBe('log_compressor');
    const kept = out.text.split('\n');
    expect(kept).toContain('2026-03-01T10:03:20Z ERROR [db] connection refused: db-3:5432');
    expect(kept).toContain('ConnectionRefusedError: [Errno 111] Connection refused');
    expect(kept).toContain('  File "/srv/db.py", line 12, in connect');
    expect(kept).toContain('2026-03-01T10:01:40Z WARN [api] slow query 812ms');
    expect(kept).not.toContain('2026-03-01T10:01:41Z WARN [api] slow query 944ms');
    expect(kept).toContain('Ran 300 requests: 299 passed, 1 failed');
    expect(kept[0]).toBe(lines[0]);
    expect(kept.some((l) => /^\.\.\. \d+ lines omitted \.\.\.$/.test(l))).toBe(true);
    const marker = kept.at(-1)!;
    expect(marker).toMatch(/^\[headroom: \d+ of 308 lines shown \(abbreviated; omitted: 1 WARN, \d+ INFO\)/);
    expect(findMarkers(marker)).toHaveLength(1);
  });

  it('leaves short logs alone and classifies levels by the leftmost keyword', () => {
    expect(compressLog(lines.slice(0, 20).join('\n'), tctx())).toBeNull();
    expect(levelOf('INFO retry after error')).toBe('info');
    expect(levelOf('npm ERR! code E404')).toBe('error');
    expect(levelOf('FAILED tests/test_x.py::test_a')).toBe('fail');
  });

  it('keeps the first three and the last occurrence of a repeated error', () => {
    const rep = Array.from({ length: 200 }, (_, i) => (i % 4 === 0 ? `ERROR worker ${i} lost heartbeat` : `INFO tick ${i}`)).join('\n');
    const out = compressLog(rep, tctx())!;
    expect(out.text).toContain('ERROR worker 0 lost heartbeat');
    expect(out.text).toContain('ERROR worker 8 lost heartbeat');
    expect(out.text).toContain('ERROR worker 196 lost heartbeat');
    expect(out.text).not.toContain('ERROR worker 100 lost heartbeat');
  });
});

describe('search compressor', () => {
  it('keeps anchor and error matches, groups per file with caps, lists what it left out', () => {
    const s = generateOutput('grep', 60_000, 2);
    const out = compressSearch(s.text, tctx(s.query))!;
    for (const n of s.needles) expect(out.text).toContain(n);
    expect(out.keptItems).toBeLessThan(60);
    expect(out.text).toMatch(/\[more matches in shown files: /);
    expect(out.text.split('\n').at(-1)).toMatch(/^\[headroom: \d+ of \d+ matches shown \(abbreviated; \d+ files\)/);
  });

  it('ignores texts that are not mostly matches', () => {
    expect(compressSearch('just\nsome\ntext', tctx())).toBeNull();
  });
});

describe('diff compressor', () => {
  it('trims context to two lines with exact hunk headers and keeps every changed line of shown files', () => {
    const ctxLines = Array.from({ length: 30 }, (_, i) => ` line ${i}`);
    const hunk = [...ctxLines.slice(0, 10), '-old value', '+new value', ...ctxLines.slice(10, 30)];
    const diff = ['diff --git a/x.ts b/x.ts', 'index 1..2 100644', '--- a/x.ts', '+++ b/x.ts', '@@ -1,31 +1,31 @@ function f()', ...hunk, ...ctxLines.slice(0, 20)].join('\n');
    const out = compressDiff(diff, tctx())!;
    const lines = out.text.split('\n');
    expect(lines.slice(0, 4)).toEqual(['diff --git a/x.ts b/x.ts', 'index 1..2 100644', '--- a/x.ts', '+++ b/x.ts']);
    expect(lines[4]).toBe('@@ -9,5 +9,5 @@ function f()');
    expect(lines.slice(5, 10)).toEqual([' line 8', ' line 9', '-old value', '+new value', ' line 10']);
    expect(out.text).toMatch(/\[diff: 1 files changed, \+1 -1\]/);
  });

  it('caps files, preferring those that match the question, and names the files it left out', () => {
    const s = generateOutput('diff', 300_000, 4);
    const out = compressDiff(s.text, tctx(s.query))!;
    expect(out.text).toContain(s.needles[0]);
    expect(out.text).toMatch(/\[files not shown: /);
    expect((out.text.match(/^diff --git /gm) ?? []).length).toBe(20);
  });
});

describe('prose, HTML and listings', () => {
  it('prose keeps the sentences relevant to the question, in order, and drops duplicates', () => {
    const s = generateOutput('prose', 30_000, 6);
    const dup = 'This exact sentence is repeated to pad the document.';
    const text = `${dup}\n${s.text}\n${dup}\n${dup}`;
    const out = compressProse(text, tctx(s.query))!;
    expect(out.text).toContain(s.needles[0]);
    expect(out.text.split(dup).length - 1).toBeLessThanOrEqual(1);
    expect(out.text.length).toBeLessThan(text.length * 0.6);
  });

  it('HTML keeps headings, list items and text; drops scripts, styles and navigation', () => {
    const html = '<html><head><title>T</title><script>var x=1</script></head><body><nav>Home | Docs</nav><h1>Billing</h1><p>Refunds take &lt;5&gt; days&nbsp;now.</p><ul><li>One</li><li>Two</li></ul></body></html>';
    const text = extractHtmlText(html);
    expect(text).toBe('T\n\n# Billing\nRefunds take <5> days now.\n- One\n- Two');
    const s = generateOutput('html', 40_000, 7);
    const out = compressHtml(s.text, tctx(s.query))!;
    expect(out.text).toContain(s.needles[0]);
    expect(out.text).not.toContain('<section');
    expect(findMarkers(out.text)).toHaveLength(1);
  });

  it('listings group entries by directory and keep matches of the question', () => {
    const s = generateOutput('file_listing', 30_000, 8);
    const out = compressListing(s.text, tctx(s.query))!;
    expect(out.text).toContain(s.needles[0]);
    expect(out.text).toMatch(/\[\.\.\. \d+ more in \.\/[\w/]+\/: \d+ \.\w+/);
  });
});

describe('tag protection and mixed content', () => {
  it('finds custom tag blocks (nested, self-closing) and ignores HTML elements', () => {
    const t = 'a <system-reminder>x <b>y</b> <system-reminder>in</system-reminder></system-reminder> b <note/> <div>d</div> <open>';
    const spans = customTagSpans(t).map((s) => t.slice(s.start, s.end));
    expect(spans).toEqual(['<system-reminder>x <b>y</b> <system-reminder>in</system-reminder></system-reminder>', '<note/>']);
  });

  it('compresses the log around a system reminder and keeps the reminder verbatim', () => {
    const s = generateOutput('service_log', 20_000, 9);
    const reminder = '<system-reminder>\nThe user prefers short answers. Do not mention this reminder.\n</system-reminder>';
    const text = `${s.text}\n${reminder}`;
    const out = routeText(text, tctx(s.query))!;
    expect(out.transforms).toEqual(['log_compressor']);
    expect(out.text.endsWith(reminder)).toBe(true);
    for (const n of s.needles) expect(out.text).toContain(n);
  });

  it('routes an embedded JSON document separately from the text around it', () => {
    const rows = Array.from({ length: 200 }, (_, i) => ({ id: i, name: `item ${i}`, ok: true }));
    const text = `Here are the results:\n${JSON.stringify(rows, null, 2)}\n\nDone.\n\`\`\`ts\nconst keep = 'this fence';\n\`\`\``;
    const sections = splitSections(text);
    expect(sections.map((x) => x.kind)).toEqual(['free', 'json', 'free', 'protected']);
    const out = routeText(text, tctx())!;
    expect(out.text.startsWith('Here are the results:\n[table: ')).toBe(true);
    expect(out.text.endsWith("```ts\nconst keep = 'this fence';\n```")).toBe(true);
  });

  it('treats heavy markup (XML) as protected and stops looking for closes of generics', () => {
    const xml = `<project>${Array.from({ length: 700 }, (_, i) => `<dependency><artifactId>lib-${i}</artifactId></dependency>`).join('\n')}</project>`;
    expect(customTagSpans(xml)).toEqual([{ start: 0, end: xml.length }]);
    const generics = Array.from({ length: 2000 }, (_, i) => `const m${i}: Map<string, Array<number>> = new Map();`).join('\n');
    expect(customTagSpans(generics)).toEqual([]);
  });

  it('leaves source code alone', () => {
    const code = Array.from({ length: 200 }, (_, i) => `export function f${i}(x: number) {\n  return x + ${i};\n}`).join('\n');
    expect(routeText(code, tctx())).toBeNull();
  });
});
