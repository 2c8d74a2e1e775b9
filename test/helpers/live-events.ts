/** Synthetic funnel events for unit tests of live monitoring. */
import { emptyCompression, type RequestOutcome, type RequestStart, type TokenUsage } from '../../src/core/outcome.js';

let n = 0;

export function fakeStart(over: Partial<RequestStart> = {}): RequestStart {
  n++;
  return {
    kind: 'proxy',
    requestId: `req_${n}`,
    startedAt: Date.now(),
    method: 'POST',
    path: '/v1/chat/completions',
    provider: 'openai',
    api: 'chat',
    requestedModel: 'gpt-4o',
    stream: false,
    bytesIn: 100,
    messageCount: 1,
    tools: { definitions: 0, results: 0, calls: 0 },
    stack: null,
    project: null,
    client: null,
    apiKeyHash: null,
    tags: {},
    ...over,
  };
}

export function usage(input: number, output: number, cacheRead = 0, cacheWrite = 0): TokenUsage {
  return {
    input, output, uncached: input - cacheRead - cacheWrite, cacheRead, cacheWrite,
    cacheWrite5m: cacheWrite, cacheWrite1h: 0, reasoning: 0, source: 'json',
  };
}

export function fakeOutcome(start: RequestStart, over: Partial<RequestOutcome> = {}): RequestOutcome {
  const ok = over.ok ?? (over.errorType === undefined || over.errorType === null);
  return {
    ...start,
    endedAt: start.startedAt + 100,
    model: start.requestedModel,
    status: ok ? 200 : 502,
    ok,
    errorType: null,
    errorMessage: null,
    usage: usage(10, 5),
    compression: emptyCompression(),
    timing: { totalMs: 100, overheadMs: 1, ttfbMs: 50, upstreamMs: 40, upstreamAttempts: 1, stagesMs: {}, upstreamCalls: [] },
    bytesOut: 200,
    finishReason: 'stop',
    cached: false,
    modified: false,
    ext: {},
    ...over,
  };
}
