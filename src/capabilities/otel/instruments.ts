/**
 * The OTEL metric instruments of headroom-ts, created on one Meter (managed or ambient) and
 * fed one outcome at a time by the OTEL sink: Headroom's `headroom.proxy.*` (once per proxied
 * request) and `headroom.compression.*` (once per pipeline run, `/v1/compress` and hooks
 * included), plus the GenAI client conventions for inference requests.
 */
import type { Attributes, Histogram, Meter } from '@opentelemetry/api';
import type { Accounting } from '../stats/api.js';
import { isProxyFailure, type RequestOutcome } from '../../core/outcome.js';
import type { OtelValueSets } from './bounded.js';
import { AggregatedCounter } from './counter.js';
import { compressionErrorType, compressionRan, isInternalTiming, pipelineMs } from './compression-facts.js';
import {
  COMPRESSION_BUCKETS,
  GENAI_DURATION_BUCKETS,
  GENAI_TOKEN_BUCKETS,
  genaiOperation,
  M,
  OVERHEAD_BUCKETS,
  TOKEN_TYPES,
} from './names.js';

/** Compression-caused prompt-cache busts detected for an outcome (from the stats service). */
export interface BustDelta {
  busts: number;
  tokensLost: number;
}

export class OtelInstruments {
  private readonly requests: AggregatedCounter;
  private readonly requestsCached: AggregatedCounter;
  private readonly requestsFailed: AggregatedCounter;
  private readonly requestsRateLimited: AggregatedCounter;
  private readonly tokensInput: AggregatedCounter;
  private readonly tokensOutput: AggregatedCounter;
  private readonly tokensSaved: AggregatedCounter;
  private readonly cacheRead: AggregatedCounter;
  private readonly cacheWrite: AggregatedCounter;
  private readonly cacheUncached: AggregatedCounter;
  private readonly cacheWriteTtl: AggregatedCounter;
  private readonly cacheBusts: AggregatedCounter;
  private readonly cacheBustTokensLost: AggregatedCounter;
  private readonly cost: AggregatedCounter;
  private readonly compressionRuns: AggregatedCounter;
  private readonly compressionTokensInput: AggregatedCounter;
  private readonly compressionTokensOutput: AggregatedCounter;
  private readonly compressionTokensSaved: AggregatedCounter;
  private readonly compressionTransforms: AggregatedCounter;
  private readonly compressionWasteTokens: AggregatedCounter;
  private readonly compressionFailures: AggregatedCounter;
  private readonly compressionSavings: AggregatedCounter;
  private readonly compressionDeductions: AggregatedCounter;
  private readonly requestDuration: Histogram;
  private readonly overheadDuration: Histogram;
  private readonly ttfbDuration: Histogram;
  private readonly compressionPipelineDuration: Histogram;
  private readonly compressionStageDuration: Histogram;
  private readonly genaiTokenUsage: Histogram;
  private readonly genaiOperationDuration: Histogram;
  private readonly genaiTimeToFirstChunk: Histogram;

  constructor(
    meter: Meter,
    private readonly values: OtelValueSets,
  ) {
    const counter = (name: string, unit: string, description: string) => new AggregatedCounter(meter, name, unit, description);
    const histogram = (name: string, unit: string, description: string, buckets: number[]) =>
      meter.createHistogram(name, { unit, description, advice: { explicitBucketBoundaries: buckets } });
    this.requests = counter(M.requests, '1', 'Proxied requests');
    this.requestsCached = counter(M.requestsCached, '1', 'Proxied requests served with a provider prompt-cache read or from the response cache');
    this.requestsFailed = counter(M.requestsFailed, '1', 'Proxied requests the proxy could not get an answer for from the upstream (unreachable, timed out, broken body, internal error), as Headroom counts them');
    this.requestsRateLimited = counter(M.requestsRateLimited, '1', 'Proxied requests refused by the rate limiter');
    this.tokensInput = counter(M.tokensInput, '{token}', 'Prompt tokens sent upstream (after compression)');
    this.tokensOutput = counter(M.tokensOutput, '{token}', 'Output tokens');
    this.tokensSaved = counter(M.tokensSaved, '{token}', 'Prompt tokens removed by compression');
    this.cacheRead = counter(M.cacheRead, '{token}', 'Prompt tokens read from the provider prompt cache');
    this.cacheWrite = counter(M.cacheWrite, '{token}', 'Prompt tokens written to the provider prompt cache');
    this.cacheUncached = counter(M.cacheUncached, '{token}', 'Prompt tokens billed at the full input price');
    this.cacheWriteTtl = counter(M.cacheWriteTtl, '{token}', 'Provider prompt-cache write tokens by TTL bucket (5m, 1h)');
    this.cacheBusts = counter(M.cacheBusts, '{bust}', 'Prompt-cache busts caused by compression rewriting a cached prefix');
    this.cacheBustTokensLost = counter(M.cacheBustTokensLost, '{token}', 'Cached prompt tokens lost to compression-caused cache busts');
    this.cost = counter(M.cost, 'USD', 'Provider spend of proxied requests, from reported usage and model prices');
    this.compressionRuns = counter(M.compressionRuns, '{run}', 'Compression pipeline runs');
    this.compressionTokensInput = counter(M.compressionTokensInput, '{token}', 'Tokens entering the compression pipeline');
    this.compressionTokensOutput = counter(M.compressionTokensOutput, '{token}', 'Tokens leaving the compression pipeline');
    this.compressionTokensSaved = counter(M.compressionTokensSaved, '{token}', 'Tokens removed by the compression pipeline');
    this.compressionTransforms = counter(M.compressionTransforms, '{transform}', 'Compression transforms applied');
    this.compressionWasteTokens = counter(M.compressionWasteTokens, '{token}', 'Tokens attributed to detected waste signals');
    this.compressionFailures = counter(M.compressionFailures, '{failure}', 'Compression runs that failed (the request went on uncompressed)');
    this.compressionSavings = counter(M.compressionSavings, 'USD', 'Spend avoided by compression before deductions: saved tokens at the rates the uncompressed request would have been billed (cache read, cache write or input)');
    this.compressionDeductions = counter(M.compressionDeductions, 'USD', 'Spend compression caused, taken off its savings (cause: retrieval, cache_bust); net saving = headroom.compression.savings - this');
    this.requestDuration = histogram(M.requestDuration, 's', 'End-to-end duration of proxied requests', GENAI_DURATION_BUCKETS);
    this.overheadDuration = histogram(M.overheadDuration, 's', 'Time spent inside headroom-ts per proxied request (upstream time excluded)', OVERHEAD_BUCKETS);
    this.ttfbDuration = histogram(M.ttfbDuration, 's', 'Request arrival to the first response byte, streamed requests only', GENAI_DURATION_BUCKETS);
    this.compressionPipelineDuration = histogram(M.compressionPipelineDuration, 's', 'Duration of compression pipeline runs', COMPRESSION_BUCKETS);
    this.compressionStageDuration = histogram(M.compressionStageDuration, 's', 'Duration of compression pipeline stages', COMPRESSION_BUCKETS);
    this.genaiTokenUsage = histogram(M.genaiTokenUsage, '{token}', 'Number of input and output tokens used', GENAI_TOKEN_BUCKETS);
    this.genaiOperationDuration = histogram(M.genaiOperationDuration, 's', 'GenAI operation duration', GENAI_DURATION_BUCKETS);
    this.genaiTimeToFirstChunk = histogram(M.genaiTimeToFirstChunk, 's', 'Time to receive the first chunk of a streaming response', GENAI_DURATION_BUCKETS);
  }

  record(o: RequestOutcome, a: Accounting, busts: BustDelta | null = null): void {
    if (!a.counted) return;
    const model = this.values.model.value(a.model);
    if (o.kind === 'proxy') this.recordProxy(o, a, model);
    if (compressionRan(o.compression)) this.recordCompression(o, a, model);
    if (busts && busts.busts > 0) {
      this.cacheBusts.add('', busts.busts, {});
      if (busts.tokensLost > 0) this.cacheBustTokensLost.add('', busts.tokensLost, {});
    }
  }

  private recordProxy(o: RequestOutcome, a: Accounting, model: string): void {
    const provider = a.provider;
    const pm = `${provider}\u0000${model}`;
    const key = `${pm}\u0000${a.cached}`;
    const base: Attributes = { provider, model, cached: a.cached };
    this.requests.add(key, 1, base);
    if (a.cached) this.requestsCached.add(key, 1, base);
    if (o.errorType === 'rate_limited') this.requestsRateLimited.add(pm, 1, { provider, model });
    else if (isProxyFailure(o)) this.requestsFailed.add(pm, 1, { provider, model });
    if (a.inputTokens > 0) this.tokensInput.add(key, a.inputTokens, base);
    if (a.outputTokens > 0) this.tokensOutput.add(key, a.outputTokens, base);
    if (a.tokensSaved > 0) this.tokensSaved.add(key, a.tokensSaved, base);
    if (a.cacheReadTokens > 0) this.cacheRead.add(key, a.cacheReadTokens, base);
    if (a.cacheWriteTokens > 0) this.cacheWrite.add(key, a.cacheWriteTokens, base);
    if (a.uncachedTokens > 0) this.cacheUncached.add(key, a.uncachedTokens, base);
    if (a.cacheWrite5mTokens > 0) this.cacheWriteTtl.add(`${pm}\u00005m`, a.cacheWrite5mTokens, { provider, model, ttl: '5m' });
    if (a.cacheWrite1hTokens > 0) this.cacheWriteTtl.add(`${pm}\u00001h`, a.cacheWrite1hTokens, { provider, model, ttl: '1h' });
    if (a.inputCostUsd > 0) this.cost.add(`${pm}\u0000input`, a.inputCostUsd, { provider, model, type: 'input' });
    if (a.outputCostUsd > 0) this.cost.add(`${pm}\u0000output`, a.outputCostUsd, { provider, model, type: 'output' });
    const t = o.timing;
    this.requestDuration.record(t.totalMs / 1000, base);
    if (t.overheadMs > 0) this.overheadDuration.record(t.overheadMs / 1000, base);
    if (o.stream && t.ttfbMs !== null && t.ttfbMs > 0) this.ttfbDuration.record(t.ttfbMs / 1000, base);

    const op = genaiOperation(o.api);
    if (op === null) return;
    const requestModel = this.values.model.value(o.requestedModel);
    const responseModel = o.ok && o.model ? model : null;
    const g = (extraKey: string | null, extra: string): Attributes => {
      const attrs: Attributes = { 'gen_ai.operation.name': op, 'gen_ai.provider.name': provider, 'gen_ai.request.model': requestModel };
      if (responseModel !== null) attrs['gen_ai.response.model'] = responseModel;
      if (extraKey !== null) attrs[extraKey] = extra;
      return attrs;
    };
    this.genaiOperationDuration.record(t.totalMs / 1000, o.errorType ? g('error.type', o.errorType) : g(null, ''));
    if (o.stream && t.ttfbMs !== null && t.ttfbMs > 0) this.genaiTimeToFirstChunk.record(t.ttfbMs / 1000, g(null, ''));
    const u = o.usage;
    if (u) {
      this.genaiTokenUsage.record(u.input, g('gen_ai.token.type', TOKEN_TYPES.input));
      this.genaiTokenUsage.record(u.output, g('gen_ai.token.type', TOKEN_TYPES.output));
      if (u.cacheRead > 0) this.genaiTokenUsage.record(u.cacheRead, g('gen_ai.token.type', TOKEN_TYPES.cacheRead));
      if (u.cacheWrite > 0) this.genaiTokenUsage.record(u.cacheWrite, g('gen_ai.token.type', TOKEN_TYPES.cacheCreation));
    }
  }

  private recordCompression(o: RequestOutcome, a: Accounting, model: string): void {
    const c = o.compression;
    const provider = a.provider;
    const mp = `${model}\u0000${provider}`;
    const attrs: Attributes = { model, provider };
    this.compressionRuns.add(mp, 1, attrs);
    if (c.tokensBefore > 0) this.compressionTokensInput.add(mp, c.tokensBefore, attrs);
    if (c.tokensAfter > 0) this.compressionTokensOutput.add(mp, c.tokensAfter, attrs);
    if (a.tokensSaved > 0) this.compressionTokensSaved.add(mp, a.tokensSaved, attrs);
    const s = a.savings;
    if (s.compressionUsd > 0) this.compressionSavings.add(mp, s.compressionUsd, attrs);
    if (s.retrievalUsd > 0) this.compressionDeductions.add(`${mp}\u0000retrieval`, s.retrievalUsd, { ...attrs, cause: 'retrieval' });
    if (s.cacheBustUsd > 0) this.compressionDeductions.add(`${mp}\u0000cache_bust`, s.cacheBustUsd, { ...attrs, cause: 'cache_bust' });
    this.compressionPipelineDuration.record(pipelineMs(o) / 1000, attrs);
    for (const key in c.timingsMs) {
      if (isInternalTiming(key)) continue;
      this.compressionStageDuration.record((c.timingsMs[key] ?? 0) / 1000, { model, provider, stage: this.values.stage.value(key) });
    }
    for (const tag of c.transforms) {
      const transform = this.values.transform.value(tag);
      this.compressionTransforms.add(`${mp}\u0000${transform}`, 1, { model, provider, transform });
    }
    if (c.wasteSignals) {
      for (const name in c.wasteSignals) {
        const n = c.wasteSignals[name] ?? 0;
        if (n <= 0) continue;
        const signal = this.values.signal.value(name);
        this.compressionWasteTokens.add(`${mp}\u0000${signal}`, n, { model, provider, signal });
      }
    }
    if (c.error !== null) {
      const errorType = compressionErrorType(c.error);
      this.compressionFailures.add(`${model}\u0000${o.kind}\u0000${errorType}`, 1, { model, operation: o.kind, error_type: errorType });
    }
  }
}
