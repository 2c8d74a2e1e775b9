/**
 * OpenAI function names must match `^[a-zA-Z0-9_-]{1,64}$`; Anthropic clients (Claude Code with
 * MCP servers: `mcp__server__tool`) may send longer ones or other characters. Such names are sent
 * under a safe stand-in (invalid characters -> `_`, cut to 55 characters, suffixed with a hash of the
 * original) and the map restores the original in responses and streams. Names that already fit
 * pass unchanged, so most requests carry no map at all.
 */
import { createHash } from 'node:crypto';

const VALID = /^[a-zA-Z0-9_-]{1,64}$/;

/** Sent name -> the client's original name (only for names that had to change). */
export type ToolNameMap = Record<string, string>;

export class ToolNames {
  private readonly toSent = new Map<string, string>();
  private readonly fromSent = new Map<string, string>();

  /** The name to send for a client's tool name (stable within one request). */
  send(original: string): string {
    const known = this.toSent.get(original);
    if (known !== undefined) return known;
    let sent = original;
    if (!VALID.test(original)) {
      const clean = original.replace(/[^a-zA-Z0-9_-]/g, '_') || 'tool';
      const hash = createHash('sha256').update(original).digest('hex').slice(0, 8);
      sent = `${clean.slice(0, 55)}_${hash}`;
      for (let n = 2; this.fromSent.has(sent); n++) sent = `${clean.slice(0, 52)}_${hash}_${n}`;
    }
    this.toSent.set(original, sent);
    this.fromSent.set(sent, original);
    return sent;
  }

  /** Only the renamed ones, or undefined when every name passed unchanged. */
  map(): ToolNameMap | undefined {
    const out: ToolNameMap = {};
    for (const [sent, original] of this.fromSent) if (sent !== original) out[sent] = original;
    return Object.keys(out).length ? out : undefined;
  }
}

export const restoreName = (map: ToolNameMap | undefined, sent: string): string => (map && Object.hasOwn(map, sent) ? (map[sent] as string) : sent);
