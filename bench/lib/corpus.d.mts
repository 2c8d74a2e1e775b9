// Types of corpus.mjs, for the tests that share it.
export interface CorpusCase {
  id: string;
  group: string;
  format: 'anthropic' | 'openai';
  system: unknown;
  tools: unknown;
  messages: unknown[];
  options?: Record<string, unknown>;
  question?: string;
  evidence?: (string | { re: string })[];
  headroom?: Record<string, unknown> | null;
  file: string;
  origin: string;
}
export const REPO: string;
export const OWN_CORPUS: string;
export function sharedCorpusDir(): string | null;
export function loadCases(dir: string, origin: string): CorpusCase[];
export function toolTexts(format: string, messages: readonly unknown[]): string[];
export function checkEvidence(c: CorpusCase, before: readonly string[], after: readonly string[], afterMessages: unknown): { kept: string[]; lost: string[] };
export function requestOf(c: CorpusCase, model: string): Record<string, unknown>;
