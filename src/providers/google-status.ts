/**
 * Google's canonical status names (`error.status` of Google APIs: Gemini, Vertex AI) for an
 * HTTP status, or for the kind of error the proxy itself answers.
 */
import type { ErrorType } from './types.js';

export function googleStatus(status: number, type: ErrorType): string {
  if (type === 'budget_exceeded' || type === 'rate_limited' || status === 429) return 'RESOURCE_EXHAUSTED';
  if (type === 'upstream_timeout' || type === 'body_timeout' || status === 504 || status === 408) return 'DEADLINE_EXCEEDED';
  if (type === 'upstream_connect' || type === 'upstream_overloaded' || type === 'shutdown') return 'UNAVAILABLE';
  if (type === 'client_abort') return 'CANCELLED';
  switch (status) {
    case 400:
    case 413:
    case 415:
    case 422:
      return 'INVALID_ARGUMENT';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'PERMISSION_DENIED';
    case 404:
      return 'NOT_FOUND';
    case 409:
      return 'ABORTED';
    case 499:
      return 'CANCELLED';
    case 502:
    case 503:
    case 529:
      return 'UNAVAILABLE';
    default:
      return status >= 400 && status < 500 ? 'FAILED_PRECONDITION' : 'INTERNAL';
  }
}
