/**
 * `headroom-ts wrap claude|codex|<cmd> [args...]`: runs a coding agent (or any command) with its
 * Anthropic/OpenAI base URLs pointed at a headroom-ts proxy (a running one, else one started for
 * the run), then prints what the run's requests cost and saved.
 */
import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { diffTotals, fetchJson, isProxyUp, totalsOf, type Totals } from './proxy-client.js';
import { launchProxy, type LaunchedProxy } from './launch.js';
import { wholeWirePercent } from '../savings/savings.js';
import { int, pct, usd } from './table.js';

const KNOWN: Record<string, string> = { claude: 'wrap_claude', codex: 'wrap_codex' };

/** The stack tag a wrapped command's requests are counted under (`by_stack` in /stats). */
export function stackFor(command: string): string {
  const known = KNOWN[command];
  if (known) return known;
  const name = basename(command).toLowerCase().replace(/\.[a-z0-9]+$/, '').replace(/[^a-z0-9_]/g, '_').slice(0, 50);
  return `wrap_${/^[a-z]/.test(name) ? name : `cmd_${name}`}`;
}

/** Environment for the wrapped command. */
export function wrappedEnv(base: string, stack: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const header = `X-Headroom-Stack: ${stack}`;
  const custom = env.ANTHROPIC_CUSTOM_HEADERS ? `${env.ANTHROPIC_CUSTOM_HEADERS}\n${header}` : header;
  return { ...env, ANTHROPIC_BASE_URL: base, OPENAI_BASE_URL: `${base}/v1`, ANTHROPIC_CUSTOM_HEADERS: custom, HEADROOM_BASE_URL: base };
}

export function summaryLine(t: Totals, url: string): string {
  if (t.requests === 0) return `headroom-ts: no requests went through ${url}`;
  return [
    `headroom-ts: ${int(t.requests)} request${t.requests === 1 ? '' : 's'} through ${url}`,
    `${int(t.tokensSaved)} tokens saved (${pct(wholeWirePercent(t.tokensSaved, t.inputTokens))} of input)`,
    `${usd(t.savingsUsd)} saved on the bill`,
    `spend ${usd(t.spendUsd)}`,
    ...(t.failed ? [`${int(t.failed)} failed`] : []),
  ].join(' · ');
}

const snapshot = async (url: string): Promise<Totals | null> => {
  try {
    return totalsOf(await fetchJson(`${url}/stats`));
  } catch {
    return null;
  }
};

/** The proxy records a request just after its response: re-read until two snapshots agree (at most ~1 s). */
async function settled(url: string): Promise<Totals | null> {
  let last = await snapshot(url);
  for (let i = 0; i < 10 && last; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const next = await snapshot(url);
    if (!next || (next.requests === last.requests && next.tokensSaved === last.tokensSaved)) return next ?? last;
    last = next;
  }
  return last;
}

export function registerWrapCommand(program: Command): void {
  program
    .command('wrap')
    .description('Run claude, codex or any command through the proxy (reuses a running one, else starts one) and print the savings.')
    .argument('<command>', 'claude, codex, or any command')
    .argument('[args...]', 'arguments for the command (put them after --)')
    .option('--host <host>', 'where to look for a running proxy', process.env.HEADROOM_HOST ?? '127.0.0.1')
    .option('--port <port>', 'port of a running proxy; when none answers, one is started on a free port', process.env.HEADROOM_PORT ?? '8787')
    .option('--project <name>', 'count the requests under this project (X-Headroom-Project via a /p/<name>/ URL prefix)')
    .option('--no-summary', 'do not print the savings summary at exit')
    .passThroughOptions()
    .action(async (command: string, args: string[], opts: { host: string; port: string; project?: string; summary: boolean }) => {
      let url = `http://${opts.host}:${opts.port}`;
      let launched: LaunchedProxy | null = null;
      if (!(await isProxyUp(url))) {
        launched = await launchProxy(['--host', '127.0.0.1', '--port', '0']);
        url = launched.url;
      }
      const before = launched ? null : await snapshot(url);
      const base = opts.project ? `${url}/p/${encodeURIComponent(opts.project)}` : url;
      const stack = stackFor(command);
      process.stderr.write(`headroom-ts: ${launched ? 'started a proxy at' : 'using the proxy at'} ${url} for ${command} (${stack})\n`);
      const child = spawn(command, args, { stdio: 'inherit', env: wrappedEnv(base, stack, process.env) });
      // the terminal sends SIGINT to the whole group: the tool decides what it means, we wait for it
      const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
      const onInt = forward('SIGINT');
      const onTerm = forward('SIGTERM');
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
      const code = await new Promise<number>((resolve) => {
        child.once('error', (err: NodeJS.ErrnoException) => {
          process.stderr.write(`headroom-ts: cannot run ${command}: ${err.code === 'ENOENT' ? 'command not found' : err.message}\n`);
          resolve(err.code === 'ENOENT' ? 127 : 126);
        });
        child.once('exit', (c, signal) => resolve(c ?? (signal ? 128 + (signalNumber(signal) ?? 0) : 1)));
      });
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      if (opts.summary) {
        const after = await settled(url);
        if (after) process.stderr.write(`${summaryLine(before ? diffTotals(after, before) : after, url)}\n`);
      }
      if (launched) await launched.stop();
      process.exit(code);
    });
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  return ({ SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal];
}
