/**
 * The replay map shared through Postgres: one conversation whose turns alternate between two
 * instances keeps every earlier message byte-identical in what reaches the provider (its
 * prompt cache keeps matching) and its tool outputs compressed. Two instances that do not
 * share a database are the control: there, earlier messages change bytes.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { generateOutput, type OutputType } from '../src/mock/agent-outputs.js';
import { messageSlices } from './helpers/bodies.js';
import { FAKE_ANTHROPIC_KEY, type Harness, startHarness } from './helpers/harness.js';
import { freshDatabase, PG_SKIP_REASON, type TestDatabase, TEST_PG_URL } from './helpers/postgres.js';

const TYPES: OutputType[] = ['search_json', 'service_log', 'grep', 'api_listing', 'build_log', 'diff', 'db_rows', 'logs_json'];

/** Runs one agent conversation, turn k on instance k % 2; returns the forwarded bodies in order. */
async function conversation(instances: Harness[], turns: number): Promise<{ bodies: Buffer[]; compressed: number }> {
  const clients = instances.map((h) => new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 }));
  const system: Anthropic.TextBlockParam[] = [{ type: 'text', text: 'You are a careful coding agent. '.repeat(80), cache_control: { type: 'ephemeral' } }];
  const tools: Anthropic.Tool[] = [{ name: 'run', description: 'Run a shell command', input_schema: { type: 'object', properties: { cmd: { type: 'string' } } } }];
  const messages: Anthropic.MessageParam[] = [];
  const bodies: Buffer[] = [];
  let outputs = 0;
  for (let k = 0; k < turns; k++) {
    const last = messages[messages.length - 1];
    const call = last?.role === 'assistant' && Array.isArray(last.content) ? last.content.find((b): b is Anthropic.ToolUseBlockParam => b.type === 'tool_use') : undefined;
    if (call) {
      const s = generateOutput(TYPES[outputs % TYPES.length]!, 8_000 + (outputs % 5) * 6_000, 100 + outputs);
      outputs++;
      messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: s.text }] });
    } else {
      messages.push({ role: 'user', content: `Step ${k}: ${generateOutput(TYPES[outputs % TYPES.length]!, 1000, 7).query}` });
    }
    const h = instances[k % instances.length]!;
    const reply = await clients[k % instances.length]!.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 512, system, tools, messages });
    bodies.push(h.mock.last!.body);
    messages.push({ role: 'assistant', content: reply.content });
  }
  const outcomes = (await Promise.all(instances.map((h, i) => h.waitForOutcomes(Math.ceil((turns - i) / instances.length))))).flat();
  return { bodies, compressed: outcomes.filter((o) => o.compression.tokensSaved > 0 && o.modified).length };
}

/** Earlier messages (of the previous forwarded request) whose bytes changed in the next one. */
function changedEarlier(bodies: Buffer[]): number {
  let changed = 0;
  for (let k = 1; k < bodies.length; k++) {
    const prev = messageSlices(bodies[k - 1]!, 'messages');
    const cur = messageSlices(bodies[k]!, 'messages');
    for (let i = 0; i < prev.length; i++) if (!cur[i]?.equals(prev[i]!)) changed++;
  }
  return changed;
}

describe.skipIf(!TEST_PG_URL)(`replay map shared through Postgres${TEST_PG_URL ? '' : ` (skipped: ${PG_SKIP_REASON})`}`, () => {
  const open: Harness[] = [];
  const dbs: TestDatabase[] = [];
  afterEach(async () => {
    for (const h of open.splice(0)) await h.close();
    for (const d of dbs.splice(0)) await d.drop();
  });

  it('a conversation alternating between two instances keeps every earlier message byte-identical and its outputs compressed', async () => {
    const d = await freshDatabase();
    dbs.push(d);
    const a = await startHarness({ config: { databaseUrl: d.url, skipUpstreamCheck: true, logLevel: 'warn' } });
    const b = await startHarness({ config: { databaseUrl: d.url, skipUpstreamCheck: true, logLevel: 'warn' } });
    open.push(a, b);
    const { bodies, compressed } = await conversation([a, b], 16);
    expect(changedEarlier(bodies)).toBe(0);
    expect(compressed).toBeGreaterThanOrEqual(6);
    const rows = await d.query<{ n: number }>('SELECT count(*)::int AS n FROM replay_decisions WHERE compressed IS NOT NULL');
    expect(rows[0]!.n).toBeGreaterThan(0);
    const health = (await (await fetch(`${b.url}/health`)).json()) as { checks: Record<string, any> };
    expect(health.checks.compression.replay).toMatchObject({ backend: 'postgres', error: null });
  }, 60_000);

  it('control: two instances without a shared database change earlier messages', async () => {
    const a = await startHarness({ config: { skipUpstreamCheck: true, logLevel: 'warn' } });
    const b = await startHarness({ config: { skipUpstreamCheck: true, logLevel: 'warn' } });
    open.push(a, b);
    const { bodies } = await conversation([a, b], 16);
    expect(changedEarlier(bodies)).toBeGreaterThan(0);
  }, 60_000);
});
