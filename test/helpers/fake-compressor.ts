/**
 * A test-only compression stage: in the newest user message, any text longer than 2,000
 * characters is cut to its first 200 characters (the body is re-serialised, which a real
 * compressor would avoid). It reports its work on `ex.rec.compression` like a real one, replacing
 * what the real compression stage (which runs before it) reported, placement included.
 */
import { definePlugin } from '../../src/core/plugin.js';
import type { ProxyStage } from '../../src/capabilities/proxy/stage.js';

const approx = (s: string) => Math.ceil(Buffer.byteLength(s) / 4);

type Json = Record<string, unknown>;

function cut(content: unknown): { value: unknown; removed: number; seen: number } {
  if (typeof content === 'string') {
    if (content.length <= 2000) return { value: content, removed: 0, seen: approx(content) };
    const kept = `${content.slice(0, 200)} [compressed]`;
    return { value: kept, removed: approx(content) - approx(kept), seen: approx(content) };
  }
  if (Array.isArray(content)) {
    let removed = 0;
    let seen = 0;
    const value = content.map((b) => {
      const block = b as Json;
      if (block && typeof block.text === 'string') {
        const r = cut(block.text);
        removed += r.removed;
        seen += r.seen;
        return { ...block, text: r.value };
      }
      if (block && block.type === 'tool_result') {
        const r = cut(block.content);
        removed += r.removed;
        seen += r.seen;
        return { ...block, content: r.value };
      }
      return block;
    });
    return { value, removed, seen };
  }
  return { value: content, removed: 0, seen: 0 };
}

export const fakeCompressorStage: ProxyStage = {
  name: 'compression',
  beforeUpstream(ex) {
    const body = ex.json;
    if (!body || !Array.isArray(body.messages)) return;
    const t0 = performance.now();
    const messages = body.messages as Json[];
    const last = messages[messages.length - 1];
    if (!last || last.role !== 'user') return;
    const r = cut(last.content);
    if (r.removed <= 0) return;
    const forwarded = Buffer.from(JSON.stringify({ ...body, messages: [...messages.slice(0, -1), { ...last, content: r.value }] }));
    ex.setForwardBody(forwarded);
    const before = approx(ex.body.toString('utf8'));
    delete ex.rec.ext.placement;
    ex.rec.compression = {
      tokensBefore: before,
      tokensAfter: before - r.removed,
      tokensSaved: r.removed,
      newInputTokens: r.seen,
      transforms: ['log_compressor'],
      timingsMs: { log_compressor: performance.now() - t0 },
      error: null,
    };
  },
};

export const fakeCompressorPlugin = definePlugin({
  name: 'fake-compressor',
  needs: ['proxy'],
  setup(ctx) {
    ctx.need('proxy').addStage(fakeCompressorStage);
  },
});
