/**
 * A mock Gemini API: `POST /v1beta/models/{model}:generateContent` and
 * `:streamGenerateContent` (`?alt=sse`: server-sent events; without it: one JSON array written
 * element by element, as Google serves it). It checks the API key (`x-goog-api-key` or `key=`),
 * replies with text or a `functionCall` (when function declarations are offered and the newest
 * turn is not a function response), and reports `usageMetadata` the way Gemini does:
 * `promptTokenCount` (4 bytes a token) including `cachedContentTokenCount` (implicit caching:
 * the longest earlier-seen prefix of `contents`, from 1024 tokens), `candidatesTokenCount`,
 * `thoughtsTokenCount` for 2.5 models (whose function calls carry a `thoughtSignature`). Failures are Gemini-shaped: 400 `API_KEY_INVALID`,
 * 403 without a key, 404 for an unknown model, `x-mock-status: <code>` for others.
 * `x-mock-tool-call: <name>` with `x-mock-tool-args: <json>` makes it call that function and,
 * once given its response, answer `The tool returned: <response>`.
 */
import type { ServerResponse } from 'node:http';
import { RecordingServer, type MockRecord } from './http-server.js';
import { approxTokens } from './prompt-cache.js';
import { chunksOf, mockId } from './replies.js';

type Json = Record<string, unknown>;

export interface MockGeminiOptions {
  apiKeys: readonly string[];
  /** Models served (default: a few current ones). */
  models?: readonly string[];
  /** Answer every authenticated request with this status (an overloaded or failing region). */
  failWith?: number;
}

const PATH = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;
const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED',
};
const MIN_CACHE_TOKENS = 1024;
const THOUGHT_TOKENS = 12;

export function geminiErrorText(status: number, message: string, details?: Json[]): string {
  return JSON.stringify({ error: { code: status, message, status: STATUS_NAMES[status] ?? 'UNKNOWN', ...(details ? { details } : {}) } });
}

const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export class MockGemini extends RecordingServer {
  private readonly prefixes = new Set<string>();

  constructor(private readonly opts: MockGeminiOptions) {
    super();
  }

  reset(): void {
    this.requests.length = 0;
    this.prefixes.clear();
  }

  private error(res: ServerResponse, status: number, message: string, details?: Json[]): void {
    this.send(res, status, geminiErrorText(status, message, details));
  }

  protected async handle(rec: MockRecord, res: ServerResponse): Promise<void> {
    const m = PATH.exec(rec.path);
    if (rec.method !== 'POST' || !m) return this.error(res, 404, `mock: no route ${rec.method} ${rec.path}`);
    const params = new URLSearchParams(rec.search.slice(1));
    const header = rec.headers['x-goog-api-key'];
    const key = typeof header === 'string' ? header : params.get('key');
    if (!key) {
      return this.error(res, 403, "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.");
    }
    if (!this.opts.apiKeys.includes(key)) {
      return this.error(res, 400, 'API key not valid. Please pass a valid API key.', [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
      ]);
    }
    const model = decodeURIComponent(m[1]!);
    const models = this.opts.models ?? ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-2.0-flash'];
    if (!models.includes(model)) return this.error(res, 404, `models/${model} is not found for API version v1beta, or is not supported for generateContent.`);
    const status = this.opts.failWith ?? Number(rec.headers['x-mock-status'] ?? 0);
    if (status >= 400) return this.error(res, status, `mock Gemini failure (HTTP ${status})`);
    const body = rec.json;
    if (!body || !Array.isArray(body.contents)) return this.error(res, 400, '* GenerateContentRequest.contents: contents is not specified');

    const { parts, finish } = this.reply(body, model, rec.headers);
    const usage = this.usage(body, rec.body.length, parts, model);
    const base = { modelVersion: model, responseId: mockId('resp') };
    if (m[2] === 'generateContent') {
      this.send(res, 200, JSON.stringify({ candidates: [{ content: { parts, role: 'model' }, finishReason: finish, index: 0 }], usageMetadata: usage, ...base }));
      return;
    }
    // a stream: text in pieces, a function call whole; usage on every chunk (the prompt from the first), complete on the last
    const pieces: Json[][] = parts.length === 1 && typeof parts[0]!.text === 'string' ? chunksOf(String(parts[0]!.text), 24).map((t) => [{ text: t }]) : [parts];
    const chunks = pieces.map((p, i) => {
      const last = i === pieces.length - 1;
      const u = last ? usage : { promptTokenCount: usage.promptTokenCount, ...(usage.cachedContentTokenCount ? { cachedContentTokenCount: usage.cachedContentTokenCount } : {}), totalTokenCount: usage.promptTokenCount };
      return { candidates: [{ content: { parts: p, role: 'model' }, ...(last ? { finishReason: finish } : {}), index: 0 }], usageMetadata: u, ...base };
    });
    const sse = params.get('alt') === 'sse';
    res.writeHead(200, { 'content-type': sse ? 'text/event-stream' : 'application/json; charset=UTF-8' });
    const cut = Number(rec.headers['x-mock-cut-after'] ?? -1);
    for (let i = 0; i < chunks.length; i++) {
      if (i === cut) {
        await new Promise((r) => setTimeout(r, 20));
        res.destroy();
        return;
      }
      const data = JSON.stringify(chunks[i]);
      res.write(sse ? `data: ${data}\r\n\r\n` : `${i === 0 ? '[' : '\n,\r\n'}${data}`);
    }
    res.end(sse ? '' : '\n]');
  }

  private reply(body: Json, model: string, headers: MockRecord['headers']): { parts: Json[]; finish: string } {
    const contents = arr(body.contents);
    const lastParts = arr((contents[contents.length - 1] as Json | undefined)?.parts);
    const answering = lastParts.find((p) => (p as Json).functionResponse !== undefined) as Json | undefined;
    const answeringTool = answering !== undefined;
    const decls = arr(body.tools).flatMap((t) => arr((t as Json).functionDeclarations));
    // `x-mock-tool-call: <name>` (+ `x-mock-tool-args: <json>`): call that declared function, then quote its result
    const wanted = headers['x-mock-tool-call'];
    if (typeof wanted === 'string') {
      if (answering) {
        const result = JSON.stringify((answering.functionResponse as Json).response ?? {});
        return { parts: [{ text: `The tool returned: ${result.slice(0, 2000)}` }], finish: 'STOP' };
      }
      const decl = decls.find((d) => (d as Json).name === wanted);
      if (decl) {
        const raw = headers['x-mock-tool-args'];
        const args = typeof raw === 'string' ? (JSON.parse(raw) as Json) : {};
        return { parts: [{ functionCall: { name: wanted, args } }], finish: 'STOP' };
      }
    }
    const first = decls[0] as Json | undefined;
    const mode = String(((body.toolConfig as Json | undefined)?.functionCallingConfig as Json | undefined)?.mode ?? 'AUTO');
    if (first && typeof first.name === 'string' && !answeringTool && mode !== 'NONE') {
      // 2.5 models sign their calls; the signature must come back with the call in the next turn
      const signature = model.includes('2.5') ? { thoughtSignature: Buffer.from(`sig:${first.name}:${contents.length}`).toString('base64') } : {};
      return { parts: [{ functionCall: { name: first.name, args: { query: 'status of the build' } }, ...signature }], finish: 'STOP' };
    }
    return { parts: [{ text: `This is a mock reply after ${contents.length} content(s). The build is green, 3 tests were fixed and the summary is above.` }], finish: 'STOP' };
  }

  /** Usage as Gemini reports it, with implicit caching of earlier-seen `contents` prefixes. */
  private usage(body: Json, bytes: number, parts: Json[], model: string): Json {
    const prompt = approxTokens(bytes);
    const contents = arr(body.contents);
    let cachedBytes = 0;
    let prefix = JSON.stringify(body.systemInstruction ?? null) + JSON.stringify(body.tools ?? null);
    const seen: string[] = [];
    for (const c of contents.slice(0, -1)) {
      prefix += JSON.stringify(c);
      seen.push(prefix);
      if (this.prefixes.has(prefix)) cachedBytes = Buffer.byteLength(prefix);
    }
    for (const p of seen) this.prefixes.add(p);
    const cachedTokens = Math.min(prompt, approxTokens(cachedBytes));
    const cached = cachedBytes > 0 && cachedTokens >= MIN_CACHE_TOKENS ? cachedTokens : 0;
    const candidates = approxTokens(Buffer.byteLength(JSON.stringify(parts)));
    const thoughts = model.includes('2.5') ? THOUGHT_TOKENS : 0;
    return {
      promptTokenCount: prompt,
      candidatesTokenCount: candidates,
      totalTokenCount: prompt + candidates + thoughts,
      ...(cached ? { cachedContentTokenCount: cached } : {}),
      ...(thoughts ? { thoughtsTokenCount: thoughts } : {}),
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: prompt }],
    };
  }
}
