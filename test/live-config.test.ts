import { describe, expect, it } from 'vitest';
import { ConfigError, configTableMarkdown, loadConfig } from '../src/config/index.js';

describe('live monitoring configuration', () => {
  it('has sensible defaults', () => {
    const { config } = loadConfig({ env: {} });
    expect(config).toMatchObject({
      liveMetrics: true,
      liveSummaryEveryRequests: 100,
      liveSummaryIntervalSeconds: 0,
      liveSseHeartbeatSeconds: 30,
      liveSseMinIntervalMs: 250,
      liveSseRetryMs: 2000,
      liveErrorBuffer: 100,
      liveTraceBuffer: 200,
    });
  });

  it('reads HEADROOM_* variables and flags', () => {
    const { config, sources } = loadConfig({
      env: { HEADROOM_LIVE_METRICS: 'off', HEADROOM_LIVE_SUMMARY_INTERVAL_SECONDS: '60', HEADROOM_LIVE_TRACE_BUFFER: '500' },
      flags: { liveSseHeartbeatSeconds: '5' },
    });
    expect(config.liveMetrics).toBe(false);
    expect(config.liveSummaryIntervalSeconds).toBe(60);
    expect(config.liveTraceBuffer).toBe(500);
    expect(config.liveSseHeartbeatSeconds).toBe(5);
    expect(sources.liveMetrics).toBe('env HEADROOM_LIVE_METRICS');
    expect(sources.liveSseHeartbeatSeconds).toBe('flag --live-sse-heartbeat-seconds');
  });

  it('rejects bad values with a message naming the field and what is accepted', () => {
    expect(() => loadConfig({ env: { HEADROOM_LIVE_SSE_HEARTBEAT_SECONDS: '0' } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { HEADROOM_LIVE_ERROR_BUFFER: '-1' } })).toThrow(/liveErrorBuffer \(env HEADROOM_LIVE_ERROR_BUFFER\) = "-1".*Accepted: an integer from 0 to 100000/);
    expect(() => loadConfig({ env: { HEADROOM_LIVE_METRICS: 'maybe' } })).toThrow(/liveMetrics/);
  });

  it('documents every live field in the config table', () => {
    const table = configTableMarkdown();
    for (const flag of ['live-metrics', 'live-summary-every-requests', 'live-summary-interval-seconds', 'live-sse-heartbeat-seconds', 'live-sse-stall-seconds', 'live-max-models']) {
      expect(table).toContain(`--${flag}`);
    }
  });
});
