/**
 * A seeded generator of realistic agent tool outputs, for tests, benchmarks and demos:
 * search results (JSON) with planted needles and a failed row, structured JSON logs with
 * ERROR/CRITICAL entries and stack traces, API listings, database rows with anomalies, grep
 * output, build logs, plain-text service logs, unified diffs, file listings, Markdown prose
 * and HTML pages. Every sample lists the strings a good compressor must keep (`needles`) and
 * the question an agent would be asking (`query`). Same seed, same bytes.
 */

export type OutputType =
  | 'search_json'
  | 'logs_json'
  | 'api_listing'
  | 'db_rows'
  | 'grep'
  | 'build_log'
  | 'service_log'
  | 'diff'
  | 'file_listing'
  | 'prose'
  | 'html';

export const OUTPUT_TYPES: readonly OutputType[] = ['search_json', 'logs_json', 'api_listing', 'db_rows', 'grep', 'build_log', 'service_log', 'diff', 'file_listing', 'prose', 'html'];

export interface Sample {
  type: OutputType;
  text: string;
  /** Strings that must survive compression (planted ids, error messages). */
  needles: string[];
  /** What the agent asked (used as the relevance query). */
  query: string;
}

/** mulberry32: a small, fast, seeded PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  constructor(readonly r: () => number) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.r() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)] as T;
  }
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(this.r() * 16)];
    return s;
  }
  uuid(): string {
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-a${this.hex(3)}-${this.hex(12)}`;
  }
  normal(mean: number, sd: number): number {
    const u = Math.max(1e-9, this.r());
    const v = this.r();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  words(n: number): string {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.pick(WORDS));
    return out.join(' ');
  }
  sentence(): string {
    const s = this.words(this.int(8, 18));
    return `${s[0]?.toUpperCase()}${s.slice(1)}.`;
  }
  iso(baseMs: number, offsetMs: number): string {
    return new Date(baseMs + offsetMs).toISOString();
  }
}

const WORDS = (
  'service request payment account user order invoice cache database query latency memory cluster node region ' +
  'deployment config token session worker queue message handler retry backoff timeout connection pool shard replica ' +
  'index schema migration batch stream event metric trace span header client server gateway proxy route policy ' +
  'quota limit budget report summary analysis pipeline build release version feature flag rollout canary traffic'
).split(' ');
const BASE_TIME = Date.UTC(2026, 2, 1, 9, 0, 0);

function grow(target: number, make: (i: number) => string, sep = '\n'): string[] {
  const out: string[] = [];
  let size = 0;
  for (let i = 0; size < target; i++) {
    const s = make(i);
    out.push(s);
    size += s.length + sep.length;
  }
  return out;
}

function searchJson(g: Gen, bytes: number): Sample {
  const approx = Math.max(12, Math.round(bytes / 420));
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < approx; i++) {
    items.push({
      id: `doc_${i}`,
      score: Math.round(Math.min(1, Math.max(0, Math.max(0.1, 1 - (0.8 * i) / approx) + (g.r() - 0.5) * 0.1)) * 1e4) / 1e4,
      title: `${g.words(3)} guide ${i}`,
      snippet: g.sentence() + ' ' + g.sentence(),
      source: g.pick(['web', 'internal', 'docs', 'api']),
      metadata: { author: `author_${g.int(1, 40)}`, created_at: g.iso(BASE_TIME, -g.int(0, 9e9)), category: g.pick(['guide', 'reference', 'faq', 'blog']) },
    });
  }
  const needleIds: string[] = [];
  const a = g.int(Math.floor(approx / 4), Math.floor(approx / 2));
  const b = g.int(Math.floor(approx / 2) + 1, approx - 2);
  for (const i of [a, b]) {
    const u = g.uuid();
    Object.assign(items[i] as object, { uuid: u, is_needle: true });
    needleIds.push(u);
  }
  const f = a + 1;
  const err = `Index shard ${g.int(10, 99)} unavailable: upstream returned 503 (ref ${g.hex(8)})`;
  Object.assign(items[f] as object, { status: 'failed', error: err });
  return { type: 'search_json', text: JSON.stringify(items, null, 2), needles: [...needleIds, err], query: `find the document with uuid ${needleIds[0]}` };
}

function logsJson(g: Gen, bytes: number): Sample {
  const approx = Math.max(20, Math.round(bytes / 330));
  const templates = ['Processed request', 'Cache hit for key', 'Connected to replica', 'Flushed batch', 'Rotated session token', 'Scheduled job', 'Health check ok', 'Loaded config'];
  const logs: Record<string, unknown>[] = [];
  const needles: string[] = [];
  const errorAt = new Set<number>();
  while (errorAt.size < 6) errorAt.add(g.int(1, approx - 2));
  const errIdx = [...errorAt].sort((x, y) => x - y);
  for (let i = 0; i < approx; i++) {
    const e: Record<string, unknown> = {
      timestamp: g.iso(BASE_TIME, i * 500),
      level: 'INFO',
      logger: `app.${g.pick(['api', 'db', 'cache', 'auth', 'billing'])}`,
      message: `${g.pick(templates)} ${g.hex(6)} in ${g.int(1, 300)}ms`,
      service: g.pick(['checkout', 'search', 'accounts']),
      hostname: `ip-10-0-${g.int(0, 9)}-${g.int(1, 254)}`,
      trace_id: g.hex(16),
    };
    const r = g.r();
    if (r < 0.1) e.level = 'WARNING';
    else if (r < 0.2) e.level = 'DEBUG';
    const k = errIdx.indexOf(i);
    if (k >= 0) {
      e.level = k === 0 ? 'CRITICAL' : 'ERROR';
      const msg = `${g.pick(['Payment gateway rejected charge', 'Database deadlock detected', 'Upstream connection reset', 'Failed to decode token'])} (incident ${g.hex(8)})`;
      e.message = msg;
      e.exception = { type: g.pick(['TimeoutError', 'ValueError', 'ConnectionError']), message: msg, stacktrace: `Traceback (most recent call last):\n  File "app/handlers.py", line ${g.int(10, 400)}, in handle\n    result = process(req)\nRuntimeError: ${msg}` };
      needles.push(msg);
    }
    logs.push(e);
  }
  return { type: 'logs_json', text: JSON.stringify(logs, null, 2), needles, query: 'why did checkout fail?' };
}

function apiListing(g: Gen, bytes: number): Sample {
  const approx = Math.max(12, Math.round(bytes / 480));
  const data: Record<string, unknown>[] = [];
  for (let i = 0; i < approx; i++) {
    const type = g.pick(['user', 'product', 'order', 'event', 'metric']);
    const id = `${type.slice(0, 3)}_${10000 + i}`;
    const item: Record<string, unknown> = {
      id,
      type,
      attributes: { name: `${g.words(2)}`, status: 'active', region: g.pick(['us-east-1', 'eu-west-1', 'ap-south-1']), plan: g.pick(['free', 'pro', 'team']) },
      links: { self: `https://api.example.com/v2/${type}s/${id}` },
      meta: { created_at: g.iso(BASE_TIME, -g.int(0, 9e9)), updated_at: g.iso(BASE_TIME, -g.int(0, 9e8)) },
    };
    if (g.r() < 0.3) item.relationships = { parent: { id: `org_${g.int(1, 30)}` } };
    data.push(item);
  }
  const bad = data[g.int(1, approx - 2)] as Record<string, unknown>;
  const err = `Billing sync failed for ${String(bad.id)}: card declined`;
  (bad.attributes as Record<string, unknown>).status = 'error';
  bad.error = err;
  return { type: 'api_listing', text: JSON.stringify({ data, meta: { total: approx, page: 1, per_page: approx }, links: { next: null } }, null, 2), needles: [String(bad.id), err], query: 'list the accounts and their plans' };
}

function dbRows(g: Gen, bytes: number): Sample {
  const approx = Math.max(24, Math.round(bytes / 190));
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < approx; i++) {
    rows.push({ id: i + 1, host: `db-${g.int(1, 6)}`, metric: 'cpu_percent', value: Math.round(g.normal(50, 6) * 100) / 100, unit: '%', ts: g.iso(BASE_TIME, i * 60_000), is_anomaly: false });
  }
  const needles: string[] = [];
  for (const i of [Math.floor(approx / 4), Math.floor(approx / 2), Math.floor((3 * approx) / 4)]) {
    const r = rows[i] as Record<string, unknown>;
    // three decimals (normal readings have two), so the value itself is a unique needle
    r.value = Number(`${50 + (g.r() < 0.5 ? -1 : 1) * g.int(35, 45)}.${g.int(10, 99)}${g.int(1, 9)}`);
    r.is_anomaly = true;
    needles.push(String(r.value));
  }
  return { type: 'db_rows', text: JSON.stringify(rows, null, 2), needles, query: 'any unusual cpu readings?' };
}

function grep(g: Gen, bytes: number): Sample {
  const files = Array.from({ length: 40 }, (_, i) => `src/${g.pick(['api', 'core', 'db', 'jobs', 'web'])}/${g.pick(WORDS)}_${i}.ts`);
  const lines = grow(bytes, () => `${g.pick(files)}:${g.int(1, 900)}:    const ${g.pick(WORDS)} = await ${g.pick(WORDS)}.${g.pick(WORDS)}(${g.pick(WORDS)}, '${g.pick(WORDS)}');`);
  const id = `REQ-${g.int(10000, 99999)}`;
  const n1 = `${g.pick(files)}:${g.int(1, 900)}:  if (requestId === '${id}') return replayRequest(requestId);`;
  const n2 = `${g.pick(files)}:${g.int(1, 900)}:  // ${id}: duplicate charge workaround, see incident 42`;
  const e1 = `${g.pick(files)}:${g.int(1, 900)}:    throw new Error('payment capture failed: ' + reason);`;
  lines.splice(Math.floor(lines.length / 3), 0, n1);
  lines.splice(Math.floor((2 * lines.length) / 3), 0, n2);
  lines.splice(Math.floor(lines.length / 2), 0, e1);
  return { type: 'grep', text: lines.join('\n'), needles: [n1, n2, e1], query: `where is ${id} handled?` };
}

function buildLog(g: Gen, bytes: number): Sample {
  const steps = ['Compiling', 'Bundling', 'Linting', 'Resolving', 'Transforming', 'Emitting'];
  const lines = grow(bytes, (i) => `[${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}] INFO ${g.pick(steps)} src/${g.pick(WORDS)}/${g.pick(WORDS)}.ts (${g.int(1, 400)} ms)`);
  const warn = `[10:00] WARN deprecated option "legacyDecorators" in tsconfig.json`;
  const err1 = `src/billing/invoice.ts(${g.int(10, 300)},${g.int(1, 40)}): error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'.`;
  const err2 = `FAIL test/checkout.test.ts > applies discount codes`;
  const trace = ['AssertionError: expected 90 to equal 80', '    at Context.<anonymous> (test/checkout.test.ts:41:18)', '    at processImmediate (node:internal/timers:476:21)'];
  lines.splice(Math.floor(lines.length * 0.2), 0, warn, warn);
  lines.splice(Math.floor(lines.length * 0.55), 0, err1);
  lines.splice(Math.floor(lines.length * 0.8), 0, err2, ...trace);
  lines.push('Test Files  1 failed | 41 passed (42)', '     Tests  1 failed | 611 passed (612)', 'Build failed with 1 error.');
  return { type: 'build_log', text: lines.join('\n'), needles: [err1, err2, trace[0] as string, 'Tests  1 failed | 611 passed (612)'], query: 'why is the build red?' };
}

function serviceLog(g: Gen, bytes: number): Sample {
  let t = 0;
  const lines = grow(bytes, () => {
    t += g.int(5, 900);
    const lvl = g.r() < 0.08 ? 'WARN' : g.r() < 0.2 ? 'DEBUG' : 'INFO';
    return `${g.iso(BASE_TIME, t)} ${lvl} [${g.pick(['http', 'worker', 'scheduler'])}-${g.int(1, 8)}] ${g.pick(['GET', 'POST'])} /api/${g.pick(WORDS)} ${g.pick([200, 200, 200, 201, 204, 304])} ${g.int(1, 900)}ms rid=${g.hex(10)}`;
  });
  const needles: string[] = [];
  for (let k = 0; k < 3; k++) {
    const msg = `${g.iso(BASE_TIME, t + k)} ERROR [worker-${k + 1}] job ${g.hex(8)} crashed: ${g.pick(['disk quota exceeded', 'connection refused by db-3:5432', 'out of memory in image resize'])}`;
    lines.splice(Math.floor((lines.length * (k + 1)) / 4), 0, msg, 'Traceback (most recent call last):', '  File "/srv/app/jobs.py", line 88, in run', '    self.step()', `OSError: ${msg.split(': ').pop()}`);
    needles.push(msg);
  }
  return { type: 'service_log', text: lines.join('\n'), needles, query: 'what went wrong overnight?' };
}

function diff(g: Gen, bytes: number): Sample {
  const out: string[] = [];
  let size = 0;
  let f = 0;
  const needle = `+    if (!session.mfaVerified) throw new AuthError('mfa required');`;
  let planted = false;
  while (size < bytes) {
    const file = `src/${g.pick(WORDS)}/${g.pick(WORDS)}_${f++}.ts`;
    const block = [`diff --git a/${file} b/${file}`, `index ${g.hex(7)}..${g.hex(7)} 100644`, `--- a/${file}`, `+++ b/${file}`];
    let line = g.int(1, 50);
    for (let h = 0; h < g.int(1, 4); h++) {
      const ctx = g.int(6, 12);
      const body: string[] = [];
      for (let c = 0; c < ctx; c++) body.push(`   const ${g.pick(WORDS)} = ${g.pick(WORDS)}(${g.int(1, 99)});`);
      const removed = g.int(0, 3);
      const added = g.int(1, 4);
      for (let c = 0; c < removed; c++) body.push(`-  ${g.pick(WORDS)}.${g.pick(WORDS)}();`);
      for (let c = 0; c < added; c++) body.push(`+  ${g.pick(WORDS)}.${g.pick(WORDS)}(${g.int(1, 9)});`);
      if (!planted && f > 3) {
        body.push(needle);
        planted = true;
      }
      for (let c = 0; c < ctx; c++) body.push(`   return ${g.pick(WORDS)};`);
      const oldLen = body.filter((l) => !l.startsWith('+')).length;
      const newLen = body.filter((l) => !l.startsWith('-')).length;
      block.push(`@@ -${line},${oldLen} +${line},${newLen} @@ function ${g.pick(WORDS)}()`, ...body);
      line += oldLen + g.int(10, 60);
    }
    out.push(...block);
    size += block.join('\n').length + 1;
  }
  return { type: 'diff', text: out.join('\n'), needles: [needle], query: 'review the auth changes' };
}

function fileListing(g: Gen, bytes: number): Sample {
  const dirs = Array.from({ length: 30 }, () => `./${g.pick(['src', 'test', 'packages/core', 'packages/web', 'docs'])}/${g.pick(WORDS)}`);
  const lines = grow(bytes, (i) => `${g.pick(dirs)}/${g.pick(WORDS)}_${i}.${g.pick(['ts', 'ts', 'tsx', 'json', 'md'])}`);
  const needle = `${g.pick(dirs)}/payment_reconciler.ts`;
  lines.splice(Math.floor(lines.length / 2), 0, needle);
  return { type: 'file_listing', text: lines.join('\n'), needles: [needle], query: 'where is the payment reconciler?' };
}

function prose(g: Gen, bytes: number): Sample {
  const fact = 'The signing key rotation runs every 36 hours from the vault-east cluster.';
  const paras = grow(bytes, (i) => (i % 6 === 0 ? `## ${g.words(3)}\n\n` : '') + Array.from({ length: g.int(3, 6) }, () => g.sentence()).join(' '), '\n\n');
  paras.splice(Math.floor(paras.length / 2), 0, `${g.sentence()} ${fact} ${g.sentence()}`);
  return { type: 'prose', text: paras.join('\n\n'), needles: [fact], query: 'how often does the signing key rotation run?' };
}

function html(g: Gen, bytes: number): Sample {
  const fact = 'Refunds are processed within 5 business days.';
  const head = '<!DOCTYPE html><html><head><title>Billing FAQ</title><style>body{font-family:sans-serif}.nav{color:#333}</style><script>window.dataLayer=[];function gtag(){dataLayer.push(arguments)}</script></head><body><nav class="nav"><a href="/">Home</a><a href="/docs">Docs</a></nav><main>';
  const parts = grow(bytes, (i) => `<section class="faq-item" id="q${i}"><h2>${g.words(4)}?</h2><div class="answer"><p>${g.sentence()} ${g.sentence()}</p><p>${g.sentence()}</p></div></section>`, '');
  parts.splice(Math.floor(parts.length / 2), 0, `<section><h2>How long do refunds take?</h2><p>${fact}</p></section>`);
  return { type: 'html', text: `${head}${parts.join('')}</main><footer>Copyright Example Inc.</footer></body></html>`, needles: [fact], query: 'how long do refunds take?' };
}

const MAKERS: Record<OutputType, (g: Gen, bytes: number) => Sample> = {
  search_json: searchJson,
  logs_json: logsJson,
  api_listing: apiListing,
  db_rows: dbRows,
  grep,
  build_log: buildLog,
  service_log: serviceLog,
  diff,
  file_listing: fileListing,
  prose,
  html,
};

/** A sample of `type` of about `bytes` bytes. Same (type, bytes, seed), same text. */
export function generateOutput(type: OutputType, bytes: number, seed = 1): Sample {
  return MAKERS[type](new Gen(rng(seed)), bytes);
}
