/** What an outcome says about its compression run, as the metrics and the spans read it. */
import { isTransformTiming, type CompressionSummary, type RequestOutcome } from '../../core/outcome.js';

/** Whether a compression pipeline ran for this outcome (an empty summary means it did not). */
export function compressionRan(c: CompressionSummary): boolean {
  if (c.tokensBefore > 0 || c.transforms.length > 0 || c.error !== null) return true;
  for (const _ in c.timingsMs) return true;
  return false;
}

/** The proxy stage that ran compression, if any (by name: `compression`, `compress*`). */
export function compressionStage(stagesMs: Record<string, number>): string | null {
  for (const name in stagesMs) if (name === 'compression' || name.startsWith('compress')) return name;
  return null;
}

/** Timing keys that are pipeline-internal, not transforms (Headroom skips these for stage metrics). */
export const isInternalTiming = (key: string) => !isTransformTiming(key);

/** Pipeline duration in ms: the pipeline's own total, else the compression stage, else the sum of its transforms. */
export function pipelineMs(o: RequestOutcome): number {
  const t = o.compression.timingsMs;
  const total = t.pipeline_total;
  if (typeof total === 'number' && total >= 0) return total;
  const stage = compressionStage(o.timing.stagesMs);
  if (stage !== null) return o.timing.stagesMs[stage] ?? 0;
  let sum = 0;
  for (const k in t) if (!isInternalTiming(k)) sum += t[k] ?? 0;
  return sum;
}

/** Bounded classification of a compression failure message. */
export function compressionErrorType(message: string): string {
  return /time(?:d)?\s*out|timeout/i.test(message) ? 'timeout' : 'error';
}
