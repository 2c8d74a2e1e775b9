/**
 * The cloud platforms' provider routes: which requests are Bedrock's or Vertex's, which
 * provider entry serves each (the one named by `x-headroom-provider`, else the first of the
 * platform's format; none: the public endpoint with the client's own credentials), where it
 * goes and how it is authenticated. What a route needs at forwarding time is kept beside it.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { bedrockAdapter, bedrockErrors, parseBedrockPath, type BedrockPath } from '../../providers/bedrock.js';
import type { ProviderRoute } from '../../providers/routes.js';
import { parseVertexPath, vertexAdapter, vertexEndpoint, vertexErrors, type VertexPath } from '../../providers/vertex.js';
import type { CloudSummary } from './api.js';
import { regionOfSignature } from '../../providers/sigv4.js';
import type { CloudProvider } from './entries.js';

export interface CloudRequest {
  summary: CloudSummary;
  entry: CloudProvider | null;
  baseUrl: string;
  bedrock: BedrockPath | null;
  vertex: VertexPath | null;
}

const SIGNED_BODY =
  'the client signed the body with SigV4 and the proxy has no AWS credentials to sign it again: it is forwarded as received (configure credentials on the bedrock provider to compress)';

export class CloudRoutes {
  private readonly requests = new WeakMap<ProviderRoute, CloudRequest>();

  constructor(
    /** The entries in use, or how to get them now (a reload of the routing file replaces them). */
    entries: readonly CloudProvider[] | (() => readonly CloudProvider[]),
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.providers = typeof entries === 'function' ? entries : () => entries;
  }

  private readonly providers: () => readonly CloudProvider[];

  /** What forwarding needs for a route made here (undefined: not a cloud route). */
  of(route: ProviderRoute): CloudRequest | undefined {
    return this.requests.get(route);
  }

  private entryFor(format: CloudProvider['format'], headers: IncomingHttpHeaders): CloudProvider | null {
    const named = headers['x-headroom-provider'];
    if (typeof named === 'string') {
      const e = this.providers().find((p) => p.name === named && p.format === format);
      if (e) return e;
    }
    return this.providers().find((p) => p.format === format) ?? null;
  }

  readonly resolve = (method: string, path: string, headers: IncomingHttpHeaders): ProviderRoute | null => {
    if (method !== 'POST') return null;
    if (path.startsWith('/model/')) return this.bedrock(path, headers);
    if (path.startsWith('/v1/projects/')) return this.vertexRoute(path, headers);
    return null;
  };

  private bedrock(path: string, headers: IncomingHttpHeaders): ProviderRoute | null {
    const p = parseBedrockPath(path);
    if (!p) return null;
    const entry = this.entryFor('bedrock', headers);
    const authz = typeof headers.authorization === 'string' ? headers.authorization : undefined;
    const region = entry?.region ?? regionOfSignature(authz) ?? this.env.AWS_REGION ?? this.env.AWS_DEFAULT_REGION ?? 'us-east-1';
    const signs = entry !== null && entry.auth.kind !== 'client';
    const clientSigned = !signs && authz?.startsWith('AWS4-HMAC-SHA256') === true;
    const invoke = p.op === 'invoke' || p.op === 'invoke-with-response-stream';
    const route: ProviderRoute = {
      provider: 'aws.bedrock',
      // Converse bodies are Bedrock's own format (read, not compressed); a client-signed body must stay as it is
      api: invoke && !clientSigned ? 'messages' : 'passthrough',
      adapter: bedrockAdapter(p),
      errors: bedrockErrors,
      eventStream: true,
    };
    this.requests.set(route, {
      summary: {
        platform: 'bedrock',
        provider: entry?.name ?? null,
        region,
        auth: signs ? 'signed' : clientSigned ? 'client-sigv4' : 'client',
        unmodifiedBecause: clientSigned && invoke ? SIGNED_BODY : null,
      },
      entry,
      baseUrl: entry?.baseUrl ?? `https://bedrock-runtime.${region}.amazonaws.com`,
      bedrock: p,
      vertex: null,
    });
    return route;
  }

  private vertexRoute(path: string, headers: IncomingHttpHeaders): ProviderRoute | null {
    const p = parseVertexPath(path);
    if (!p) return null;
    const entry = this.entryFor('vertex', headers);
    const adapter = vertexAdapter(p);
    const route: ProviderRoute = { provider: 'gcp.vertex_ai', api: adapter.api, adapter, errors: vertexErrors };
    this.requests.set(route, {
      summary: {
        platform: 'vertex',
        provider: entry?.name ?? null,
        region: p.location,
        auth: entry && entry.auth.kind !== 'client' ? 'oauth' : 'client',
        unmodifiedBecause: null,
      },
      entry,
      baseUrl: entry?.baseUrl ?? vertexEndpoint(p.location),
      bedrock: null,
      vertex: p,
    });
    return route;
  }
}
