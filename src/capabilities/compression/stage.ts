/**
 * The compression stage of the proxy path. For Anthropic Messages, OpenAI Chat and Responses
 * requests it runs the engine over the body (newest turn compressed, history replayed),
 * records the decisions in the replay map and the originals of lossy cuts in the originals
 * sink, fills `ex.rec.compression` and `ex.rec.ext.placement` (where the saved tokens sit), and
 * forwards new bytes only when something changed. Any failure forwards the original bytes and
 * records the error (fail open).
 *
 * `count_tokens` requests are compressed the same way (so counts match what will be sent)
 * without recording decisions. Per request, `x-headroom-bypass: true` or
 * `x-headroom-mode: passthrough` skip it;
 * `x-headroom-mode: audit` (or `simulate`) measures what would be saved and forwards the
 * original.
 *
 * A compressed body goes upstream only once what it depends on is on disk: the originals of
 * its lossy cuts (a marker must never reach the model before its original can be retrieved,
 * even after a crash) and the replay decisions that changed bytes (resent history must be
 * forwarded as it was). Concurrent requests share one transaction per store (group commit).
 * When either cannot be written (full disk, unwritable workspace), the request is forwarded
 * exactly as the client sent it and `compression.error` says why.
 */
import { compressRequest } from '../../compress/engine.js';
import type { CompressSettings } from '../../compress/options.js';
import type { ApiShape } from '../../compress/request/slots.js';
import type { OriginalsSink } from '../../originals/sink.js';
import type { ReplayStore } from '../../compress/replay.js';
import { replayKeys } from '../../compress/replay-keys.js';
import { SharedReplayStore } from '../../compress/shared-replay.js';
import type { Config } from '../../config/index.js';
import type { Logger } from '../../core/logger.js';
import type { ApiKind } from '../../core/outcome.js';
import { requestedMode } from '../../core/request-mode.js';
import { savedPlacement } from '../../savings/placement.js';
import type { ProxyStage } from '../proxy/api.js';
import type { CompressionTarget } from './api.js';
import { round3 } from '../../util/round.js';

export interface CompressionStageDeps {
  config: Config;
  log: Logger;
  settings: CompressSettings;
  replay: ReplayStore;
  /** Resolved per request, so the CCR store can replace the default sink later. */
  originals: () => OriginalsSink | undefined;
}

const API_SHAPES = { messages: 'messages', count_tokens: 'messages', chat: 'chat', responses: 'responses' } as const satisfies Partial<Record<ApiKind, ApiShape>>;
const APIS = Object.keys(API_SHAPES) as (keyof typeof API_SHAPES)[];


/** Waits until the writes a compressed request depends on are durable; on failure forwards it unchanged. */
async function whenDurable(ex: CompressionTarget, waits: Promise<void>[], withdraw: () => void, log: Logger): Promise<void> {
  const t0 = performance.now();
  try {
    await Promise.all(waits);
  } catch (err) {
    const message = (err as Error)?.message ?? String(err);
    withdraw();
    ex.setForwardBody(ex.body);
    const c = ex.rec.compression;
    c.tokensAfter = c.tokensBefore;
    c.tokensSaved = 0;
    delete c.savedByTransform;
    c.error = `compressed content could not be stored durably, forwarded unchanged: ${message}`.slice(0, 500);
    log.warn({ err: message }, 'compression results could not be stored durably; forwarding the request unchanged');
  } finally {
    const ms = performance.now() - t0;
    ex.rec.compression.timingsMs._durable = round3(ms);
  }
}

/** The stage as a function of its target: the proxy's exchanges, and the turns of a WebSocket session. */
export function compressTarget(deps: CompressionStageDeps): (ex: CompressionTarget) => void | Promise<void> {
  const { config, log, replay } = deps;
  const run = compressWith(deps);
  const shared = replay instanceof SharedReplayStore ? replay : null;
  return (ex: CompressionTarget): void | Promise<void> => {
    const api = API_SHAPES[ex.route.api as keyof typeof API_SHAPES] as (typeof API_SHAPES)[keyof typeof API_SHAPES] | undefined;
    if (!api || !ex.json) return;
    const mode = requestedMode(ex.req.headers, config.optimize);
    ex.rec.compression.mode = mode;
    if (mode !== 'optimize' && mode !== 'audit') return;
    if (!shared) return run(ex, api, mode);
    // a shared replay map: fetch the decisions memory lacks (another instance took them) first
    let keys: string[] = [];
    try {
      keys = replayKeys(ex.plainBody, api);
    } catch (err) {
      log.debug({ err: (err as Error)?.message }, 'replay keys could not be listed');
    }
    return shared.prefetch(keys).then(() => run(ex, api, mode));
  };
}

function compressWith(deps: CompressionStageDeps): (ex: CompressionTarget, api: ApiShape, mode: 'optimize' | 'audit') => void | Promise<void> {
  const { config, log, settings, replay } = deps;
  return (ex, api, mode) => {
    const t0 = performance.now();
    let pending: Promise<void> | undefined;
    try {
      const body = ex.plainBody;
      const clock = () => performance.now();
      const r = compressRequest({
        body,
        api,
        model: ex.facts?.model ?? null,
        settings,
        scope: 'live',
        replay,
        clock,
        deadline: t0 + config.compressionBudgetMs,
      });
      const c = ex.rec.compression;
      c.tokensBefore = r.tokensBefore;
      c.newInputTokens = r.newInputTokens;
      c.potentialTokensSaved = r.tokensSaved;
      c.transforms = [...new Set(r.transforms)];
      if (r.budgetExceeded) c.transforms.push('budget_exceeded');
      if (mode === 'optimize' && ex.route.api === 'count_tokens') {
        // A count sees what the next request will send, but nothing is billed and its output
        // never reaches a model: it reports the forwarded size with nothing saved (the saving
        // belongs to the request that follows), takes no decisions and stores no originals.
        c.tokensBefore = r.tokensAfter;
        c.tokensAfter = r.tokensAfter;
        c.tokensSaved = 0;
        c.newInputTokens = 0;
        if (r.body) ex.setForwardBody(r.body);
      } else if (mode === 'optimize') {
        c.tokensAfter = r.tokensAfter;
        c.tokensSaved = r.tokensSaved;
        // where the saved tokens sit (fresh vs replayed, under which cache breakpoint): the dollar figures price them from it
        const placement = savedPlacement(api, ex.json!, r.slots);
        ex.rec.ext.placement = placement;
        // the live zone as sent, and at least the compressed texts in it (two counts of the same content)
        c.newInputTokens = Math.max(r.newInputTokens, placement.freshBefore);
        if (r.tokensSaved > 0) c.savedByTransform = r.savedByTransform;
        if (r.replayWrites.length) replay.putMany(r.replayWrites);
        const originals = deps.originals();
        if (r.ccr.length) originals?.put(r.ccr);
        if (r.body) {
          ex.setForwardBody(r.body);
          const waits: Promise<void>[] = [];
          if (r.ccr.length && originals?.durable) waits.push(originals.durable());
          if (replay.durable && r.replayWrites.some((w) => w.compressed !== null)) waits.push(replay.durable());
          if (waits.length) {
            const changed = r.replayWrites.filter((w) => w.compressed !== null).map((w) => w.key);
            pending = whenDurable(ex, waits, () => replay.withdraw?.(changed), log);
          }
        }
      } else {
        c.tokensAfter = r.tokensBefore;
        c.tokensSaved = 0;
      }
      c.timingsMs = { ...r.timingsMs, pipeline_total: round3(performance.now() - t0) };
      if (r.budgetExceeded) log.warn({ budget_ms: config.compressionBudgetMs }, 'compression time budget exceeded; remaining content forwarded unchanged');
    } catch (err) {
      const message = (err as Error)?.message ?? String(err);
      ex.setForwardBody(ex.body);
      ex.rec.compression.error = message.slice(0, 500);
      ex.rec.compression.timingsMs = { pipeline_total: round3(performance.now() - t0) };
      log.warn({ err: message }, 'compression failed; forwarding the request unchanged');
    }
    return pending;
  };
}

export function compressionStage(deps: CompressionStageDeps): ProxyStage {
  const run = compressTarget(deps);
  return { name: 'compression', order: 300, apis: APIS, beforeUpstream: run };
}
