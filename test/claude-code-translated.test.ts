/**
 * Claude Code on a model of an OpenAI-format provider: the Claude Code CLI (`-p`) through the
 * proxy, its `claude-*` models routed by the routing file (`claude-*: local:qwen3:8b`) to an
 * OpenAI-format upstream (a mock), which first asks for a Read of a file and answers after
 * seeing the tool result. The CLI speaks Anthropic Messages only; the upstream only ever sees
 * Chat Completions, and the default Anthropic upstream is never called.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockUpstream } from '../src/mock/upstream.js';
import { FAKE_ANTHROPIC_KEY, type Harness, startHarness } from './helpers/harness.js';

type Json = Record<string, unknown>;
const claude = fileURLToPath(new URL('../node_modules/.bin/claude', import.meta.url));

let h: Harness;
let local: MockUpstream;
let dir: string;
beforeAll(async () => {
  local = new MockUpstream();
  await local.start();
  dir = mkdtempSync(join(tmpdir(), 'headroom-claude-routing-'));
  const file = join(dir, 'routing.yaml');
  writeFileSync(file, ['providers:', `  local: { format: openai, base_url: "${local.url}/v1" }`, 'model_aliases:', '  "claude-*": local:qwen3:8b', ''].join('\n'));
  h = await startHarness({ config: { routingConfig: file } });
});
afterAll(async () => {
  await h.close();
  await local.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Claude Code on an OpenAI-format model', () => {
  it.skipIf(!existsSync(claude))('completes a tool-using task: the model reads a file, then answers from its content', async () => {
    const home = mkdtempSync(join(tmpdir(), 'headroom-claude-xlate-'));
    const file = join(home, 'notes.txt');
    writeFileSync(file, 'The launch code is PURPLE-OTTER-42.\n');
    try {
      const child = spawn(claude, ['-p', 'What does notes.txt say?', '--model', 'claude-sonnet-4-5'], {
        cwd: home,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: process.env.PATH ?? '', HOME: home, ANTHROPIC_BASE_URL: h.url, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY,
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_TELEMETRY: '1', DISABLE_AUTOUPDATER: '1',
          ANTHROPIC_CUSTOM_HEADERS: `x-mock-tool-call: Read\nx-mock-tool-args: ${JSON.stringify({ file_path: file })}`,
        },
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code, out + err).toBe(0);
      expect(out).toContain('The tool returned:');
      expect(out).toContain('PURPLE-OTTER-42');

      expect(h.mock.requests).toHaveLength(0);
      const calls = local.requests;
      expect(calls.length).toBeGreaterThan(1);
      // the upstream only ever saw OpenAI-format requests
      for (const q of calls) {
        expect(q.path).toBe('/v1/chat/completions');
        expect(q.headers['anthropic-version']).toBeUndefined();
        expect(q.headers['x-api-key']).toBeUndefined();
        expect(q.headers.authorization).toBe(`Bearer ${FAKE_ANTHROPIC_KEY}`);
        expect(q.json!.model).toBe('qwen3:8b');
        expect(Array.isArray(q.json!.messages)).toBe(true);
      }
      // the tool call went out with the CLI's tools, and its result came back as a tool message
      const withResult = calls.find((q) => (q.json!.messages as Json[]).some((m) => m.role === 'tool'));
      expect(withResult).toBeDefined();
      const toolMsg = (withResult!.json!.messages as Json[]).find((m) => m.role === 'tool')!;
      expect(String(toolMsg.content)).toContain('PURPLE-OTTER-42');
      const asked = (withResult!.json!.messages as Json[]).find((m) => m.role === 'assistant' && Array.isArray(m.tool_calls))!;
      expect((asked.tool_calls as Json[])[0]).toMatchObject({ id: toolMsg.tool_call_id, function: { name: 'Read' } });
      const outcomes = await h.waitForOutcomes(calls.length);
      const messages = outcomes.filter((o) => o.api === 'messages');
      expect(messages.length).toBe(calls.length);
      for (const o of messages) {
        expect(o.ok).toBe(true);
        expect(o.ext.routing).toMatchObject({ provider: 'local', model: 'qwen3:8b', translated: true });
        expect(o.usage!.input).toBeGreaterThan(0);
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 90_000);
});
