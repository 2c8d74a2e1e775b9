/**
 * The compression mode a request asks for, from its headers (`x-headroom-bypass: true`,
 * `x-headroom-mode: passthrough | audit | simulate`), given the configured default: the
 * convention every capability that rewrites request bodies honours (compression, CCR).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { CompressionMode } from './outcome.js';

export function requestedMode(headers: IncomingHttpHeaders, optimize: boolean): CompressionMode {
  if (!optimize) return 'off';
  const bypass = headers['x-headroom-bypass'];
  if (typeof bypass === 'string' && bypass.trim().toLowerCase() === 'true') return 'bypass';
  const mode = headers['x-headroom-mode'];
  const m = typeof mode === 'string' ? mode.trim().toLowerCase() : '';
  if (m === 'passthrough') return 'passthrough';
  if (m === 'audit' || m === 'simulate') return 'audit';
  return 'optimize';
}
