/**
 * `headroom-ts demo`: the product working in one command, with no API key. Starts the proxy
 * in-process against the built-in mock upstream, replays a scripted agent session through it
 * (real HTTP, Anthropic's API shape, some requests streamed), prints each request's effect and
 * the running savings as the proxy's own `/stats` reports them, then the totals and the
 * dashboard URL. Exits after the replay unless `--keep`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { request } from 'undici';
import { configWith } from '../config/index.js';
import { MockUpstream } from '../mock/upstream.js';
import { createProxyApp } from '../compose/proxy.js';
import { conversationAfter, SYSTEM_PROMPT, TOOLS } from './demo-session.js';
import { fetchJson, totalsOf } from './proxy-client.js';
import { wholeWirePercent } from '../savings/savings.js';
import { int, pct, usd } from './table.js';

const FAKE_KEY = 'sk-ant-demo-not-a-real-key';
const MODEL = 'claude-sonnet-4-5-20250929';

async function send(url: string, n: number, stream: boolean): Promise<number> {
  const { messages } = conversationAfter(n);
  // like Claude Code: the system prompt and the newest block carry cache breakpoints
  const last = messages[messages.length - 1]!;
  const blocks = last.content as Record<string, unknown>[];
  blocks[blocks.length - 1] = { ...blocks[blocks.length - 1], cache_control: { type: 'ephemeral' } };
  const system = [{ type: 'text', text: SYSTEM_PROMPT, cache_control: { type: 'ephemeral' } }];
  const body = JSON.stringify({ model: MODEL, max_tokens: 512, system, tools: TOOLS, messages, stream });
  const res = await request(`${url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': FAKE_KEY, 'anthropic-version': '2023-06-01', 'x-headroom-stack': 'demo', 'x-mock-tools': 'off' },
    body,
  });
  await res.body.text(); // a streamed answer is read to its end, like a client would
  if (res.statusCode !== 200) throw new Error(`request ${n} answered ${res.statusCode}`);
  return Buffer.byteLength(body);
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('See headroom-ts work with no API key: the proxy and a mock model, a replayed agent session, live savings.')
    .option('--requests <n>', 'agent requests to replay', '9')
    .option('--port <port>', 'port of the demo proxy (0 = a free one)', '0')
    .option('--keep', 'keep the proxy and dashboard running after the replay (Ctrl-C to stop)')
    .action(async (opts: { requests: string; port: string; keep?: boolean }) => {
      const total = Number(opts.requests);
      if (!Number.isInteger(total) || total < 1 || total > 200) throw new Error('--requests must be an integer from 1 to 200');
      // the mock counts tokens as a provider does (a BPE vocabulary), so its simulated bill is comparable
      const mock = new MockUpstream({ record: false, tokenizer: 'cl100k' });
      const upstream = await mock.start();
      const workspace = mkdtempSync(join(tmpdir(), 'headroom-demo-'));
      const config = configWith({ port: opts.port, anthropicApiUrl: upstream, openaiApiUrl: upstream, workspaceDir: workspace, logLevel: 'warn', logRequests: false });
      const app = await createProxyApp(config);
      const { url } = await app.listen();
      const out = (s: string) => process.stdout.write(`${s}\n`);
      out(`headroom-ts demo: proxy ${url} -> mock model ${upstream} (no API key, nothing leaves this machine)`);
      out(`replaying an on-call agent session: ${total} requests, each resending the whole conversation\n`);
      let last = totalsOf({});
      try {
        for (let n = 1; n <= total; n++) {
          const stream = n % 3 === 0;
          const { step, outputBytes } = conversationAfter(n);
          const bytes = await send(url, n, stream);
          const stats = await fetchJson(`${url}/stats`);
          const t = totalsOf(stats);
          const saved = t.tokensSaved - last.tokensSaved;
          last = t;
          out(`[${String(n).padStart(2)}/${total}] ${step.label.padEnd(24)} ${(outputBytes / 1024).toFixed(0).padStart(3)} KB new, ${(bytes / 1024).toFixed(0).padStart(4)} KB sent${stream ? ' (stream)' : '         '}`
            + `  saved ${int(saved).padStart(6)} tokens · running ${int(t.tokensSaved)} (${pct(wholeWirePercent(t.tokensSaved, t.inputTokens))}), ${usd(t.savingsUsd)}`);
        }
        const before = last.inputTokens + last.tokensSaved;
        out('');
        out(`total: ${int(last.requests)} requests, ${int(before)} input tokens before compression, ${int(last.inputTokens)} sent`);
        out(`saved: ${int(last.tokensSaved)} tokens (${pct(wholeWirePercent(last.tokensSaved, last.inputTokens))}) of all input (whole wire); ${usd(last.savingsUsd)} on the bill at ${MODEL} list prices (cache reads and writes priced as billed)`);
        const cache = (((await fetchJson(`${url}/stats`)).prefix_cache as Record<string, unknown> | undefined)?.totals ?? {}) as Record<string, unknown>;
        const hitRate = typeof cache.hit_rate === 'number' ? cache.hit_rate : 0;
        out(`prompt cache: ${int(Number(cache.cache_read_tokens ?? 0))} tokens read from the (simulated) provider cache, hit rate ${pct(hitRate)} — resent history keeps its bytes`);
        out(`dashboard: ${url}/dashboard${opts.keep ? '' : '  (run with --keep to keep it open)'}`);
        if (opts.keep) {
          out('press Ctrl-C to stop');
          await new Promise<void>((resolve) => {
            process.once('SIGINT', resolve);
            process.once('SIGTERM', resolve);
          });
        }
      } finally {
        await app.close();
        await mock.close();
        rmSync(workspace, { recursive: true, force: true });
      }
    });
}
