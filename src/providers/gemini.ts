/**
 * The Gemini API (`v1beta/models/{model}:generateContent` and `:streamGenerateContent`):
 * request facts (the model is in the path, streaming in the method), usage from
 * `usageMetadata` (prompt, candidates, cached content, thoughts and tool-use prompt tokens)
 * in a JSON body, an SSE stream (`?alt=sse`) or a JSON array stream (no `alt`), and errors in
 * Gemini's shape (`{"error":{"code","message","status"}}`).
 */
import { geminiSpeakerOf as geminiSpeaker } from '../compress/request/gemini-speaker.js';
import { liveZone } from '../compress/request/live-zone.js';
import { safeParse } from './anthropic.js';
import { googleStatus } from './google-status.js';
import { SseParser, sseFrame } from './sse.js';
import {
  type ApiAdapter,
  arr,
  emptyFacts,
  type ErrorShapes,
  type ErrorType,
  num,
  obj,
  type ProgressCallback,
  type RequestFacts,
  type ResponseFacts,
  type StreamObserver,
  str,
  type TokenUsage,
} from './types.js';

/**
 * Gemini usage: `promptTokenCount` includes `cachedContentTokenCount`; `candidatesTokenCount`
 * excludes `thoughtsTokenCount` (billed as output); `toolUsePromptTokenCount` (tool results
 * the model fetched itself) is billed as input.
 */
export function geminiUsage(raw: unknown, source: TokenUsage['source']): TokenUsage | null {
  const u = obj(raw);
  if (!u) return null;
  const input = num(u.promptTokenCount) + num(u.toolUsePromptTokenCount);
  const cached = Math.min(num(u.cachedContentTokenCount), input);
  const thoughts = num(u.thoughtsTokenCount);
  return {
    input,
    output: num(u.candidatesTokenCount) + thoughts,
    uncached: input - cached,
    cacheRead: cached,
    cacheWrite: 0,
    cacheWrite5m: 0,
    cacheWrite1h: 0,
    reasoning: thoughts,
    source,
  };
}


function toolDefinitions(tools: unknown): number {
  let n = 0;
  for (const t of arr(tools)) {
    const tool = obj(t);
    if (!tool) continue;
    const decls = arr(tool.functionDeclarations ?? tool.function_declarations);
    n += decls.length > 0 ? decls.length : 1; // googleSearch, codeExecution... count as one tool each
  }
  return n;
}

export function describeGeminiRequest(body: Record<string, unknown>, model: string | null, stream: boolean): RequestFacts {
  const contents = arr(body.contents);
  const zone = liveZone(contents.map((c) => geminiSpeaker(str(obj(c)?.role))));
  let results = 0;
  for (const c of contents.slice(zone.start, zone.end)) {
    for (const p of arr(obj(c)?.parts)) if (obj(obj(p)?.functionResponse ?? obj(p)?.function_response)) results++;
  }
  const system = obj(body.systemInstruction ?? body.system_instruction);
  return {
    model,
    stream,
    messageCount: contents.length + (system && arr(system.parts).length > 0 ? 1 : 0),
    tools: { definitions: toolDefinitions(body.tools), results, calls: 0 },
  };
}

/** Folds one GenerateContentResponse (a whole body, or one chunk of a stream) into `facts`. */
function foldChunk(facts: ResponseFacts, chunk: Record<string, unknown>, source: TokenUsage['source']): boolean {
  const err = obj(chunk.error);
  if (err) {
    facts.streamError = `${str(err.status) ?? 'error'}: ${str(err.message) ?? 'stream error'}`;
    return false;
  }
  facts.model = str(chunk.modelVersion) ?? facts.model;
  for (const c of arr(chunk.candidates)) {
    const cand = obj(c);
    if (!cand) continue;
    for (const p of arr(obj(cand.content)?.parts)) if (obj(obj(p)?.functionCall)) facts.toolCalls++;
    const finish = str(cand.finishReason);
    if (finish) {
      facts.finishReason = finish;
      facts.complete = true;
    }
  }
  const blocked = str(obj(chunk.promptFeedback)?.blockReason);
  if (blocked) {
    facts.finishReason = blocked;
    facts.complete = true;
  }
  const usage = geminiUsage(chunk.usageMetadata, source);
  if (usage) facts.usage = usage;
  return usage !== null;
}

/** A JSON body: one response, or the array a `streamGenerateContent` without `alt=sse` returns. */
export function geminiFactsFromJson(body: unknown): ResponseFacts {
  const facts = emptyFacts();
  const chunks = Array.isArray(body) ? body : [body];
  let any = false;
  for (const c of chunks) {
    const chunk = obj(c);
    if (!chunk) continue;
    any = true;
    foldChunk(facts, chunk, 'json');
  }
  // a complete JSON body is a complete answer even when no candidate named a finish reason
  if (any && !facts.streamError) facts.complete = true;
  return facts;
}

class GeminiSseObserver implements StreamObserver {
  private readonly parser = new SseParser((_e, data) => this.onData(data));
  private readonly facts = emptyFacts();

  constructor(private readonly onProgress?: ProgressCallback) {}

  push(chunk: Buffer): void {
    this.parser.push(chunk);
  }

  private onData(data: string): void {
    const chunk = obj(safeParse(data));
    if (!chunk) return;
    if (foldChunk(this.facts, chunk, 'sse')) this.onProgress?.(this.facts);
  }

  snapshot(): ResponseFacts {
    return { ...this.facts };
  }

  end(): ResponseFacts {
    this.parser.end();
    return this.snapshot();
  }
}

/** The adapter of one request: the model comes from its path, streaming from its method. */
export function geminiAdapter(model: string | null, stream: boolean): ApiAdapter {
  return {
    provider: 'gcp.gemini',
    api: 'generate_content',
    describeRequest: (body) => describeGeminiRequest(body, model, stream),
    factsFromJson: geminiFactsFromJson,
    streamObserver: (onProgress) => new GeminiSseObserver(onProgress),
  };
}

const geminiErrorJson = (status: number, type: ErrorType, message: string) => JSON.stringify({ error: { code: status, message, status: googleStatus(status, type) } });

export const geminiErrors: ErrorShapes = {
  errorBody: geminiErrorJson,
  streamErrorFrame(type, message) {
    const status = type === 'upstream_timeout' ? 504 : type === 'upstream_overloaded' ? 503 : 500;
    return sseFrame(null, geminiErrorJson(status, type, message));
  },
};
