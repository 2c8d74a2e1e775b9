/**
 * Headroom-shaped views of the configuration for loopback callers (`/health.config`,
 * `/stats.config`). Keys whose capability is not part of this build are reported as null;
 * secrets (proxy token, API keys) are never included.
 */
import type { Config } from './index.js';

/** Headroom key -> headroom-ts config key (read dynamically: capabilities add their fields). */
const DASHBOARD_KEYS: [string, string][] = [
  ['savings_profile', 'savingsProfile'],
  ['target_ratio', 'targetRatio'],
  ['compress_user_messages', 'compressUserMessages'],
  ['compress_system_messages', 'compressSystemMessages'],
  ['protect_recent', 'protectRecent'],
  ['protect_analysis_context', 'protectAnalysisContext'],
  ['min_tokens_to_crush', 'minTokensToCompress'],
  ['max_items_after_crush', 'maxItems'],
  ['smart_crusher_with_compaction', 'smartCrusherWithCompaction'],
  ['force_kompress', 'forceKompress'],
  ['accuracy_guard', 'accuracyGuard'],
];

const HEALTH_KEYS: [string, string][] = [
  ['backend', 'backend'],
  ['optimize', 'optimize'],
  ['cache', 'cache'],
  ['rate_limit', 'rateLimit'],
  ['disable_kompress', 'disableKompress'],
  ['disable_kompress_fallback', 'disableKompressFallback'],
  ['disable_kompress_anthropic', 'disableKompressAnthropic'],
  ['disable_kompress_openai', 'disableKompressOpenai'],
  ['memory', 'memory'],
  ['learn', 'learn'],
  ['code_graph', 'codeGraph'],
  ['anthropic_api_url', 'anthropicApiUrl'],
  ['openai_api_url', 'openaiApiUrl'],
  ['gemini_api_url', 'geminiApiUrl'],
  ['cloudcode_api_url', 'cloudcodeApiUrl'],
  ['vertex_api_url', 'vertexApiUrl'],
];

function pick(config: Config, keys: [string, string][]): Record<string, unknown> {
  const c = config as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [headroom, ours] of keys) out[headroom] = c[ours] ?? null;
  return out;
}

/** `/stats.config` (dashboard settings). */
export function dashboardConfig(config: Config): Record<string, unknown> {
  const out = pick(config, DASHBOARD_KEYS);
  const ratio = typeof out.target_ratio === 'number' ? out.target_ratio : null;
  const view: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(out)) {
    view[k] = v;
    if (k === 'target_ratio') view.target_savings_percent = ratio === null ? null : Math.round(Math.min(Math.max(1 - ratio, 0), 1) * 1000) / 10;
  }
  return view;
}

/** `/health.config`. */
export function healthConfig(config: Config): Record<string, unknown> {
  return {
    ...pick(config, HEALTH_KEYS),
    ...dashboardConfig(config),
    runtime_env: {},
    workspace_dir: config.workspaceDir,
    stateless: config.stateless,
    log_file: config.stateless ? null : config.logFile,
    log_messages: config.logMessages,
    pid: process.pid,
  };
}
