/**
 * HTML pages: the readable text is extracted (scripts, styles, navigation, headers, footers
 * and markup dropped; headings, list items, table cells and links kept as text), then the
 * prose compressor shortens it further when it is still long.
 */
import { formatMarker } from '../markers.js';
import type { TransformContext, TransformOutput } from '../types.js';
import { compressProse } from './text.js';

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', ndash: '-', mdash: '-', hellip: '...', copy: '(c)', reg: '(R)', laquo: '"', raquo: '"', rsquo: "'", lsquo: "'", rdquo: '"', ldquo: '"' };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code < 0x110000 ? String.fromCodePoint(code) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

export function extractHtmlText(html: string): string {
  let s = html
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(script|style|noscript|svg|template|iframe|canvas|head|nav|footer|aside|form|button|select)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<(header)\b[^>]*>[\s\S]*?<\/header\s*>/gi, ' ');
  const titleMatch = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html);
  s = s
    .replace(/<h([1-6])\b[^>]*>/gi, (_m, l: string) => `\n${'#'.repeat(Number(l))} `)
    .replace(/<li\b[^>]*>/gi, '\n- ')
    .replace(/<(td|th)\b[^>]*>/gi, ' | ')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|section|article|main|h[1-6]|tr|table|ul|ol|pre|blockquote|dd|dt)\s*>/gi, '\n')
    .replace(/<[^>]+>/g, '');
  s = decodeEntities(s)
    .replace(/[ \t\f\v\u00a0]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/\n{2,}- /g, '\n- ')
    .trim();
  const title = titleMatch ? decodeEntities(titleMatch[1] as string).replace(/\s+/g, ' ').trim() : '';
  return title && !s.startsWith(title) ? `${title}\n\n${s}` : s;
}

export function compressHtml(html: string, ctx: TransformContext): TransformOutput | null {
  const text = extractHtmlText(html);
  if (!text || text.length >= html.length * 0.9) return null;
  // an error page keeps all of its text
  const prose = ctx.keepAllErrors ? null : compressProse(text, ctx);
  const body = prose ? prose.text.slice(0, prose.text.lastIndexOf('\n[headroom: ')) : text;
  const shown = body.length;
  const summary = prose
    ? `text extracted from HTML and shortened (${html.length} characters of HTML, ${prose.keptItems} of ${prose.originalItems} sentences shown)`
    : `text extracted from HTML (${html.length} characters of HTML, markup omitted)`;
  const result = `${body}\n${formatMarker(ctx.hash, summary)}`;
  if (result.length >= html.length) return null;
  return { text: result, transform: 'html_extractor', lossy: true, originalItems: html.length, keptItems: shown, unit: 'characters' };
}
