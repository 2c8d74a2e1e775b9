/**
 * Routes one text to the transform for its kind. Texts that hold protected blocks (custom
 * tags, code fences) or embedded JSON are split into sections first; each section is routed
 * on its own and protected ones are copied verbatim.
 */
import { detectContent } from './detect.js';
import { compressDiff } from './transforms/diff.js';
import { compressHtml } from './transforms/html.js';
import { crushJson } from './transforms/json-crusher.js';
import { compressListing } from './transforms/listing.js';
import { compressLog } from './transforms/log.js';
import { compressPlan } from './transforms/plan.js';
import { compressSearch } from './transforms/search.js';
import { splitSections } from './transforms/sections.js';
import { compressProse } from './transforms/text.js';
import { compressTextTable } from './transforms/text-table.js';
import type { ContentKind, TransformContext, TransformOutput } from './types.js';

export interface RouteResult {
  text: string;
  transforms: string[];
  lossy: boolean;
  originalItems: number;
  keptItems: number;
  unit: string;
}

/** Sections shorter than this are left alone inside mixed content. */
const MIN_SECTION_CHARS = 800;

function single(kind: ContentKind, text: string, ctx: TransformContext): TransformOutput | null {
  // only the JSON crusher has a lossless form; every other transform cuts
  if (ctx.losslessOnly && kind !== 'json' && kind !== 'jsonl') return null;
  switch (kind) {
    case 'json':
      return crushJson(text, ctx, false);
    case 'jsonl':
      return crushJson(text, ctx, true);
    case 'diff':
      return compressDiff(text, ctx);
    case 'html':
      return compressHtml(text, ctx);
    case 'search':
      return compressSearch(text, ctx);
    case 'log':
      return compressLog(text, ctx);
    case 'plan':
      return compressPlan(text, ctx);
    case 'table':
      return compressTextTable(text, ctx);
    case 'listing':
      return compressListing(text, ctx);
    case 'text':
      // prose is cut by sentence scores: it cannot promise to keep every error line
      return ctx.keepAllErrors ? null : compressProse(text, ctx);
    default:
      return null; // source code and empty text are not compressed
  }
}

const asRoute = (o: TransformOutput): RouteResult => ({
  text: o.text,
  transforms: [o.transform],
  lossy: o.lossy,
  originalItems: o.originalItems,
  keptItems: o.keptItems,
  unit: o.unit,
});

export function routeText(text: string, ctx: TransformContext, kind: ContentKind = detectContent(text)): RouteResult | null {
  if (kind === 'json' || kind === 'jsonl' || kind === 'diff' || kind === 'html' || kind === 'code' || kind === 'empty') {
    const o = single(kind, text, ctx);
    return o ? asRoute(o) : null;
  }
  const sections = splitSections(text);
  if (sections.length === 1 && sections[0]?.kind === 'free') {
    const o = single(kind, text, ctx);
    return o ? asRoute(o) : null;
  }
  let changed = false;
  let lossy = false;
  let originalItems = 0;
  let keptItems = 0;
  let unit = '';
  const transforms: string[] = [];
  const parts: string[] = [];
  for (const s of sections) {
    if (s.kind === 'protected' || s.text.length < MIN_SECTION_CHARS || ctx.expired()) {
      parts.push(s.text);
      continue;
    }
    const lead = /^\s*/.exec(s.text)?.[0] ?? '';
    const core = s.text.trim();
    const trail = /\s*$/.exec(s.text.slice(lead.length))?.[0] ?? '';
    const o = single(s.kind === 'json' ? 'json' : detectContent(core), core, ctx);
    if (!o) {
      parts.push(s.text);
      continue;
    }
    changed = true;
    lossy ||= o.lossy;
    originalItems += o.originalItems;
    keptItems += o.keptItems;
    unit ||= o.unit;
    if (!transforms.includes(o.transform)) transforms.push(o.transform);
    parts.push(lead + o.text + trail);
  }
  if (!changed) return null;
  return { text: parts.join(''), transforms, lossy, originalItems, keptItems, unit };
}
