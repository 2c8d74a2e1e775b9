/**
 * `/stats.agent_usage`: requests and tokens per calling agent. The agent is the client name
 * (`X-Client` / User-Agent), else the integration stack, else a model family, else the provider.
 */
import type { RequestOutcome } from '../../../core/outcome.js';
import type { Accounting } from '../accounting.js';
import type { AgentUsage as AgentUsageJson } from '../schema.js';
import { round2 } from '../../../util/round.js';

interface AgentRow {
  agent: string;
  source: 'client' | 'stack' | 'model' | 'provider' | 'unknown';
  requests: number;
  before: number;
  after: number;
  output: number;
  saved: number;
  exactRows: number;
  models: Map<string, number>;
  providers: Map<string, number>;
}

const LABELS: Record<string, string> = {
  claude: 'Claude', codex: 'Codex', copilot: 'GitHub Copilot', cursor: 'Cursor', aider: 'Aider', zed: 'Zed',
  opencode: 'OpenCode', openclaw: 'OpenClaw', gemini: 'Gemini', openai: 'OpenAI', anthropic: 'Anthropic', unknown: 'Unidentified',
};

const MAX_AGENTS = 64;
const MAX_SUBKEYS = 32;
const pct = (a: number, b: number) => (b > 0 ? round2((a / b) * 100) : 0);

export function agentOf(o: RequestOutcome, model: string): { agent: string; source: AgentRow['source'] } {
  if (o.client) return { agent: o.client === 'claude-code' ? 'claude' : o.client, source: 'client' };
  if (o.stack) return { agent: o.stack, source: 'stack' };
  const m = model.toLowerCase();
  for (const family of ['codex', 'claude', 'gemini']) if (m.includes(family)) return { agent: family, source: 'model' };
  if (o.provider !== 'unknown') return { agent: o.provider, source: 'provider' };
  return { agent: 'unknown', source: 'unknown' };
}

const bump = (m: Map<string, number>, k: string) => {
  if (m.has(k) || m.size < MAX_SUBKEYS) m.set(k, (m.get(k) ?? 0) + 1);
  else m.set('other', (m.get('other') ?? 0) + 1);
};

export class AgentUsage {
  private readonly rows = new Map<string, AgentRow>();
  private logged = 0;
  private exact = 0;

  reset(): void {
    this.rows.clear();
    this.logged = 0;
    this.exact = 0;
  }

  record(o: RequestOutcome, a: Accounting): void {
    let { agent, source } = agentOf(o, a.model);
    if (!this.rows.has(agent) && this.rows.size >= MAX_AGENTS) {
      agent = 'other';
      source = 'unknown';
    }
    let r = this.rows.get(agent);
    if (!r) {
      r = { agent, source, requests: 0, before: 0, after: 0, output: 0, saved: 0, exactRows: 0, models: new Map(), providers: new Map() };
      this.rows.set(agent, r);
    }
    r.requests++;
    r.before += a.tokensBefore;
    r.after += a.inputTokens;
    r.output += a.outputTokens;
    r.saved += a.tokensSaved;
    if (o.usage) r.exactRows++;
    bump(r.models, a.model);
    bump(r.providers, a.provider);
    this.logged++;
    if (o.usage) this.exact++;
  }

  payload(): AgentUsageJson {
    const rows = [...this.rows.values()].sort((x, y) => y.saved - x.saved || y.before - x.before || y.requests - x.requests);
    const totals = rows.reduce(
      (t, r) => ({ requests: t.requests + r.requests, before: t.before + r.before, after: t.after + r.after, output: t.output + r.output, saved: t.saved + r.saved }),
      { requests: 0, before: 0, after: 0, output: 0, saved: 0 },
    );
    return {
      agents: rows.map((r) => ({
        agent: r.agent,
        label: LABELS[r.agent] ?? r.agent.charAt(0).toUpperCase() + r.agent.slice(1),
        source: r.source,
        requests: r.requests,
        before_tokens: r.before,
        after_tokens: r.after,
        output_tokens: r.output,
        tokens_saved: r.saved,
        models: Object.fromEntries(r.models),
        providers: Object.fromEntries(r.providers),
        has_exact_tokens: r.exactRows > 0,
        savings_percent: pct(r.saved, r.before),
        after_percent: pct(r.after, r.before),
        share_of_saved_percent: pct(r.saved, totals.saved),
        share_of_requests_percent: pct(r.requests, totals.requests),
      })),
      totals: {
        requests: totals.requests,
        before_tokens: totals.before,
        after_tokens: totals.after,
        output_tokens: totals.output,
        tokens_saved: totals.saved,
        savings_percent: pct(totals.saved, totals.before),
      },
      coverage: { logged_requests: this.logged, exact_token_rows: this.exact, mode: 'request_logs' },
    };
  }
}
