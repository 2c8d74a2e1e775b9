// The benchmark corpus through compress(): every evidence string of every case (Headroom's
// benchmark requests in ../shared/corpus/headroom-benchmarks, and the project's own hard cases
// in bench/corpus) must survive compression. `npm run bench:corpus` reports the savings.
import { describe, expect, it } from 'vitest';
import { checkEvidence, loadCases, OWN_CORPUS, sharedCorpusDir, toolTexts } from '../bench/lib/corpus.mjs';
import { compress } from '../src/sdk/compress.js';

const MODELS = { anthropic: 'claude-sonnet-4-5', openai: 'gpt-4o' } as const;
const shared = sharedCorpusDir();
if (!shared && process.env.CI === '1') {
  throw new Error('The shared benchmark corpus is missing: expected ../shared/corpus/headroom-benchmarks next to the checkout (or HEADROOM_CORPUS_DIR).');
}

const cases = [...(shared ? loadCases(shared, 'shared') : []), ...loadCases(OWN_CORPUS, 'own')];

describe('corpus: every evidence string survives compress()', () => {
  for (const c of cases) {
    it(`${c.origin}/${c.id}`, () => {
      const before = toolTexts(c.format, c.messages);
      const r = compress(c.messages, { model: MODELS[c.format], ...(c.options ?? {}) });
      expect(r.error).toBeUndefined();
      const { lost } = checkEvidence(c, before, toolTexts(c.format, r.messages), r.messages);
      expect(lost).toEqual([]);
      expect(r.tokens_after).toBeLessThanOrEqual(r.tokens_before);
    });
  }

  // Outside CI a checkout without the shared corpus runs only the project's own cases, and says so here.
  it(shared ? 'the shared corpus is present and complete' : 'the shared corpus is missing here: only the project\'s own cases ran', () => {
    if (shared) expect(cases.filter((c) => c.origin === 'shared').length).toBeGreaterThanOrEqual(44);
    else expect(process.env.CI).not.toBe('1');
  });
});
