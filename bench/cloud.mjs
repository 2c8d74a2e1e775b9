// node bench/cloud.mjs (after npm run build): the CPU the cloud platforms add per request,
// beside what the same request costs on the Anthropic API path, in one run: a Claude-Code-like
// stream read by the Anthropic SSE observer vs the same events as a Bedrock event stream read
// by the Bedrock observer (frame split, CRC, base64, then the same Anthropic reader); a
// ~120 KiB body parsed (what every LLM request costs) vs parsed and SigV4-signed.
// Single process, no network. Results: a Markdown table on stdout, JSON in bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import { anthropicMessages } from '../dist/providers/anthropic.js';
import { bedrockAdapter } from '../dist/providers/bedrock.js';
import { encodeEvent } from '../dist/providers/eventstream.js';
import { Sha256 } from '../dist/providers/sigv4.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ITER = Number(process.env.BENCH_ITER ?? 200);

const file = 'export function f(x: number) {\n  return x * 2; // double it\n}\n'.repeat(40);
const messages = [{ role: 'user', content: 'Refactor the project.' }];
for (let i = 0; i < 40; i++) {
  messages.push({ role: 'assistant', content: [{ type: 'text', text: `Reading file ${i}.` }, { type: 'tool_use', id: `toolu_${i}`, name: 'Read', input: { path: `src/f${i}.ts` } }] });
  messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${i}`, content: file }] });
}
const body = Buffer.from(JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 32000, messages }));

// a 400-event answer: text deltas, then a tool call
const events = [{ type: 'message_start', message: { id: 'm', model: 'claude', usage: { input_tokens: 30000, cache_read_input_tokens: 20000, output_tokens: 1 } } }, { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }];
for (let i = 0; i < 400; i++) events.push({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: `word${i} ` } });
events.push({ type: 'content_block_stop', index: 0 }, { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 500 } }, { type: 'message_stop' });
const sse = Buffer.from(events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join(''));
const es = Buffer.concat(events.map((e) => encodeEvent('chunk', JSON.stringify({ bytes: Buffer.from(JSON.stringify(e)).toString('base64'), p: 'abcd' }))));
const pieces = (buf) => Array.from({ length: Math.ceil(buf.length / 1024) }, (_, i) => buf.subarray(i * 1024, (i + 1) * 1024));
const ssePieces = pieces(sse);
const esPieces = pieces(es);
const bedrock = bedrockAdapter({ modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', op: 'invoke-with-response-stream' });
const signer = new SignatureV4({ service: 'bedrock', region: 'us-east-1', sha256: Sha256, credentials: { accessKeyId: 'AKIDBENCHFAKE', secretAccessKey: 'bench-fake-secret' } });

const cases = {
  'stream usage (400 events)': {
    base: () => {
      const o = anthropicMessages.streamObserver();
      for (const p of ssePieces) o.push(p);
      return o.end();
    },
    cloud: () => {
      const o = bedrock.streamObserver();
      for (const p of esPieces) o.push(p);
      return o.end();
    },
  },
  [`request body ${(body.length / 1024).toFixed(0)} KiB`]: {
    base: () => JSON.parse(body.toString('utf8')),
    cloud: async () => {
      JSON.parse(body.toString('utf8'));
      return signer.sign({ method: 'POST', protocol: 'https:', hostname: 'bedrock-runtime.us-east-1.amazonaws.com', path: '/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke', headers: { host: 'bedrock-runtime.us-east-1.amazonaws.com', 'content-type': 'application/json' }, body });
    },
  },
};

async function usPer(fn) {
  const t0 = process.cpuUsage();
  for (let i = 0; i < ITER; i++) await fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / ITER;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const results = {};
for (const [name, c] of Object.entries(cases)) {
  await c.base();
  await c.cloud();
  const base = [];
  const cloud = [];
  for (let r = 0; r < ROUNDS; r++) {
    base.push(await usPer(c.base));
    cloud.push(await usPer(c.cloud));
  }
  results[name] = { anthropicUs: median(base), cloudUs: median(cloud) };
}
console.log(`\nCloud platform CPU per request (median of ${ROUNDS} rounds x ${ITER})\n`);
console.log('| case | Anthropic API path (µs) | Bedrock path (µs) | added (µs) | ratio |');
console.log('|---|---:|---:|---:|---:|');
for (const [name, r] of Object.entries(results)) {
  console.log(`| ${name} | ${r.anthropicUs.toFixed(0)} | ${r.cloudUs.toFixed(0)} | ${(r.cloudUs - r.anthropicUs).toFixed(0)} | ${(r.cloudUs / r.anthropicUs).toFixed(2)}x |`);
}
const dir = join(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'cloud.json'), JSON.stringify({ at: new Date().toISOString(), rounds: ROUNDS, iterations: ITER, results }, null, 2));
