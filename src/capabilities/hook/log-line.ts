/** The `-v` per-request summary line of the hook (tsheadroom's fields), built from the outcome. */
import type { RequestOutcome } from '../../core/outcome.js';

const ms = (n: number) => String(Math.round(n));

export function hookLogLine(o: RequestOutcome): string | null {
  const h = o.ext.hook;
  if (o.kind !== 'hook' || !h) return null;
  const prefix = h.coding ? `request(${h.coding})` : 'request';
  if (h.outcome === 'reject_encoding') return `${prefix} wire_bytes=${h.wireBytes} read_ms=${ms(h.readMs)} -> ${h.reason}`;
  return (
    `${prefix} in_msgs=${h.inMsgs} in_bytes=${h.inBytes} out_bytes=${h.outBytes} wire_bytes=${h.wireBytes}` +
    ` dur_ms=${ms(o.timing.totalMs)} read_ms=${ms(h.readMs)} write_ms=${ms(h.writeMs)} queue_ms=${ms(h.queueMs)} worker_ms=${ms(h.workerMs)}` +
    ` slot=${h.slot} cold=${h.cold} model_limit=${h.modelLimit} -> ${h.reason}`
  );
}
