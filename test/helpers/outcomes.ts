/** Synthetic RequestOutcomes for unit tests of sinks (every field filled, overridable). */
import { emptyCompression, type RequestOutcome, type TokenUsage } from '../../src/core/outcome.js';

let seq = 0;

export function usage(u: Partial<TokenUsage> = {}): TokenUsage {
  const uncached = u.uncached ?? 1000;
  const cacheRead = u.cacheRead ?? 0;
  const cacheWrite = u.cacheWrite ?? (u.cacheWrite5m ?? 0) + (u.cacheWrite1h ?? 0);
  return {
    input: uncached + cacheRead + cacheWrite,
    output: 100,
    uncached,
    cacheRead,
    cacheWrite,
    cacheWrite5m: u.cacheWrite5m ?? cacheWrite - (u.cacheWrite1h ?? 0),
    cacheWrite1h: u.cacheWrite1h ?? 0,
    reasoning: 0,
    source: 'json',
    ...u,
  };
}

export type OutcomeOverrides = Partial<Omit<RequestOutcome, 'compression' | 'timing'>> & {
  compression?: Partial<RequestOutcome['compression']>;
  timing?: Partial<RequestOutcome['timing']>;
};

export function outcome(o: OutcomeOverrides = {}): RequestOutcome {
  const now = o.endedAt ?? Date.now();
  const { compression, timing, ...rest } = o;
  return {
    kind: 'proxy',
    requestId: `hr_test_${String(++seq).padStart(6, '0')}`,
    startedAt: now - 50,
    method: 'POST',
    path: '/v1/messages',
    provider: 'anthropic',
    api: 'messages',
    requestedModel: 'claude-sonnet-4-5',
    stream: false,
    bytesIn: 1000,
    messageCount: 2,
    tools: { definitions: 0, results: 0, calls: 0 },
    stack: null,
    project: null,
    client: null,
    apiKeyHash: 'abcd1234abcd1234',
    tags: {},
    endedAt: now,
    model: 'claude-sonnet-4-5',
    status: 200,
    ok: true,
    errorType: null,
    errorMessage: null,
    usage: usage(),
    bytesOut: 500,
    finishReason: 'end_turn',
    cached: false,
    modified: false,
    ext: {},
    ...rest,
    compression: { ...emptyCompression(), ...compression },
    timing: { totalMs: 50, overheadMs: 1, ttfbMs: 20, upstreamMs: 40, upstreamAttempts: 1, stagesMs: {}, upstreamCalls: [], ...timing },
  };
}

/** A compressed outcome: `saved` tokens removed, the rest sent. */
export function compressed(saved: number, o: OutcomeOverrides = {}): RequestOutcome {
  const u = o.usage === undefined ? usage() : o.usage;
  const sent = u?.input ?? 1000;
  return outcome({
    modified: true,
    ...o,
    usage: u,
    compression: { tokensBefore: sent + saved, tokensAfter: sent, tokensSaved: saved, transforms: ['log_compressor'], timingsMs: { log_compressor: 2 }, ...o.compression },
  });
}
