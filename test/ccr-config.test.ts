/** CCR configuration: Headroom's env names, the inverted `HEADROOM_NO_CCR_INJECT_TOOL`, flags and bounds. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/index.js';

describe('CCR config', () => {
  it('defaults', () => {
    const { config } = loadConfig({ env: {} });
    expect(config).toMatchObject({ ccrBackend: 'sqlite', ccrTtlSeconds: 1800, ccrInjectTool: true, ccrMaxRetrievalRounds: 3, ccrMaxEntries: 5000 });
  });

  it('reads Headroom env names, including the inverted HEADROOM_NO_CCR_INJECT_TOOL', () => {
    const { config, sources } = loadConfig({ env: { HEADROOM_CCR_BACKEND: 'memory', HEADROOM_CCR_TTL_SECONDS: '600', HEADROOM_NO_CCR_INJECT_TOOL: '1' } });
    expect(config).toMatchObject({ ccrBackend: 'memory', ccrTtlSeconds: 600, ccrInjectTool: false });
    expect(sources.ccrInjectTool).toBe('env HEADROOM_NO_CCR_INJECT_TOOL');
    // the positive name wins when both are set
    expect(loadConfig({ env: { HEADROOM_CCR_INJECT_TOOL: 'true', HEADROOM_NO_CCR_INJECT_TOOL: 'true' } }).config.ccrInjectTool).toBe(true);
  });

  it('flags override env; bad values are rejected with the field named', () => {
    const { config } = loadConfig({ env: { HEADROOM_CCR_MAX_RETRIEVAL_ROUNDS: '2' }, flags: { ccrMaxRetrievalRounds: '5', ccrInjectTool: false } });
    expect(config).toMatchObject({ ccrMaxRetrievalRounds: 5, ccrInjectTool: false });
    expect(() => loadConfig({ env: { HEADROOM_CCR_BACKEND: 'redis' } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { HEADROOM_CCR_TTL_SECONDS: '5' } })).toThrow(/ccr-ttl-seconds|HEADROOM_CCR_TTL_SECONDS/);
  });
});
