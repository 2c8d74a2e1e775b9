// npm run bench:translate: the CPU the translators add per request, beside what every proxied
// request already costs on the passthrough path, in one run: a request body parsed and
// serialised (passthrough) vs parsed, translated and serialised; a stream watched by the usage
// observer (passthrough) vs translated chunk by chunk. Single process, no network.
// Results: a Markdown table on stdout, JSON in bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { anthropicMessages } from '../dist/providers/anthropic.js';
import { openaiChat } from '../dist/providers/openai.js';
import { AnthropicToOpenAIStream, OpenAIToAnthropicStream, anthropicToOpenAIRequest, openAIToAnthropicRequest } from '../dist/translate/index.js';

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

// A 400-chunk answer: text deltas then a tool call whose arguments stream in 100 fragments.
const base = { id: 'chatcmpl-b', object: 'chat.completion.chunk', created: 1, model: 'gpt-4.1' };
const oaiChunks = [];
for (let i = 0; i < 300; i++) oaiChunks.push({ ...base, choices: [{ index: 0, delta: { content: `word${i} ` }, finish_reason: null }] });
oaiChunks.push({ ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'write_file', arguments: '' } }] }, finish_reason: null }] });
for (let i = 0; i < 100; i++) oaiChunks.push({ ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: i === 0 ? '{"text":"' : 'abcdefgh' } }] }, finish_reason: null }] });
oaiChunks.push({ ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"}' } }] }, finish_reason: 'tool_calls' }] });
oaiChunks.push({ ...base, choices: [], usage: { prompt_tokens: 30000, completion_tokens: 500, total_tokens: 30500 } });
const oaiStream = Buffer.from(oaiChunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + 'data: [DONE]\n\n');
const tr = new OpenAIToAnthropicStream({ model: 'claude-sonnet-4-5' });
const anthStream = Buffer.from(tr.push(oaiStream) + tr.end());
// delivered in 1 KiB network chunks
const pieces = (buf) => Array.from({ length: Math.ceil(buf.length / 1024) }, (_, i) => buf.subarray(i * 1024, (i + 1) * 1024));
const oaiPieces = pieces(oaiStream);
const anthPieces = pieces(anthStream);

const cases = {
  'request A->O': {
    passthrough: () => JSON.stringify(JSON.parse(anthRaw)),
    translated: () => JSON.stringify(anthropicToOpenAIRequest(JSON.parse(anthRaw), { model: 'gpt-4.1' }).body),
  },
  'request O->A': {
    passthrough: () => JSON.stringify(JSON.parse(oaiRaw)),
    translated: () => JSON.stringify(openAIToAnthropicRequest(JSON.parse(oaiRaw), { model: 'claude-sonnet-4-5' }).body),
  },
  'stream O->A (client Anthropic)': {
    // passthrough of an OpenAI stream: the chat observer reads it
    passthrough: () => {
      const o = openaiChat.streamObserver();
      for (const p of oaiPieces) o.push(p);
      return o.end();
    },
    // translation: translate, and the Anthropic observer reads what the client gets
    translated: () => {
      const t = new OpenAIToAnthropicStream({ model: 'claude-sonnet-4-5' });
      const o = anthropicMessages.streamObserver();
      for (const p of oaiPieces) o.push(Buffer.from(t.push(p)));
      o.push(Buffer.from(t.end()));
      return o.end();
    },
  },
  'stream A->O (client OpenAI)': {
    passthrough: () => {
      const o = anthropicMessages.streamObserver();
      for (const p of anthPieces) o.push(p);
      return o.end();
    },
    translated: () => {
      const t = new AnthropicToOpenAIStream({ model: 'gpt-4.1', includeUsage: true });
      const o = openaiChat.streamObserver();
      for (const p of anthPieces) o.push(Buffer.from(t.push(p)));
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
  c.translated(); // warm up
  const pass = [];
  const trans = [];
  for (let r = 0; r < ROUNDS; r++) {
    pass.push(usPer(c.passthrough));
    trans.push(usPer(c.translated));
  }
  results[name] = { passthroughUs: median(pass), translatedUs: median(trans) };
}

console.log(`\nTranslation CPU per request (median of ${ROUNDS} rounds x ${ITER}; request body ${(anthRaw.length / 1024).toFixed(0)} KiB, stream ${oaiChunks.length} chunks)\n`);
console.log('| case | passthrough work (µs) | with translation (µs) | added (µs) | ratio |');
console.log('|---|---:|---:|---:|---:|');
for (const [name, r] of Object.entries(results)) {
  console.log(`| ${name} | ${r.passthroughUs.toFixed(0)} | ${r.translatedUs.toFixed(0)} | ${(r.translatedUs - r.passthroughUs).toFixed(0)} | ${(r.translatedUs / r.passthroughUs).toFixed(2)}x |`);
}
const dir = join(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'translate.json'), JSON.stringify({ at: new Date().toISOString(), rounds: ROUNDS, iterations: ITER, results }, null, 2));
