/**
 * The signing link (chain position 700, nearest the upstream): for a cloud route it sets the
 * call's target (the platform endpoint) and its credentials, on the FINAL body of each call
 * (after compression and CCR's follow-up rounds; a retry is signed afresh):
 *
 * - Bedrock with credentials: SigV4 over method, path, host, content type and body; the
 *   client's own `authorization` and `x-amz-*` signing headers are not forwarded.
 * - Vertex with credentials: `Authorization: Bearer <token>` from google-auth-library; when
 *   Vertex refuses the token (401: revoked, or expired early), the call is made once more with
 *   a freshly fetched one before the client sees anything.
 * - Otherwise the client's headers pass through unchanged (its own signature or token).
 */
import type { CallFailure, CallHandler, ForwardCall, ForwardLink, UpstreamTarget } from '../proxy/api.js';
import { BedrockSigner, credentialsFor } from './aws.js';
import type { CloudProvider } from './entries.js';
import { VertexTokens } from './google.js';
import type { CloudRequest, CloudRoutes } from './routes.js';

/** The chain's `LINK_POSITION.signing`. */
const POSITION = 700;

const AWS_SIGNING_HEADERS = ['authorization', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256'];

/** Holds back a 401 answer to a call made with the proxy's Google token, and asks for one more attempt instead. */
class RetryOnRefusedToken implements CallHandler {
  private refused = false;

  constructor(
    private readonly out: CallHandler,
    private readonly again: () => void,
  ) {}

  onHeaders(status: number, headers: Parameters<CallHandler['onHeaders']>[1], control: Parameters<CallHandler['onHeaders']>[2]): void {
    if (status === 401) this.refused = true;
    else this.out.onHeaders(status, headers, control);
  }

  onData(chunk: Buffer, control: Parameters<CallHandler['onData']>[1]): void {
    if (!this.refused) this.out.onData(chunk, control);
  }

  onEnd(): void {
    if (this.refused) this.again();
    else this.out.onEnd();
  }

  onError(f: CallFailure): void {
    this.out.onError(this.refused ? { ...f, midBody: false } : f);
  }
}

const failure = (status: number, message: string): CallFailure => ({ kind: 'other', midBody: false, status, type: 'internal', message });
const gone: CallFailure = { kind: 'aborted', midBody: false, status: 499, type: 'client_abort', message: 'client closed the connection' };

export class CloudAuth {
  // keyed by the entry object: a reload makes new entries, so changed credentials take effect
  private readonly signers = new WeakMap<CloudProvider, Map<string, BedrockSigner | null>>();
  private readonly tokens = new WeakMap<CloudProvider, VertexTokens | null>();

  signer(entry: CloudProvider, region: string): BedrockSigner | null {
    let byRegion = this.signers.get(entry);
    if (!byRegion) this.signers.set(entry, (byRegion = new Map()));
    let s = byRegion.get(region);
    if (s === undefined) {
      const creds = credentialsFor(entry.auth);
      s = creds ? new BedrockSigner(region, creds) : null;
      byRegion.set(region, s);
    }
    return s;
  }

  vertex(entry: CloudProvider): VertexTokens | null {
    let t = this.tokens.get(entry);
    if (t === undefined) {
      t = entry.auth.kind === 'google' ? new VertexTokens(entry.auth.keyFile) : null;
      this.tokens.set(entry, t);
    }
    return t;
  }
}

async function authHeaders(call: ForwardCall, info: CloudRequest, url: URL, path: string, auth: CloudAuth): Promise<Pick<UpstreamTarget, 'setHeaders' | 'dropHeaders'>> {
  const entry = info.entry;
  if (!entry) return {};
  if (info.bedrock) {
    const signer = auth.signer(entry, info.summary.region ?? 'us-east-1');
    if (!signer) return {};
    const ct = call.ex.req.headers['content-type'];
    const headers = await signer.sign({ url, path, body: call.body ?? call.ex.forwardBody, contentType: typeof ct === 'string' ? ct : 'application/json' });
    return { setHeaders: headers, dropHeaders: AWS_SIGNING_HEADERS };
  }
  const tokens = auth.vertex(entry);
  if (!tokens) return {};
  return { setHeaders: { authorization: `Bearer ${await tokens.token()}` }, dropHeaders: ['authorization'] };
}

function upstreamPath(call: ForwardCall, info: CloudRequest): string {
  const ex = call.ex;
  if (info.bedrock) return `/model/${encodeURIComponent(info.bedrock.modelId)}/${info.bedrock.op}${ex.search}`;
  // the client's own path (as Google's SDKs write it: `@` in model versions), its project replaced when the entry names one
  const project = info.entry?.project;
  const path = project ? ex.path.replace(/^\/v1\/projects\/[^/]+\//, `/v1/projects/${encodeURIComponent(project)}/`) : ex.path;
  return path + ex.search;
}

export function signingLink(routes: CloudRoutes, auth: CloudAuth): ForwardLink {
  return {
    name: 'cloud-signing',
    position: POSITION,
    wrap: (next) => (call: ForwardCall, handler: CallHandler) => {
      const info = routes.of(call.ex.route);
      if (!info) return next(call, handler);
      const ex = call.ex;
      ex.rec.ext.cloud ??= info.summary;
      // a client-signed Bedrock body goes to the path it signed, byte for byte
      const path = info.summary.auth === 'client-sigv4' ? ex.path + ex.search : upstreamPath(call, info);
      const url = new URL(info.baseUrl);
      const basePath = url.pathname === '/' ? '' : url.pathname;
      const model = info.bedrock?.modelId ?? info.vertex?.model ?? '';
      const base = { provider: info.entry?.name ?? ex.route.provider, format: info.summary.platform, baseUrl: info.baseUrl, path, model };
      const tokens = info.vertex && info.entry ? auth.vertex(info.entry) : null;
      const send = (retried: boolean) => {
        const t0 = performance.now();
        authHeaders(call, info, url, basePath + path, auth).then(
          (headers) => {
            // signing (or a token, fetched once an hour) is the proxy's time, not the upstream's
            ex.rec.overheadMs += performance.now() - t0;
            if (ex.abort.aborted) return handler.onError(gone);
            const out = tokens && !retried ? new RetryOnRefusedToken(handler, () => {
              tokens.invalidate();
              send(true);
            }) : handler;
            // the entry selector is the proxy's header (a client-signed request is sent as signed)
            const dropHeaders = info.summary.auth === 'client-sigv4' ? headers.dropHeaders : [...(headers.dropHeaders ?? []), 'x-headroom-provider'];
            next({ ...call, target: { ...base, ...headers, ...(dropHeaders ? { dropHeaders } : {}) } }, out);
          },
          (err: unknown) => {
            if (ex.abort.aborted) return handler.onError(gone);
            const what = info.bedrock ? 'sign the request for Bedrock (SigV4)' : 'get a Google access token for Vertex';
            handler.onError(failure(500, `headroom-ts could not ${what}: ${(err as Error)?.message ?? String(err)}`));
          },
        );
      };
      send(false);
    },
  };
}
