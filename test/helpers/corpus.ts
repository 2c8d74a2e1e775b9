/** Finds and loads cases of the shared Headroom benchmark corpus (absent outside the project's machines). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface CorpusCase {
  id: string;
  format: 'anthropic' | 'openai';
  system?: unknown;
  tools?: unknown[];
  messages: Record<string, unknown>[];
  evidence: (string | { re: string })[];
}

/** `HEADROOM_CORPUS_DIR`, else the first `shared/corpus/headroom-benchmarks` above the working directory. */
export function corpusDir(): string | null {
  const env = process.env.HEADROOM_CORPUS_DIR;
  if (env) return existsSync(env) ? env : null;
  let dir = resolve(process.cwd());
  for (;;) {
    const candidate = join(dir, 'shared', 'corpus', 'headroom-benchmarks');
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

export function loadCase(dir: string, id: string): CorpusCase {
  return JSON.parse(readFileSync(join(dir, `${id}.json`), 'utf8')) as CorpusCase;
}

/** The request body a client would send for the case. */
export function caseBody(c: CorpusCase): Record<string, unknown> {
  if (c.format === 'anthropic') {
    return { model: 'claude-sonnet-4-5', max_tokens: 1024, ...(c.system ? { system: c.system } : {}), ...(c.tools?.length ? { tools: c.tools } : {}), messages: c.messages };
  }
  return { model: 'gpt-4o', ...(c.tools?.length ? { tools: c.tools } : {}), messages: c.messages };
}

/** Evidence strings (or regexes) missing from a text. */
export function missingEvidence(c: CorpusCase, text: string): string[] {
  return c.evidence.filter((e) => (typeof e === 'string' ? !text.includes(e) : !new RegExp(e.re).test(text))).map((e) => (typeof e === 'string' ? e : e.re));
}
