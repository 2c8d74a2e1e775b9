// Content handling on real kinds of tool output: prefixed build and service logs, exception
// names, terraform/helm plans and kubectl output, listings and the question's short terms,
// plurals and abbreviations, wrapped base64, and small or error-bearing JSON.
import { describe, expect, it } from 'vitest';
import { detectContent } from '../src/compress/detect.js';
import { hasErrorSignal, parseQuery, stem, wordPieces } from '../src/compress/lexical.js';
import { findMarkers } from '../src/compress/markers.js';
import { routeText } from '../src/compress/router.js';
import { crushJson } from '../src/compress/transforms/json-crusher.js';
import { levelOf } from '../src/compress/transforms/log.js';
import { compress } from '../src/sdk/compress.js';
import { seeded, tctx } from './helpers/compress.js';

/** One Anthropic agent turn: the question, a Bash call, its output. */
function turn(question: string, output: string, extra: Record<string, unknown> = {}) {
  return [
    { role: 'user', content: question },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'run' } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: output, ...extra }] },
  ];
}

function toolOutput(messages: unknown[]): string {
  const last = messages[messages.length - 1] as { content: { content: string }[] };
  return last.content[0]!.content;
}

function run(question: string, output: string, extra: Record<string, unknown> = {}) {
  const r = compress(turn(question, output, extra), { model: 'claude-sonnet-4-5' });
  return { r, out: toolOutput(r.messages) };
}

// ------------------------------------------------------------------------------------------
describe('prefixed logs', () => {
  function buildkit(): string {
    const r = seeded(7);
    const L = ['#0 building with "default" instance using docker driver', '', '#1 [internal] load build definition from Dockerfile', '#1 transferring dockerfile: 987B done', '#1 DONE 0.0s', ''];
    L.push('#6 [3/6] RUN pip install --no-cache-dir -r requirements.txt');
    let t = 1;
    for (const pkg of ['flask', 'gunicorn', 'requests', 'sqlalchemy', 'marshmallow', 'celery', 'redis', 'boto3', 'botocore', 'jmespath', 'urllib3', 'certifi', 'idna', 'click', 'itsdangerous', 'werkzeug', 'jinja2', 'markupsafe', 'blinker', 'kombu', 'vine', 'amqp', 'billiard', 'tzdata']) {
      L.push(`#6 ${(t += r()).toFixed(3)} Collecting ${pkg}>=1.0 (from -r requirements.txt (line 3))`);
      L.push(`#6 ${(t += r()).toFixed(3)}   Downloading ${pkg}-${Math.floor(r() * 9)}.${Math.floor(r() * 20)}.0-py3-none-any.whl (${Math.floor(r() * 900)} kB)`);
      L.push(`#6 ${(t += r()).toFixed(3)}      ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ ${Math.floor(r() * 900)}.0/900.0 kB 12.1 MB/s eta 0:00:00`);
    }
    L.push(`#6 ${(t += 1).toFixed(3)} Successfully installed flask gunicorn requests`, '#6 DONE 31.4s', '', '#7 [4/6] COPY . .', '#7 DONE 0.2s', '');
    L.push('#8 [5/6] RUN python -m compileall -q app && python -c "import app.settings"');
    L.push('#8 1.204 Traceback (most recent call last):', '#8 1.205   File "<string>", line 1, in <module>', '#8 1.205   File "/srv/app/settings.py", line 2, in <module>', '#8 1.206     from pydantic_settings import BaseSettings');
    L.push("#8 1.207 ModuleNotFoundError: No module named 'pydantic_settings'");
    L.push('#8 ERROR: process "/bin/sh -c python -m compileall -q app && python -c \\"import app.settings\\"" did not complete successfully: exit code: 1');
    L.push('------', ' > [5/6] RUN python -m compileall -q app:', "1.207 ModuleNotFoundError: No module named 'pydantic_settings'", '------');
    L.push('ERROR: failed to solve: process "/bin/sh -c python -m compileall -q app" did not complete successfully: exit code: 1');
    return L.join('\n');
  }

  it('reads BuildKit step lines as a log and keeps the exception and the final failure, not the downloads', () => {
    const log = buildkit();
    expect(detectContent(log)).toBe('log');
    const { r, out } = run('why does docker build fail?', log);
    expect(r.transforms_applied).toEqual(['log_compressor']);
    expect(out).toContain("ModuleNotFoundError: No module named 'pydantic_settings'");
    expect(out).toContain('ERROR: failed to solve');
    expect(out).toContain('exit code: 1');
    expect(out).toContain('#8 [5/6] RUN python -m compileall'); // the step that failed
    expect(out.split('\n').filter((l) => l.includes('Downloading')).length).toBeLessThan(3);
    expect(r.tokens_saved / r.tokens_before).toBeGreaterThan(0.5);
  });

  it('reads timestamped, tagged, coloured and step-numbered lines by their message', () => {
    const r = seeded(3);
    const stamp = (i: number) => `2026-04-11T08:${String(10 + Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.${String(Math.floor(r() * 1e7)).padStart(7, '0')}Z`;
    const gha = Array.from({ length: 120 }, (_, i) => `${stamp(i)} Progress: resolved ${i * 7}, reused ${i * 6}, downloaded ${i % 5}, added ${i * 6}`);
    gha.splice(90, 0, `${stamp(90)} src/queue/consumer.ts(41,7): error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'.`);
    gha.push(`${stamp(121)} ##[error]Process completed with exit code 2.`);
    const compose = Array.from({ length: 150 }, (_, i) => `\u001b[3${i % 6}m${['api-1', 'worker-1', 'db-1'][i % 3]!.padEnd(9)}|\u001b[0m ${['GET /v1/items 200 4ms', 'job 8812 done', 'checkpoint complete'][i % 3]}`);
    compose.splice(100, 0, '\u001b[33mworker-1 |\u001b[0m panic: runtime error: index out of range [3] with length 3', '\u001b[33mworker-1 |\u001b[0m ', '\u001b[33mworker-1 |\u001b[0m goroutine 41 [running]:', '\u001b[33mworker-1 |\u001b[0m main.(*Batcher).flush(0xc000120000)', '\u001b[33mworker-1 |\u001b[0m \t/app/batcher.go:77 +0x1d4');
    const pods = Array.from({ length: 150 }, (_, i) => `[pod/web-5d9c7b-${['a1b2c', 'd3e4f', 'g5h6i'][i % 3]}/web] 2026-04-11T08:00:${String(i % 60).padStart(2, '0')}Z INFO GET /healthz 200 ${i % 9}ms`);
    pods.splice(120, 0, '[pod/web-5d9c7b-d3e4f/web] 2026-04-11T08:00:59Z FATAL could not bind 0.0.0.0:8080: address already in use');
    const steps = Array.from({ length: 96 }, (_, i) => (i % 8 === 0 ? `Step ${i / 8 + 1}/12 : RUN make -C lib${i / 8}` : i % 8 === 1 ? ` ---> Running in ${(i * 7919).toString(16)}` : `cc -O2 -c src/unit${i}.c -o build/unit${i}.o`));
    steps.splice(60, 0, 'make: *** [Makefile:31: build/libfoo.o] Error 1');
    for (const [log, needle] of [
      [gha, "error TS2345: Argument of type 'string'"],
      [compose, 'panic: runtime error: index out of range [3] with length 3'],
      [pods, 'FATAL could not bind 0.0.0.0:8080'],
      [steps, 'make: *** [Makefile:31: build/libfoo.o] Error 1'],
    ] as const) {
      const text = log.join('\n');
      expect(detectContent(text)).toBe('log');
      const o = routeText(text, tctx('what failed?'));
      expect(o?.transforms).toEqual(['log_compressor']);
      expect(o!.text).toContain(needle);
      expect(o!.text.length).toBeLessThan(text.length / 2);
    }
    // the goroutine trace stays with the panic
    const o = routeText(compose.join('\n'), tctx())!;
    expect(o.text).toContain('/app/batcher.go:77');
  });

  it('treats exception class names, panics and FATAL as errors', () => {
    for (const line of ["ModuleNotFoundError: No module named 'x'", 'java.lang.NullPointerException: null', '  raise KeyError(key)', "thread 'main' panicked at src/main.rs:4:5", 'panic: assignment to entry in nil map', 'FATAL: password authentication failed', 'npm ERR! code ELIFECYCLE']) {
      expect(levelOf(line), line).toBe('error');
    }
    expect(levelOf('INFO retry scheduled after TimeoutError')).toBe('info'); // a level word decides first
    expect(hasErrorSignal('caught IllegalStateException in worker')).toBe(true);
    expect(hasErrorSignal('ErrorBoundary rendered fallback')).toBe(false);
  });
});

// ------------------------------------------------------------------------------------------
describe('infrastructure plans and kubectl output', () => {
  function plan(): string {
    const L = ['module.net.aws_vpc.this: Refreshing state... [id=vpc-0a1b2c3d]'];
    for (let i = 0; i < 40; i++) L.push(`module.app.aws_ssm_parameter.flag[${i}]: Refreshing state... [id=/app/flags/f${i}]`);
    L.push('', 'Terraform used the selected providers to generate the following execution', 'plan. Resource actions are indicated with the following symbols:', '  ~ update in-place', '-/+ destroy and then create replacement', '  - destroy', '', 'Terraform will perform the following actions:', '');
    for (let i = 0; i < 12; i++) {
      L.push(`  # module.app.aws_ssm_parameter.flag[${i}] will be updated in-place`, '  ~ resource "aws_ssm_parameter" "flag" {', `        id          = "/app/flags/f${i}"`, `        name        = "/app/flags/f${i}"`, '      ~ tags        = {', '          ~ "Owner" = "team-a" -> "team-b"', '        }', '        # (7 unchanged attributes hidden)', '    }', '');
    }
    L.push('  # module.db.aws_rds_cluster.main must be replaced', '-/+ resource "aws_rds_cluster" "main" {', '      ~ arn                     = "arn:aws:rds:eu-west-1:111122223333:cluster:main" -> (known after apply)', '      ~ cluster_identifier      = "main" -> "main-v2" # forces replacement', '      ~ endpoint                = "main.cluster-abc.eu-west-1.rds.amazonaws.com" -> (known after apply)', '        # (18 unchanged attributes hidden)', '    }', '');
    L.push('  # module.legacy.aws_sqs_queue.dlq will be destroyed', '  # (because module.legacy.aws_sqs_queue.dlq is not in configuration)', '  - resource "aws_sqs_queue" "dlq" {');
    for (const a of ['arn', 'id', 'name', 'url', 'visibility_timeout_seconds', 'message_retention_seconds', 'max_message_size']) L.push(`      - ${a.padEnd(26)} = "x" -> null`);
    L.push('    }', '', 'Plan: 1 to add, 12 to change, 2 to destroy.');
    return L.join('\n');
  }

  it('terraform plan: keeps every address and action, forced replacements, destroys and the summary', () => {
    const text = plan();
    expect(detectContent(text)).toBe('plan');
    const { r, out } = run('can I apply this?', text);
    expect(r.transforms_applied).toEqual(['plan_compressor']);
    for (const s of ['# module.db.aws_rds_cluster.main must be replaced', '-/+ resource "aws_rds_cluster" "main" {', '~ cluster_identifier      = "main" -> "main-v2" # forces replacement', '# module.legacy.aws_sqs_queue.dlq will be destroyed', '  - resource "aws_sqs_queue" "dlq" {', 'Plan: 1 to add, 12 to change, 2 to destroy.']) expect(out).toContain(s);
    for (let i = 0; i < 12; i++) expect(out).toContain(`# module.app.aws_ssm_parameter.flag[${i}] will be updated in-place`);
    expect(out).not.toContain('name        = "/app/flags/f5"'); // an unchanged attribute
    expect(out.split('\n').filter((l) => l.includes(': Refreshing state')).length).toBeLessThanOrEqual(2);
    expect(findMarkers(out)).toHaveLength(1);
  });

  it('helm diff: every +/- line with the YAML keys above it', () => {
    const L: string[] = [];
    for (const kind of ['Deployment (apps)', 'Service (v1)', 'ConfigMap (v1)', 'PodDisruptionBudget (policy)']) {
      L.push(`staging, api, ${kind} has changed:`, `  # Source: api/templates/${kind.split(' ')[0]!.toLowerCase()}.yaml`, '  metadata:', '    name: api', '    labels:', '-     helm.sh/chart: api-1.4.0', '+     helm.sh/chart: api-1.5.0', '      app: api');
      for (let i = 0; i < 12; i++) L.push(`  spec_${i}: value-${i}`);
      if (kind.startsWith('Deployment')) L.push('  template:', '    spec:', '      containers:', '        - name: api', '-         image: "ghcr.io/acme/api:2.2.0"', '+         image: "ghcr.io/acme/api:2.3.0-rc1"', '          ports: [8080]');
      L.push('');
    }
    const text = L.join('\n');
    expect(detectContent(text)).toBe('plan');
    const o = routeText(text, tctx('review'))!;
    for (const s of ['+         image: "ghcr.io/acme/api:2.3.0-rc1"', '      containers:', '        - name: api', '+     helm.sh/chart: api-1.5.0', 'staging, api, Service (v1) has changed:']) expect(o.text).toContain(s);
    expect(o.text).not.toContain('spec_7: value-7');
  });

  it('kubectl diff: each manifest of a diff -u run is its own file; changes stay', () => {
    const L: string[] = [];
    for (const name of ['api', 'worker', 'cron']) {
      const body = Array.from({ length: 40 }, (_, i) => ` ${'  '.repeat(i % 3)}key${i}: value-${name}-${i}`);
      body[20] = '-  replicas: 4';
      body.splice(21, 0, '+  replicas: 1');
      L.push(`diff -u -N /tmp/LIVE-31/apps.v1.Deployment.prod.${name} /tmp/MERGED-31/apps.v1.Deployment.prod.${name}`, `--- /tmp/LIVE-31/apps.v1.Deployment.prod.${name}\t2026-04-11 08:00:00.000000000 +0000`, `+++ /tmp/MERGED-31/apps.v1.Deployment.prod.${name}\t2026-04-11 08:00:00.000000000 +0000`, '@@ -1,40 +1,40 @@', ...body);
    }
    const text = L.join('\n');
    expect(detectContent(text)).toBe('diff');
    const o = routeText(text, tctx())!;
    expect(o.text.match(/^diff -u -N /gm)).toHaveLength(3);
    // the same change in three manifests: shown twice, then referred to
    expect(o.text.match(/^\+ {2}replicas: 1$/gm)).toHaveLength(2);
    expect(o.text).toContain('diff -u -N /tmp/LIVE-31/apps.v1.Deployment.prod.cron /tmp/MERGED-31/apps.v1.Deployment.prod.cron\n[the same change as in /tmp/MERGED-31/apps.v1.Deployment.prod.api]');
    expect(o.text).toContain('[diff: 3 files changed, +3 -3]');
    expect(o.text).not.toContain('key30: value-api-30');
  });

  it('kubectl get pods: a column table keeps the rows whose status stands out', () => {
    const r = seeded(11);
    const L = ['NAMESPACE     NAME                                READY   STATUS             RESTARTS        AGE'];
    for (let i = 0; i < 200; i++) {
      const bad = i === 77 ? ['0/1', 'CrashLoopBackOff', '14 (2m ago)'] : i === 150 ? ['0/2', 'Init:Error', '3 (10s ago)'] : ['1/1', 'Running', '0'];
      L.push(`${['default', 'payments', 'search'][i % 3]!.padEnd(14)}${`svc-${Math.floor(r() * 1e6).toString(36)}-${i}`.padEnd(36)}${bad[0]!.padEnd(8)}${bad[1]!.padEnd(19)}${bad[2]!.padEnd(16)}${Math.floor(r() * 30)}d`);
    }
    const text = L.join('\n');
    expect(detectContent(text)).toBe('table');
    const o = routeText(text, tctx('which pods are broken?'))!;
    expect(o.transforms).toEqual(['table_compressor']);
    expect(o.text.split('\n')[0]).toBe(L[0]);
    expect(o.text).toContain(L[78]); // row 77 (after the header)
    expect(o.text).toContain(L[151]);
    expect(o.text).toContain('STATUS: 198 Running, 1 CrashLoopBackOff, 1 Init:Error');
    expect(o.text.length).toBeLessThan(text.length / 3);
  });
});

describe('query results as text tables', () => {
  it('psql output keeps its frame, the odd row and the row-count footer', () => {
    const L = [' id  |         email          | status  | balance_cents', '-----+------------------------+---------+---------------'];
    for (let i = 0; i < 250; i++) L.push(` ${String(700 + i).padStart(3)} | ${`user${i}@mail.example`.padEnd(22)} | ${(i === 141 ? 'locked' : 'active').padEnd(7)} | ${String(1000 + ((i * 37) % 900)).padStart(13)}`);
    L.push('(250 rows)');
    const text = L.join('\n');
    expect(detectContent(text)).toBe('table');
    const o = routeText(text, tctx('any locked accounts?'))!;
    expect(o.text.split('\n').slice(0, 2)).toEqual(L.slice(0, 2));
    expect(o.text).toContain(L[143]);
    expect(o.text).toContain('(250 rows)');
    expect(o.text.length).toBeLessThan(text.length / 4);
  });

  it('CSV keeps the anomalous row; an errors count column is a measurement, not an error flag', () => {
    const L = ['day,region,orders,errors'];
    for (let i = 0; i < 300; i++) L.push(`2026-02-${String(1 + (i % 28)).padStart(2, '0')},${['us', 'eu', 'apac'][i % 3]},${100 + (i % 17)},${i === 222 ? 940 : i % 3}`);
    const text = L.join('\n');
    expect(detectContent(text)).toBe('table');
    const o = routeText(text, tctx())!;
    expect(o.text).toContain(L[223]);
    expect(o.keptItems).toBeLessThan(40);
  });

  it('a log whose lines hold commas is not taken for CSV', () => {
    const log = Array.from({ length: 60 }, (_, i) => `2026-02-01T10:00:${String(i % 60).padStart(2, '0')}Z Progress: resolved ${i}, reused ${i}, downloaded 0, added ${i}`).join('\n');
    expect(detectContent(log)).toBe('log');
  });
});

// ------------------------------------------------------------------------------------------
describe('listings and the question', () => {
  function monorepo(extra: string[]): string {
    const r = seeded(5);
    const files = new Set<string>();
    const apps = ['web', 'admin', 'mobile-api', 'billing', 'ledger', 'auth', 'search', 'notify'];
    const words = ['user', 'order', 'cart', 'price', 'report', 'session', 'token', 'audit', 'export', 'invoice', 'client', 'util', 'hook', 'store', 'route', 'model'];
    while (files.size < 4990) {
      const app = apps[Math.floor(r() * apps.length)]!;
      const dir = ['src', 'src/lib', 'src/routes', 'src/components', 'test', 'src/server'][Math.floor(r() * 6)]!;
      const w = words[Math.floor(r() * words.length)]!;
      const sub = r() < 0.6 ? `/${words[Math.floor(r() * words.length)]}` : '';
      files.add(`./apps/${app}/${dir}${sub}/${w}${Math.floor(r() * 40)}${['.ts', '.tsx', '.test.ts', '.css', '.json'][Math.floor(r() * 5)]}`);
    }
    return [...files, ...extra].sort().join('\n');
  }

  it('keeps a lone .env file of a 5,000-file listing for "any .env file committed?" (a 3-letter term)', () => {
    const text = monorepo(['./apps/ledger/config/.env.production', './apps/ledger/config/default.json', './apps/ledger/config/test.json', './apps/ledger/config/production.json', './apps/ledger/config/staging.json']);
    expect(detectContent(text)).toBe('listing');
    const { r, out } = run('any .env file committed?', text);
    expect(out).toContain('./apps/ledger/config/.env.production');
    expect(r.tokens_saved / r.tokens_before).toBeGreaterThan(0.8);
    expect(out).toMatch(/\[\.\.\. \d+ more in \.\/apps\/[\w/-]+\/ \(\d+ subdirectories\): \d+ \.ts/);
  });

  it('keeps rare extensions and dotfiles even without a question', () => {
    const text = monorepo(['./apps/auth/secrets/id_rsa.pem', './apps/web/.npmrc']);
    const o = routeText(text, tctx(''))!;
    expect(o.text).toContain('./apps/auth/secrets/id_rsa.pem');
    expect(o.text).toContain('./apps/web/.npmrc');
  });

  it('matches plurals, word pieces and abbreviations', () => {
    expect(stem('forms')).toBe('form');
    expect(stem('policies')).toBe('policy');
    expect(stem('status')).toBe('status');
    expect(wordPieces('src/components/FormComponent2.tsx')).toEqual(['src', 'components', 'form', 'component', '2', 'tsx']);
    const listing = Array.from({ length: 300 }, (_, i) => `src/components/${['Button', 'Modal', 'Table', 'Card', 'List'][i % 5]}${i}.tsx`);
    listing.splice(137, 0, 'src/components/SignupForm.tsx');
    const o = routeText(listing.join('\n'), tctx('which components use forms?'))!;
    expect(o.text).toContain('src/components/SignupForm.tsx');
    const auth = routeText([...listing, 'src/middleware/auth_guard.ts'].join('\n'), tctx('how is authentication wired?'))!;
    expect(auth.text).toContain('src/middleware/auth_guard.ts');
  });

  it('a term in most rows still ranks the rows whose identifying field holds it', () => {
    const rows = Array.from({ length: 120 }, (_, i) => ({
      path: `src/${['api', 'jobs', 'models', 'lib'][i % 4]}/module_${i}.py`,
      line: 10 + i,
      snippet: `    def handle_payment_${i}(self, payload):`, // "payment" in every row
      score: Math.round((0.9 - i / 400) * 1000) / 1000,
    }));
    rows[83]!.path = 'src/services/payment_gateway.py';
    const out = crushJson(JSON.stringify(rows, null, 2), tctx('why do payments fail with 500?'))!;
    expect(out.lossy).toBe(true);
    expect(out.text).toContain('src/services/payment_gateway.py');
  });

  it('a rare key or value deep inside nested cells marks its row (one stopped instance among running ones)', () => {
    const res = Array.from({ length: 40 }, (_, i) => ({
      ReservationId: `r-${i}`,
      Instances: [{ InstanceId: `i-${(0x9f000 + i).toString(16)}`, State: { Code: i === 12 ? 80 : 16, Name: i === 12 ? 'stopped' : 'running' }, ...(i === 12 ? { StateReason: { Code: 'Server.SpotInstanceTermination' } } : {}), Tags: [{ Key: 'Name', Value: `web-${i}` }] }],
    }));
    const out = crushJson(JSON.stringify({ Reservations: res }, null, 2), tctx('list instances'))!;
    expect(out.lossy).toBe(true);
    expect(out.text).toContain('Server.SpotInstanceTermination');
  });

  it('the session\'s task counts when the latest message names nothing', () => {
    const rows = Array.from({ length: 150 }, (_, i) => ({ file: `pkg/${['http', 'db', 'cache'][i % 3]}/file_${i}.go`, match: `func handle${i}(ctx context.Context) error {` }));
    rows[97]!.file = 'pkg/throttle/rate_limiter.go';
    const messages = [
      { role: 'user', content: 'Find where rate limiting is implemented.' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'code_search', input: { q: 'func' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: JSON.stringify(rows, null, 2) }, { type: 'text', text: 'Based on this, what do you suggest?' }] },
    ];
    const r = compress(messages, { model: 'claude-sonnet-4-5' });
    expect(r.transforms_applied).toEqual(['json_crusher']);
    expect(JSON.stringify(r.messages)).toContain('pkg/throttle/rate_limiter.go');
  });

  it('the odd lines out of repetitive command output survive (git status)', () => {
    const L = ['On branch feature/codegen', 'Changes not staged for commit:', '  (use "git add <file>..." to update what will be committed)'];
    for (let i = 0; i < 220; i++) L.push(`\tmodified:   src/generated/client_${i}.ts`);
    L.push('\tdeleted:    src/auth/session_guard.ts', '', 'Untracked files:', '  (use "git add <file>..." to include in what will be committed)', '\t.env.staging', '', 'no changes added to commit (use "git add" and/or "git commit -a")');
    const o = routeText(L.join('\n'), tctx('what changed?'))!;
    expect(o.text).toContain('deleted:    src/auth/session_guard.ts');
    expect(o.text).toContain('.env.staging');
    expect(o.text.split('\n').filter((l) => l.includes('modified:')).length).toBeLessThan(120);
  });

  it('short terms need a whole word piece (env is not environment)', () => {
    const q = parseQuery('any env files?');
    expect(q.terms).toContain('env');
    const listing = Array.from({ length: 400 }, (_, i) => `./src/environments/${['dev', 'prod', 'qa'][i % 3]}/settings_${i}.ts`);
    listing.push('./deploy/.env');
    const o = routeText(listing.join('\n'), tctx('any env files?'))!;
    expect(o.text).toContain('./deploy/.env');
    expect(o.keptItems).toBeLessThan(60);
  });
});

// ------------------------------------------------------------------------------------------
describe('wrapped base64 is never cut line by line', () => {
  const r = seeded(21);
  const b64 = (n: number) => Array.from({ length: n }, () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'[Math.floor(r() * 64)]).join('');

  it('keeps PEM blocks and 76-column base64 byte for byte inside a larger output', () => {
    const pem = ['-----BEGIN CERTIFICATE-----', ...Array.from({ length: 22 }, () => b64(64)), `${b64(36)}==`, '-----END CERTIFICATE-----'];
    const key = [...Array.from({ length: 26 }, () => b64(76)), `${b64(20)}=`];
    const prose = Array.from({ length: 40 }, (_, i) => `Renewal note ${i}: the certificate for host-${i}.example.net was rotated by the scheduled job and verified against the chain.`);
    const text = [...prose.slice(0, 20), ...pem, '', 'signing key (base64):', ...key, '', ...prose.slice(20)].join('\n');
    const o = routeText(text, tctx('is the cert valid?'));
    const out = o?.text ?? text;
    expect(out).toContain(pem.join('\n'));
    expect(out).toContain(key.join('\n'));
  });

  it('leaves a text that is all base64 alone', () => {
    const blob = [...Array.from({ length: 120 }, () => b64(76)), b64(10)].join('\n');
    expect(routeText(blob, tctx())).toBeNull();
    const { r } = run('decode this', blob);
    expect(r.tokens_saved).toBe(0);
  });

  it('does not take hex hash lists for base64', () => {
    const hashes = Array.from({ length: 200 }, () => Array.from({ length: 40 }, () => '0123456789abcdef'[Math.floor(r() * 16)]).join(''));
    const text = hashes.map((h, i) => `${h} commit ${i}: fix typo in module ${i}`).join('\n');
    expect(routeText(text, tctx())).not.toBeNull();
  });
});

// ------------------------------------------------------------------------------------------
describe('small inputs', () => {
  it('compresses a 100-string array of request lines and keeps every failing one', () => {
    const items = Array.from({ length: 100 }, (_, i) => (i % 25 === 3 ? `POST /api/orders/${i} 503 upstream timeout` : `GET /api/products/${i % 20} 200 OK`));
    const { r, out } = run('check these', JSON.stringify(items));
    expect(r.tokens_saved / r.tokens_before).toBeGreaterThan(0.6);
    for (let i = 3; i < 100; i += 25) expect(out).toContain(`POST /api/orders/${i} 503 upstream timeout`);
  });

  it('renders a mixed array run by run, factoring out constant and row-number columns', () => {
    const data = [
      ...Array.from({ length: 60 }, (_, i) => ({ id: i, state: 'queued', queue: 'default' })),
      ...Array.from({ length: 60 }, (_, i) => `worker ${i % 4} heartbeat`),
      ...Array.from({ length: 60 }, (_, i) => Math.round(Math.sin(i) * 1000) / 10),
    ];
    const { r, out } = run('summarise', JSON.stringify(data));
    expect(out.split('\n')[0]).toBe('[array: 180 items in 3 runs: 0-59 objects, 60-119 strings, 120-179 numbers]');
    expect(out).toContain('same in every row: state="queued", queue="default"');
    expect(out).toContain('row numbers: id = row');
    expect(r.tokens_saved / r.tokens_before).toBeGreaterThan(0.6);
  });

  it('a lossless table of a short uniform array states what every row shares once', () => {
    const data = Array.from({ length: 16 }, (_, i) => ({ id: i, name: `node-${i}`, region: 'eu-west-1', az: `eu-west-1${'abc'[i % 3]}`, status: 'Ready', version: 'v1.29.3-eks-2f008fe' }));
    const out = crushJson(JSON.stringify(data, null, 2), tctx())!;
    expect(out.lossy).toBe(false);
    // 16 row numbers cost less than the note that would replace them: the id column stays
    expect(out.text.split('\n')[0]).toBe('[table: 16 rows, tab-separated, empty cell = null; same in every row: region="eu-west-1", status="Ready", version="v1.29.3-eks-2f008fe"]');
    expect(out.text).toContain('9\tnode-9\teu-west-1a');
  });

  it('an error-bearing output under 8 KB is compacted and cut, keeping every error row', () => {
    const runs = Array.from({ length: 60 }, (_, i) => ({
      id: 5100 + i,
      workflow: ['ci', 'deploy', 'nightly'][i % 3],
      branch: i % 4 ? 'main' : `release/1.${i}`,
      conclusion: i === 6 || i === 23 || i === 31 ? 'failure' : 'success',
      error: i === 6 ? 'Error: exit code 137 (OOM)' : i === 23 ? 'TimeoutError: job exceeded 60 minutes' : null,
    }));
    const text = JSON.stringify(runs, null, 2);
    expect(text.length).toBeLessThan(8000);
    const { r, out } = run('which runs failed?', text);
    expect(r.transforms_applied).toEqual(['json_crusher']);
    for (const id of [5106, 5123, 5131]) expect(out).toContain(`\t${id}\t`);
    expect(out).toContain('TimeoutError: job exceeded 60 minutes');
    expect(r.tokens_saved / r.tokens_before).toBeGreaterThan(0.4);
  });

  it('every error line of a short failing test run survives, passing lines are cut', () => {
    const lines = ['============================= test session starts ==============================', 'collected 90 items', ''];
    for (let i = 0; i < 90; i++) lines.push(`tests/test_api.py::test_endpoint_${i} ${i === 40 || i === 71 ? 'FAILED' : 'PASSED'}${' '.repeat(20)}[${String(Math.floor(((i + 1) * 100) / 90)).padStart(3)}%]`);
    lines.push('=================================== FAILURES ===================================', 'E       assert 404 == 200', 'tests/test_api.py:88: AssertionError', 'E       KeyError: \'tenant\'', 'tests/test_api.py:140: KeyError', '=========================== short test summary info ============================', 'FAILED tests/test_api.py::test_endpoint_40 - assert 404 == 200', "FAILED tests/test_api.py::test_endpoint_71 - KeyError: 'tenant'", '======================== 2 failed, 88 passed in 3.12s ========================');
    const text = lines.join('\n');
    expect(text.length).toBeLessThan(8000);
    const { r, out } = run('fix the tests', text);
    expect(r.transforms_applied).toEqual(['log_compressor']);
    for (const s of ['tests/test_api.py::test_endpoint_40 FAILED', 'tests/test_api.py::test_endpoint_71 FAILED', 'E       assert 404 == 200', "E       KeyError: 'tenant'", '2 failed, 88 passed']) expect(out).toContain(s);
    expect(out.split('\n').filter((l) => l.includes('PASSED')).length).toBeLessThan(20);
  });

  it('a tool result flagged is_error gets lossless compaction only', () => {
    const rows = Array.from({ length: 40 }, (_, i) => ({ test: `suite.case_${i}`, ok: i !== 12, ms: 10 + i }));
    const { r, out } = run('why?', JSON.stringify(rows, null, 2), { is_error: true });
    expect(r.transforms_applied).toEqual(['json_compact']);
    expect(findMarkers(out)).toEqual([]);
    for (let i = 0; i < 40; i++) expect(out).toContain(`suite.case_${i}\t`);
    const log = Array.from({ length: 60 }, (_, i) => `step ${i}: ${i === 30 ? 'error: linker failed' : 'ok'}`).join('\n');
    expect(run('why?', log, { is_error: true }).r.tokens_saved).toBe(0);
  });
});
