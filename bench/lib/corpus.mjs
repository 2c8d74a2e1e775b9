// The benchmark corpus: locating the shared cases, loading them and the project's own, reading
// the tool outputs of a request, and checking which evidence strings survived compression.
// Used by `npm run bench:corpus` and by test/compress-corpus.test.ts (so both judge alike).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const OWN_CORPUS = join(REPO, 'bench/corpus');
const SHARED_REL = 'shared/corpus/headroom-benchmarks';

/**
 * The shared corpus: `HEADROOM_CORPUS_DIR`, else `../shared/corpus/headroom-benchmarks` next to
 * the checkout (or next to one of its parent directories, for checkouts nested one level
 * deeper). Null when it is nowhere.
 */
export function sharedCorpusDir() {
  const env = process.env.HEADROOM_CORPUS_DIR;
  if (env) return existsSync(env) ? resolve(env) : null;
  let dir = dirname(REPO);
  for (let i = 0; i < 3; i++) {
    const candidate = join(dir, SHARED_REL);
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

/** Every `*.json` case of a directory, sorted by file name, with its source directory. */
export function loadCases(dir, origin) {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ ...JSON.parse(readFileSync(join(dir, f), 'utf8')), file: f, origin }));
}

const textOf = (content) => {
  if (typeof content === 'string') return [content];
  if (!Array.isArray(content)) return [];
  return content.filter((p) => p && typeof p === 'object' && typeof p.text === 'string').map((p) => p.text);
};

/** The tool outputs of a message list: OpenAI `tool` messages, Anthropic `tool_result` blocks. */
export function toolTexts(format, messages) {
  const out = [];
  for (const m of messages) {
    if (!m || typeof m !== 'object') continue;
    if (format === 'openai') {
      if (m.role === 'tool') out.push(...textOf(m.content));
      continue;
    }
    if (!Array.isArray(m.content)) continue;
    for (const b of m.content) if (b && b.type === 'tool_result') out.push(...textOf(b.content));
  }
  return out;
}

const label = (e) => (typeof e === 'string' ? e : `/${e.re}/`);
const found = (e, text) => (typeof e === 'string' ? text.includes(e) : new RegExp(e.re).test(text));

/**
 * Which evidence items survive: each is looked for in the tool outputs after compression (or,
 * when the original tool outputs never held it, in the whole message list). Exact,
 * case-sensitive matching.
 */
export function checkEvidence(c, before, after, afterMessages) {
  const beforeText = before.join('\n');
  const afterText = after.join('\n');
  const whole = JSON.stringify(afterMessages);
  const kept = [];
  const lost = [];
  for (const e of c.evidence ?? []) {
    const inTools = found(e, beforeText);
    (found(e, inTools ? afterText : whole) ? kept : lost).push(label(e));
  }
  return { kept, lost };
}

/** The request a case sends, as the agent would: its model, system, tools and messages. */
export function requestOf(c, model) {
  if (c.format === 'anthropic') {
    return { model, max_tokens: 1024, ...(c.system ? { system: c.system } : {}), ...(c.tools ? { tools: c.tools } : {}), messages: c.messages };
  }
  return { model, ...(c.tools ? { tools: c.tools } : {}), messages: c.messages };
}
