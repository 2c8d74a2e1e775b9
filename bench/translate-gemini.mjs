// node bench/translate-gemini.mjs (after npm run build): the CPU the Gemini translators add per
// request beside the passthrough work, in one run: a request body parsed and serialised
// (passthrough) vs parsed, translated to Gemini and serialised; a Gemini SSE answer read by
// the Gemini usage observer (native passthrough) vs translated for an OpenAI or an Anthropic
// client and read by that client's observer. Single process, no network.
// Results: a Markdown table on stdout, JSON in bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { anthropicMessages } from '../dist/providers/anthropic.js';
import { geminiAdapter } from '../dist/providers/gemini.js';
import { openaiChat } from '../dist/providers/openai.js';
import { anthropicToOpenAIRequest } from '../dist/translate/index.js';
import { GeminiToAnthropicStream, GeminiToOpenAIStream, anthropicToGeminiRequest, openAIToGeminiRequest } from '../dist/translate/gemini/index.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ITER = Number(process.env.BENCH_ITER ?? 200);

// A Claude-Code-like turn: 40 tool round trips with file contents, ~120 KB.
const file = 'export function f(x: number) {\n  return x * 2; // double it\n}\n'.repeat(40);
const anthMessages = [{ role: 'user', content: 'Refactor the project.' }];
for (let i = 0; i < 40; i++) {
  anthMessages.push({ role: 'assistant', content: [{ type: 'text', text: `Reading file ${i}.` }, { type: 'tool_use', id: `toolu_${i}`, name: 'read_file', input: { path: `src/f${i}.ts` } }] });
  anthMessages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${i}`, content: file }] });
}
const tools = ['read_file', 'write_file', 'bash', 'grep'].map((name) => ({ name, description: `The ${name} tool`, input_schema: { type: 'object', properties: { path: { type: 'string' } } } }));
const anthRaw = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 32000, system: 'You are a coding agent.', messages: anthMessages, tools, stream: true });
const oaiRaw = JSON.stringify(anthropicToOpenAIRequest(JSON.parse(anthRaw), { model: 'gpt-4.1' }).body);

// A 300-chunk Gemini answer: text chunks, then a function call, then the final usage.
const chunks = [];
for (let i = 0; i < 300; i++) chunks.push({ candidates: [{ content: { role: 'model', parts: [{ text: `word${i} ` }] }, index: 0 }], usageMetadata: { promptTokenCount: 30000 }, modelVersion: 'gemini-2.5-pro' });
chunks.push({ candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'write_file', args: { text: 'abcdefgh'.repeat(100) } } }] }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 30000, candidatesTokenCount: 500, thoughtsTokenCount: 40, cachedContentTokenCount: 20000 }, modelVersion: 'gemini-2.5-pro' });
const gemStream = Buffer.from(chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`).join(''));
const pieces = Array.from({ length: Math.ceil(gemStream.length / 1024) }, (_, i) => gemStream.subarray(i * 1024, (i + 1) * 1024));
const native = () => {
  const o = geminiAdapter('gemini-2.5-pro', true).streamObserver();
  for (const p of pieces) o.push(p);
  return o.end();
};

const cases = {
  'request O->G': {
    passthrough: () => JSON.stringify(JSON.parse(oaiRaw)),
    translated: () => JSON.stringify(openAIToGeminiRequest(JSON.parse(oaiRaw), { model: 'gemini-2.5-pro' }).body),
  },
  'request A->G': {
    passthrough: () => JSON.stringify(JSON.parse(anthRaw)),
    translated: () => JSON.stringify(anthropicToGeminiRequest(JSON.parse(anthRaw), { model: 'gemini-2.5-pro' }).body),
  },
  'stream G->O (client OpenAI)': {
    passthrough: native,
    translated: () => {
      const t = new GeminiToOpenAIStream({ model: 'gemini-2.5-pro', includeUsage: true });
      const o = openaiChat.streamObserver();
      for (const p of pieces) o.push(Buffer.from(t.push(p)));
      o.push(Buffer.from(t.end()));
      return o.end();
    },
  },
  'stream G->A (client Anthropic)': {
    passthrough: native,
    translated: () => {
      const t = new GeminiToAnthropicStream({ model: 'claude-sonnet-4-5' });
      const o = anthropicMessages.streamObserver();
      for (const p of pieces) o.push(Buffer.from(t.push(p)));
      o.push(Buffer.from(t.end()));
      return o.end();
    },
  },
};

function usPer(fn) {
  const t0 = process.cpuUsage();
  for (let i = 0; i < ITER; i++) fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / ITER;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const results = {};
for (const [name, c] of Object.entries(cases)) {
  c.passthrough();
  c.translated();
  const pass = [];
  const trans = [];
  for (let r = 0; r < ROUNDS; r++) {
    pass.push(usPer(c.passthrough));
    trans.push(usPer(c.translated));
  }
  results[name] = { passthroughUs: median(pass), translatedUs: median(trans) };
}

console.log(`\nGemini translation CPU per request (median of ${ROUNDS} rounds x ${ITER}; request body ${(anthRaw.length / 1024).toFixed(0)} KiB, stream ${chunks.length} chunks)\n`);
console.log('| case | passthrough work (µs) | with translation (µs) | added (µs) | ratio |');
console.log('|---|---:|---:|---:|---:|');
for (const [name, r] of Object.entries(results)) {
  console.log(`| ${name} | ${r.passthroughUs.toFixed(0)} | ${r.translatedUs.toFixed(0)} | ${(r.translatedUs - r.passthroughUs).toFixed(0)} | ${(r.translatedUs / r.passthroughUs).toFixed(2)}x |`);
}
const dir = join(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'translate-gemini.json'), JSON.stringify({ at: new Date().toISOString(), rounds: ROUNDS, iterations: ITER, results }, null, 2));
