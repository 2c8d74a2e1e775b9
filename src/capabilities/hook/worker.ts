/**
 * A hook worker thread: runs the pure compression engine on `request_body.messages` of an
 * envelope and returns the request body with only the messages' bytes replaced.
 */
import { parentPort } from 'node:worker_threads';
import { compressRequest } from '../../compress/engine.js';
import { contextWindowFor } from '../../compress/context-window.js';
import { DEFAULT_SETTINGS } from '../../compress/options.js';
import { warmTokenizers } from '../../compress/tokens.js';
import { type JNode, type JObject, scanJson } from '../../compress/json-scan.js';
import { DEFAULT_MODEL } from '../../sdk/compress.js';
import { VERSION } from '../../version.js';
import type { FromWorker, ToWorker, WorkJob, WorkResult } from './protocol.js';
import { round1 } from '../../util/round.js';

const child = (o: JObject, key: string): JNode | undefined => {
  const i = o.keys.lastIndexOf(key);
  return i === -1 ? undefined : o.vals[i];
};

let served = 0;

export function compressEnvelope(job: WorkJob, clock: () => number = () => performance.now()): WorkResult {
  const t0 = clock();
  const buf = Buffer.from(job.envelope.buffer, job.envelope.byteOffset, job.envelope.byteLength);
  const root = scanJson(buf);
  if (root.t !== 'o') throw new Error('envelope is not an object');
  const rb = child(root, 'request_body');
  if (!rb || rb.t !== 'o') throw new Error('request_body is not an object');
  const msgs = child(rb, 'messages');
  if (!msgs || msgs.t !== 'a') throw new Error('request_body.messages is not an array');
  const key = job.api === 'responses' ? 'input' : 'messages';
  const head = Buffer.from(`{"${key}":`);
  const sub = Buffer.concat([head, buf.subarray(msgs.s, msgs.e), Buffer.from('}')]);
  const model = job.model || DEFAULT_MODEL;
  const window = job.model ? contextWindowFor(job.model) : null;
  const engine = compressRequest({
    body: sub,
    api: job.api,
    model,
    settings: job.settings,
    scope: 'all',
    ...(window ? { contextWindow: window } : {}),
  });
  const cold = served === 0;
  served++;
  const inBytes = msgs.e - msgs.s;
  let requestBody: Uint8Array | null = null;
  let outBytes = inBytes;
  if (engine.body && engine.tokensSaved > 0) {
    const newMsgs = engine.body.subarray(head.length, engine.body.length - 1);
    outBytes = newMsgs.length;
    requestBody = Buffer.concat([buf.subarray(rb.s, msgs.s), newMsgs, buf.subarray(msgs.e, rb.e)]);
  }
  return {
    requestBody,
    inBytes,
    outBytes,
    tokensBefore: engine.tokensBefore,
    tokensAfter: requestBody ? engine.tokensAfter : engine.tokensBefore,
    tokensSaved: requestBody ? engine.tokensSaved : 0,
    transforms: requestBody ? engine.transforms : [],
    savedByTransform: requestBody ? engine.savedByTransform : {},
    elapsedMs: round1((clock() - t0)),
    coldFirstCall: cold,
    modelLimit: job.model ? (window ?? 200_000) : 0,
    ccr: requestBody ? engine.ccr : [],
  };
}

function warmUp(): void {
  warmTokenizers();
  const text = Array.from({ length: 60 }, (_, i) => `src/module${i % 7}/file${i}.ts`).join('\n');
  const env = Buffer.from(JSON.stringify({ request_body: { messages: [{ role: 'user', content: 'list files' }, { role: 'tool', tool_call_id: 'w', content: text }] } }));
  compressEnvelope({ envelope: env, api: 'chat', model: '', settings: DEFAULT_SETTINGS });
  served = 0;
}

const port = parentPort;
if (port) {
  warmUp();
  port.on('message', (msg: ToWorker) => {
    if (msg?.type !== 'job') return;
    let reply: FromWorker;
    try {
      reply = { type: 'result', id: msg.id, ok: true, result: compressEnvelope(msg.job) };
    } catch (err) {
      reply = { type: 'result', id: msg.id, ok: false, error: (err as Error)?.message ?? String(err) };
    }
    const body = reply.ok ? reply.result.requestBody : null;
    const transfer = body && body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? [body.buffer as ArrayBuffer] : [];
    port.postMessage(reply, transfer);
  });
  const ready: FromWorker = { type: 'ready', version: VERSION };
  port.postMessage(ready);
}
