/** The upstream HTTP client: one keep-alive undici Agent shared by every provider origin. */
import { Agent } from 'undici';
import type { Config } from '../../config/index.js';

export type UpstreamFailure = 'connect' | 'connect_timeout' | 'timeout' | 'body_timeout' | 'reset' | 'aborted' | 'other';

export function createUpstreamAgent(config: Config): Agent {
  return new Agent({
    connections: config.upstreamConnections,
    connect: { timeout: Math.round(config.connectTimeoutSeconds * 1000) },
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    headersTimeout: Math.round(config.requestTimeoutSeconds * 1000),
    bodyTimeout: Math.round(config.requestTimeoutSeconds * 1000),
  });
}

/** Classifies an undici / socket error. */
export function classifyUpstreamError(err: unknown): UpstreamFailure {
  const e = err as { code?: string; name?: string; cause?: { code?: string } };
  const code = e?.code ?? e?.cause?.code ?? '';
  if (e?.name === 'AbortError' || code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR') return 'aborted';
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'connect_timeout';
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return 'timeout';
  if (code === 'UND_ERR_BODY_TIMEOUT') return 'body_timeout';
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'connect';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE' || code === 'UND_ERR_CLOSED') return 'reset';
  return 'other';
}

