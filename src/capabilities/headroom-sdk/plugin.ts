/**
 * Headroom SDK endpoints for features headroom-ts does not have (local compression telemetry,
 * the retrieval feedback loop, TOIN learned patterns), answered here in Headroom's shapes with
 * what Headroom reports when the feature is off: nothing collected, nothing learned. Without
 * them the `/v1/*` catch-all would have treated these paths as provider calls. All are `gated`.
 *
 *   GET  /v1/telemetry                  stats (enabled: false, zeros)
 *   GET  /v1/telemetry/export           an empty export
 *   POST /v1/telemetry/import           accepted and ignored (`status: "ignored"`)
 *   GET  /v1/telemetry/tools            no tool signatures
 *   GET  /v1/telemetry/tools/:sig       404 (no telemetry for any signature)
 *   GET  /v1/feedback                   no feedback recorded
 *   GET  /v1/feedback/:tool             the configured defaults as hints, no learned pattern
 *   GET  /v1/toin/stats                 stats (enabled: false, zeros)
 *   GET  /v1/toin/patterns              []
 *   GET  /v1/toin/pattern/:prefix       404 (no pattern)
 */
import { isExcludedTool } from '../../compress/options.js';
import { definePlugin } from '../../core/plugin.js';
import { sendJson } from '../../core/http.js';
import type { RouteRequest } from '../../core/router.js';

const telemetryStats = () => ({
  enabled: false,
  total_compressions: 0,
  total_retrievals: 0,
  total_tokens_saved: 0,
  global_retrieval_rate: 0,
  tool_signatures_tracked: 0,
  events_in_memory: 0,
  avg_compression_ratio: 0,
  avg_token_reduction: 0,
});

const toinStats = () => ({ enabled: false, patterns_tracked: 0, total_compressions: 0, total_retrievals: 0, global_retrieval_rate: 0, patterns_with_recommendations: 0 });

const NOT_COLLECTED = 'headroom-ts collects no compression telemetry and learns nothing from retrievals';

export const headroomSdkPlugin = definePlugin({
  name: 'headroom-sdk',
  setup({ app }) {
    const json = (body: unknown, status = 200) => ({ res }: RouteRequest) => sendJson(res, status, body);
    app.router
      .add('GET', '/v1/telemetry', ({ res }) => sendJson(res, 200, telemetryStats()), 'gated')
      .add('GET', '/v1/telemetry/export', ({ res }) => sendJson(res, 200, { enabled: false, summary: telemetryStats(), tool_stats: {} }), 'gated')
      .add('POST', '/v1/telemetry/import', ({ req, res }) => {
        req.resume();
        sendJson(res, 200, { status: 'ignored', reason: NOT_COLLECTED, current_stats: telemetryStats() });
      }, 'gated')
      .add('GET', '/v1/telemetry/tools', json({ tool_count: 0, tools: {} }), 'gated')
      .add('GET', '/v1/telemetry/tools/:sig', ({ res, params }) => sendJson(res, 404, { detail: `No telemetry found for signature: ${params.sig}` }), 'gated')
      .add('GET', '/v1/feedback', json({
        feedback: { total_compressions: 0, total_retrievals: 0, global_retrieval_rate: 0, tools_tracked: 0, tool_patterns: {} },
        hints_example: {},
      }), 'gated')
      .add('GET', '/v1/feedback/:tool', ({ res, params }) => {
        const tool = params.tool ?? '';
        sendJson(res, 200, {
          tool_name: tool,
          hints: {
            max_items: app.config.maxItems,
            min_items: 0,
            suggested_items: null,
            aggressiveness: 0,
            skip_compression: isExcludedTool(tool, app.config.excludeTools),
            preserve_fields: [],
            reason: `${NOT_COLLECTED}: these are the configured settings (--max-items, --exclude-tools)`,
          },
          pattern: null,
        });
      }, 'gated')
      .add('GET', '/v1/toin/stats', json(toinStats()), 'gated')
      .add('GET', '/v1/toin/patterns', json([]), 'gated')
      .add('GET', '/v1/toin/pattern/:prefix', ({ res, params }) => sendJson(res, 404, { detail: `No TOIN pattern found with hash starting with: ${params.prefix}` }), 'gated');
  },
});
