import { describe, expect, it } from 'vitest';
import { settingsFromConfig } from '../src/capabilities/compression/plugin.js';
import { configTableMarkdown } from '../src/config/docs.js';
import { configWith, ConfigError } from '../src/config/index.js';
import { requestedMode } from '../src/core/request-mode.js';

describe('compression configuration', () => {
  it('reads HEADROOM_* variables', () => {
    const c = configWith({}, {
      HEADROOM_OPTIMIZE: 'false', HEADROOM_MIN_TOKENS: '120', HEADROOM_PROTECT_RECENT: '2', HEADROOM_TARGET_RATIO: '0.3',
      HEADROOM_EXCLUDE_TOOLS: 'Read, mcp__*', HEADROOM_COMPRESSION_BUDGET_MS: '250', HEADROOM_SAVINGS_PROFILE: 'agent-90',
    });
    expect(c.optimize).toBe(false);
    expect(c.minTokensToCompress).toBe(120);
    expect(c.protectRecent).toBe(2);
    expect(c.targetRatio).toBe(0.3);
    expect(c.excludeTools).toEqual(['Read', 'mcp__*']);
    expect(c.compressionBudgetMs).toBe(250);
    expect(c.savingsProfile).toBe('agent-90');
  });

  it('rejects invalid values with a clear message', () => {
    expect(() => configWith({ targetRatio: 3 })).toThrow(ConfigError);
    expect(() => configWith({ replayTtlSeconds: 60 })).toThrow(/replayTtlSeconds/);
    expect(() => configWith({}, { HEADROOM_SAVINGS_PROFILE: 'max' })).toThrow(/HEADROOM_SAVINGS_PROFILE/);
  });

  it('a savings profile sets what the operator left at its default; explicit values win', () => {
    expect(settingsFromConfig(configWith())).toMatchObject({ protectRecent: 4, targetRatio: null, maxItems: 15, savingsProfile: null, excludeTools: ['Read', 'Glob', 'Grep', 'Write', 'Edit'] });
    expect(settingsFromConfig(configWith({ savingsProfile: 'agent-90' }))).toMatchObject({ protectRecent: 2, targetRatio: 0.1, maxItems: 8, minTokensToCompress: 120, savingsProfile: 'agent-90' });
    expect(settingsFromConfig(configWith({ savingsProfile: 'agent-90', protectRecent: 6, excludeTools: [] }))).toMatchObject({ protectRecent: 6, targetRatio: 0.1, excludeTools: [] });
  });

  it('documents every compression option in the config table', () => {
    const table = configTableMarkdown();
    for (const flag of ['--optimize', '--compression-budget-ms', '--min-tokens-to-compress', '--savings-profile', '--exclude-tools', '--replay-ttl-seconds']) expect(table).toContain(flag);
  });

  it('reads the per-request mode from headers', () => {
    expect(requestedMode({}, true)).toBe('optimize');
    expect(requestedMode({}, false)).toBe('off');
    expect(requestedMode({ 'x-headroom-bypass': 'TRUE' }, true)).toBe('bypass');
    expect(requestedMode({ 'x-headroom-mode': 'passthrough' }, true)).toBe('passthrough');
    expect(requestedMode({ 'x-headroom-mode': 'audit' }, true)).toBe('audit');
    expect(requestedMode({ 'x-headroom-mode': 'simulate' }, true)).toBe('audit');
    expect(requestedMode({ 'x-headroom-mode': 'anything' }, true)).toBe('optimize');
  });
});
