/**
 * Savings that match the bill: the same prompt-cached agent session (14 turns, large tool
 * outputs, Claude Code's cache breakpoints, one turn where the model calls headroom_retrieve)
 * is sent through the proxy and again with `x-headroom-bypass: true`, each through a fresh
 * proxy against a fresh mock upstream that models the provider's prompt cache and counts
 * tokens with a real BPE vocabulary (not the proxy's tokenizer). The spend of each run is what
 * the mock billed for every upstream call it answered, priced with the price table; what
 * `/stats` reports as saved must be within 10 % of the difference, with the retrieval round
 * subtracted, and every percentage of `/stats` and `/stats-history` within 0-100.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { anthropicTurn, chatTurn, type RunSpend, type SessionOptions, spendOf } from '../src/mock/cached-session.js';
import { FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY, startHarness } from './helpers/harness.js';

type Json = Record<string, any>;

const TURNS = 14;
const RETRIEVE_TURN = 9;

interface Run {
  spend: RunSpend;
  stats: Json;
  history: Json;
  /** The follow-up call the proxy made to answer headroom_retrieve (through runs). */
  followUp: { inputUsd: number } | null;
  /** Output cost of the call that asked for the retrieval. */
  askOutputUsd: number;
}

async function getJson(url: string): Promise<Json> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

/** Every number under a key ending in `percent` or `_pct`, with its path. */
function percentages(v: unknown, path = '', out: [string, number][] = []): [string, number][] {
  if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v as Json)) {
      const p = path ? `${path}.${k}` : k;
      if (typeof x === 'number' && /(percent|_pct)$/.test(k)) out.push([p, x]);
      else percentages(x, p, out);
    }
  }
  return out;
}

/** A follow-up call the proxy made: its conversation ends with the answer to a headroom_retrieve call. */
const isRetrieveFollowUp = (json: Json | null) => JSON.stringify(json?.messages ?? '').includes('"name":"headroom_retrieve"');

async function run(api: 'messages' | 'chat', bypass: boolean): Promise<Run> {
  const h = await startHarness({ mock: { tokenizer: 'cl100k' } });
  const model = api === 'messages' ? 'claude-sonnet-4-5' : 'gpt-4.1';
  const opts: SessionOptions = { turns: TURNS, model, retrieveOn: [RETRIEVE_TURN], streamEvery: 4 };
  try {
    const extra = bypass ? { 'x-headroom-bypass': 'true' } : {};
    if (api === 'messages') {
      const client = new Anthropic({ apiKey: FAKE_ANTHROPIC_KEY, baseURL: h.url, maxRetries: 0 });
      for (let t = 1; t <= TURNS; t++) {
        const turn = anthropicTurn(t, opts);
        const headers = { ...turn.headers, ...extra };
        if (turn.body.stream) {
          const stream = await client.messages.create(turn.body as unknown as Anthropic.MessageCreateParamsStreaming, { headers });
          for await (const _event of stream) {
            // read to the end, as a client does
          }
        } else {
          const msg = await client.messages.create(turn.body as unknown as Anthropic.MessageCreateParamsNonStreaming, { headers });
          expect(msg.type).toBe('message');
        }
      }
    } else {
      const client = new OpenAI({ apiKey: FAKE_OPENAI_KEY, baseURL: `${h.url}/v1`, maxRetries: 0 });
      for (let t = 1; t <= TURNS; t++) {
        const turn = chatTurn(t, opts);
        const headers = { ...turn.headers, ...extra };
        if (turn.body.stream) {
          const stream = await client.chat.completions.create(turn.body as unknown as OpenAI.ChatCompletionCreateParamsStreaming, { headers });
          for await (const _chunk of stream) {
            // read to the end
          }
        } else {
          const c = await client.chat.completions.create(turn.body as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming, { headers });
          expect(c.object).toBe('chat.completion');
        }
      }
    }
    await h.waitForOutcomes(TURNS);
    const provider = api === 'messages' ? 'anthropic' : 'openai';
    const calls = h.mock.requests.filter((r) => r.method === 'POST');
    const followUpIndex = calls.findIndex((r) => isRetrieveFollowUp(r.json));
    let followUp: Run['followUp'] = null;
    let askOutputUsd = 0;
    if (followUpIndex > 0) {
      const one = (i: number) => spendOf([calls[i]!], provider, model);
      followUp = { inputUsd: one(followUpIndex).inputUsd };
      askOutputUsd = one(followUpIndex - 1).outputUsd;
    }
    return { spend: spendOf(h.mock.requests, provider, model), stats: await getJson(`${h.url}/stats`), history: await getJson(`${h.url}/stats-history`), followUp, askOutputUsd };
  } finally {
    await h.close();
  }
}

function checkAb(through: Run, direct: Run): void {
  const measured = direct.spend.usd - through.spend.usd;
  const reported = through.stats.cost.total_savings_usd as number;
  expect(measured).toBeGreaterThan(0);
  // what /stats says was saved is what the two bills differ by
  expect(Math.abs(reported - measured)).toBeLessThanOrEqual(0.1 * measured);
  expect(through.stats.summary.cost.total_saved_usd).toBeCloseTo(reported, 3);

  // the model asked for one original: the proxy made one more upstream call than the client did
  expect(through.spend.calls).toBe(TURNS + 1);
  expect(direct.spend.calls).toBe(TURNS);
  expect(through.followUp).not.toBeNull();
  // and its price is taken off the saving: the follow-up call's input and the asking round's output
  const b = through.stats.cost.savings_breakdown as Json;
  const roundCost = through.followUp!.inputUsd + through.askOutputUsd;
  expect(b.retrieval_rounds_usd).toBeGreaterThan(0);
  expect(Math.abs(b.retrieval_rounds_usd - roundCost)).toBeLessThanOrEqual(0.01 * roundCost + 1e-4);
  expect(b.net_usd).toBeCloseTo(b.compression_usd - b.retrieval_rounds_usd - b.cache_bust_usd, 3);
  expect(reported).toBeCloseTo(b.net_usd, 3);

  // every percentage, with its basis, within 0-100
  const all = [...percentages(through.stats).map(([p, v]) => [`/stats ${p}`, v] as const), ...percentages(through.history).map(([p, v]) => [`/stats-history ${p}`, v] as const)];
  expect(all.length).toBeGreaterThan(10);
  expect(all.filter(([, v]) => !(v >= 0 && v <= 100))).toEqual([]);
  const t = through.stats.tokens as Json;
  expect(t.new_input_savings_percent).toBeGreaterThan(0);
  expect(t.savings_bases.new_input.numerator).toBeLessThanOrEqual(t.savings_bases.new_input.denominator);
}

describe('savings that match the bill (A/B against a mock that models the prompt cache)', () => {
  it('Anthropic Messages: 14 cached turns, a retrieval round; /stats saving within 10 % of the measured difference', async () => {
    const through = await run('messages', false);
    const direct = await run('messages', true);
    checkAb(through, direct);
    // the mock billed 1-hour writes for the system prompt and 5-minute writes for the conversation
    expect(direct.spend.usage.cacheWrite1h).toBeGreaterThan(0);
    expect(direct.spend.usage.cacheWrite5m).toBeGreaterThan(0);
    expect(direct.spend.usage.cacheRead).toBeGreaterThan(direct.spend.usage.cacheWrite);
  }, 120_000);

  it('OpenAI Chat: the same session with automatic prompt caching', async () => {
    const through = await run('chat', false);
    const direct = await run('chat', true);
    checkAb(through, direct);
    expect(direct.spend.usage.cacheRead).toBeGreaterThan(0);
  }, 120_000);
});
