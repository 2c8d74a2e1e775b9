/**
 * Claude Code on a Gemini model: the Claude Code CLI (`-p`) through the proxy, its `claude-*`
 * models routed by the routing file to a Gemini-format provider (the mock Gemini API), which
 * first calls Read on a file and answers after seeing the function response. The CLI speaks
 * Anthropic Messages only; the upstream only ever sees `generateContent` requests with the
 * provider's key as `x-goog-api-key`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockGemini } from '../src/mock/gemini.js';
import { FAKE_ANTHROPIC_KEY, type Harness, startHarness } from './helpers/harness.js';

type Json = Record<string, any>;
const claude = fileURLToPath(new URL('../node_modules/.bin/claude', import.meta.url));
const KEY = 'gemini-test-fake-key-000000000000000';

let h: Harness;
let gemini: MockGemini;
let dir: string;
beforeAll(async () => {
  gemini = new MockGemini({ apiKeys: [KEY] });
  await gemini.start();
  dir = mkdtempSync(join(tmpdir(), 'headroom-claude-gemini-'));
  const file = join(dir, 'routing.yaml');
  writeFileSync(file, ['providers:', `  gem: { format: gemini, base_url: "${gemini.url}", api_keys: [${KEY}] }`, 'model_aliases:', '  "claude-*": gem:gemini-2.5-flash', ''].join('\n'));
  h = await startHarness({ config: { routingConfig: file } });
});
afterAll(async () => {
  await h.close();
  await gemini.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Claude Code on a Gemini model', () => {
  it.skipIf(!existsSync(claude))('completes a tool-using task: the model reads a file, then answers from its content', async () => {
    const home = mkdtempSync(join(tmpdir(), 'headroom-claude-gem-'));
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
      const calls = gemini.requests;
      expect(calls.length).toBeGreaterThan(1);
      for (const q of calls) {
        expect(q.path).toMatch(/^\/v1beta\/models\/gemini-2\.5-flash:(generateContent|streamGenerateContent)$/);
        expect(q.headers['x-goog-api-key']).toBe(KEY);
        expect(q.headers['x-api-key']).toBeUndefined();
        expect(q.headers['anthropic-version']).toBeUndefined();
        expect(Array.isArray(q.json!.contents)).toBe(true);
      }
      // the call went out with the CLI's tools, and the file's content came back as a function response
      const withResult = calls.find((q) => (q.json!.contents as Json[]).some((c) => (c.parts as Json[]).some((p) => p.functionResponse)));
      expect(withResult).toBeDefined();
      const parts = (withResult!.json!.contents as Json[]).flatMap((c) => c.parts as Json[]);
      expect(parts.find((p) => p.functionCall)!.functionCall).toMatchObject({ name: 'Read', args: { file_path: file } });
      expect(JSON.stringify(parts.find((p) => p.functionResponse)!.functionResponse)).toContain('PURPLE-OTTER-42');
      const outcomes = await h.waitForOutcomes(calls.length);
      const messages = outcomes.filter((o) => o.api === 'messages');
      expect(messages.length).toBe(calls.length);
      for (const o of messages) {
        expect(o.ok).toBe(true);
        expect(o.ext.routing).toMatchObject({ provider: 'gem', model: 'gemini-2.5-flash', translated: true, format: 'gemini' });
        expect(o.usage!.input).toBeGreaterThan(0);
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 90_000);
});
