/**
 * `headroom-ts stats`: what the proxy saved, from a running proxy's `/stats` or, when none
 * answers, from the durable store in the workspace directory. `--json` for scripts.
 */
import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import pino from 'pino';
import { expandHome, loadConfig } from '../config/index.js';
import { sessionJson, totalsJson } from '../capabilities/stats/payload.js';
import { wholeWirePercent } from '../savings/savings.js';
import { openStatsStore } from '../capabilities/stats/store/open.js';
import { fetchJson, isProxyUp, totalsOf } from './proxy-client.js';
import { int, pct, table, usd } from './table.js';

const obj = (v: unknown) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {});
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

interface Scope {
  requests: number;
  tokensSaved: number;
  inputTokens: number;
  savingsUsd: number;
  spendUsd: number;
}

function scopeRow(name: string, s: Scope): (string | number)[] {
  return [name, int(s.requests), int(s.tokensSaved), pct(wholeWirePercent(s.tokensSaved, s.inputTokens)), usd(s.savingsUsd), usd(s.spendUsd)];
}

/** A scope from the store's totals JSON (`/stats-history` lifetime, session, projects). */
function scopeOf(v: unknown): Scope {
  const s = obj(v);
  return {
    requests: num(s.requests), tokensSaved: num(s.tokens_saved), inputTokens: num(s.total_input_tokens),
    savingsUsd: num(s.compression_savings_usd), spendUsd: num(s.total_input_cost_usd) + num(s.total_output_cost_usd),
  };
}

const HEADERS = ['scope', 'requests', 'tokens saved', 'saved %', 'saved $', 'spend $'];

async function fromProxy(url: string, token: string | undefined): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const stats = await fetchJson(`${url}/stats`, headers);
  const history = obj(await fetchJson(`${url}/stats-history`, headers).catch(() => ({})));
  return { source: 'proxy', url, stats, lifetime: obj(history.lifetime) };
}

async function fromStore(workspaceDir: string | undefined): Promise<Record<string, unknown>> {
  const { config } = loadConfig({ env: process.env, overrides: workspaceDir ? { workspaceDir } : {} });
  const store = openStatsStore({ config, log: pino({ level: 'silent' }) });
  try {
    const [lifetime, session, projects] = await Promise.all([store.lifetime(), store.session(Date.now()), store.projects()]);
    const perProject: Record<string, unknown> = {};
    for (const [name, t] of Object.entries(projects)) perProject[name] = totalsJson(t);
    return { source: 'store', workspace_dir: config.workspaceDir, lifetime: totalsJson(lifetime), session: sessionJson(session), projects: perProject };
  } finally {
    await store.close();
  }
}

function printProxy(r: Record<string, unknown>): void {
  const stats = obj(r.stats);
  const t = totalsOf(stats);
  const life = obj(r.lifetime);
  const rows = [scopeRow('this process', t)];
  if (Object.keys(life).length) {
    rows.push(scopeRow('lifetime', scopeOf(life)));
  }
  process.stdout.write(`headroom-ts proxy at ${String(r.url)}\n\n${table(HEADERS, rows)}\n`);
  const byModel = obj(obj(stats.requests).by_model);
  const models = Object.entries(byModel).sort((a, b) => num(b[1]) - num(a[1])).slice(0, 10);
  if (models.length) process.stdout.write(`\n${table(['model', 'requests'], models.map(([m, n]) => [m, int(num(n))]))}\n`);
}

function printStore(r: Record<string, unknown>): void {
  process.stdout.write(`no proxy answered; from the store in ${String(r.workspace_dir)}\n\n`);
  process.stdout.write(`${table(HEADERS, [scopeRow('session', scopeOf(r.session)), scopeRow('lifetime', scopeOf(r.lifetime))])}\n`);
  const projects = Object.entries(obj(r.projects));
  if (projects.length) process.stdout.write(`\n${table(['project', ...HEADERS.slice(1)], projects.map(([p, v]) => scopeRow(p, scopeOf(v))))}\n`);
}

/** Why a workspace named with `--workspace-dir` has nothing to read, or null. */
function workspaceProblem(dir: string): string | null {
  const path = expandHome(dir);
  if (!existsSync(path)) return `no such directory (${path}); nothing was read`;
  if (!statSync(path).isDirectory()) return `not a directory (${path})`;
  if (!process.env.HEADROOM_SAVINGS_PATH && !existsSync(`${path}/headroom_stats.sqlite`) && !existsSync(`${path}/proxy_savings.json`)) {
    return `no stats store there (${path}/headroom_stats.sqlite does not exist); is this the proxy's workspace?`;
  }
  return null;
}

export function registerStatsCommand(program: Command): void {
  program
    .command('stats')
    .description('Show what the proxy saved: from a running proxy, else from the stats store in the workspace.')
    .option('--url <url>', 'proxy URL', `http://${process.env.HEADROOM_HOST ?? '127.0.0.1'}:${process.env.HEADROOM_PORT ?? '8787'}`)
    .option('--workspace-dir <dir>', 'read this workspace\'s stats store (whether or not a proxy runs); default: a running proxy, else HEADROOM_WORKSPACE_DIR or ~/.headroom')
    .option('--json', 'print JSON')
    .action(async (opts: { url: string; workspaceDir?: string; json?: boolean }) => {
      const url = opts.url.replace(/\/+$/, '');
      if (opts.workspaceDir !== undefined) {
        // asked for by name: read it, and say so when there is nothing there (never create one)
        const problem = workspaceProblem(opts.workspaceDir);
        if (problem) {
          process.stderr.write(`headroom-ts: --workspace-dir ${opts.workspaceDir}: ${problem}\n`);
          process.exit(1);
        }
      }
      const r = opts.workspaceDir === undefined && (await isProxyUp(url)) ? await fromProxy(url, process.env.HEADROOM_PROXY_TOKEN) : await fromStore(opts.workspaceDir);
      if (opts.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else if (r.source === 'proxy') printProxy(r);
      else printStore(r);
    });
}
