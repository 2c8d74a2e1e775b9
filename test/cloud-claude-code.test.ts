/**
 * The Claude Code CLI (`-p`) completing a tool-using task through the proxy in Bedrock mode
 * and in Vertex mode, against the mocks: the model asks for `cat` of a large log with the Bash
 * tool, Claude Code runs it and sends the output back, the proxy compresses that tool output
 * (and signs / authenticates every call), and the model answers. Usage and savings are in /stats.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockBedrock } from '../src/mock/bedrock.js';
import { MockVertex } from '../src/mock/vertex.js';
import type { Harness } from './helpers/harness.js';
import { bigJsonListing, startCloudHarness } from './helpers/cloud.js';

const claude = fileURLToPath(new URL('../node_modules/.bin/claude', import.meta.url));
const AKID = 'AKIDTESTFAKE0000000';
const SECRET = 'test-fake-secret-key-not-real-0000000000';

let home: string;
let logPath: string;
let log: string;

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'headroom-claude-cloud-'));
  logPath = join(home, 'app.log');
  log = bigJsonListing(7);
  writeFileSync(logPath, log);
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

async function runClaude(env: Record<string, string>, model: string): Promise<{ code: number | null; out: string }> {
  const child = spawn(claude, ['-p', 'Show me app.log and tell me how long it is.', '--model', model, '--allowedTools', 'Bash(cat:*)'], {
    cwd: home,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', HOME: home, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_TELEMETRY: '1', DISABLE_AUTOUPDATER: '1', ...env },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, out };
}

interface ToolResultSeen {
  body: Buffer;
  json: Record<string, unknown> | null;
}

/** The tool_result text of the newest turn of a request the mock received (null: none). */
function toolResultText(q: ToolResultSeen): string | null {
  const msgs = (q.json?.messages ?? []) as { content?: unknown }[];
  const last = msgs[msgs.length - 1];
  if (!Array.isArray(last?.content)) return null;
  const block = (last.content as Record<string, unknown>[]).find((b) => b.type === 'tool_result');
  if (!block) return null;
  const c = block.content;
  return typeof c === 'string' ? c : Array.isArray(c) ? (c as { text?: string }[]).map((p) => p.text ?? '').join('') : '';
}

async function expectCompressedToolTurn(h: Harness, requests: ToolResultSeen[]): Promise<void> {
  const withResult = requests.filter((q) => toolResultText(q) !== null);
  expect(withResult.length).toBeGreaterThan(0);
  // the log reached the model compressed
  const seen = toolResultText(withResult[0]!)!;
  expect(seen.length).toBeLessThan(log.length * 0.7);
  const outcomes = await h.waitForOutcomes(requests.length);
  expect(outcomes.some((o) => o.compression.tokensSaved > 0)).toBe(true);
  const stats = (await (await fetch(`${h.url}/stats`)).json()) as { tokens: { input: number; output: number; saved: number } };
  expect(stats.tokens.saved).toBeGreaterThan(0);
  expect(stats.tokens.input).toBe(outcomes.reduce((n, o) => n + (o.usage?.input ?? 0), 0));
  expect(stats.tokens.output).toBeGreaterThan(0);
}

describe.skipIf(!existsSync(claude))('Claude Code in cloud modes', () => {
  it('Bedrock mode (CLAUDE_CODE_USE_BEDROCK): a tool-using task, every call signed by the proxy', async () => {
    const mock = new MockBedrock({ accessKeyId: AKID, secretAccessKey: SECRET, region: 'us-east-1', catPath: logPath });
    await mock.start();
    const h = await startCloudHarness([{ name: 'aws', format: 'bedrock', baseUrl: mock.url, region: 'us-east-1', project: null, auth: { kind: 'aws-static', accessKeyId: AKID, secretAccessKey: SECRET } }]);
    try {
      const { code, out } = await runClaude(
        { CLAUDE_CODE_USE_BEDROCK: '1', ANTHROPIC_BEDROCK_BASE_URL: h.url, CLAUDE_CODE_SKIP_BEDROCK_AUTH: '1', AWS_REGION: 'us-east-1' },
        'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
      );
      expect(code, out).toBe(0);
      expect(out).toContain('mock reply: the tool result had');
      expect(mock.requests.length).toBeGreaterThan(1);
      expect(mock.requests.every((q) => q.auth === 'sigv4' && q.status === 200), JSON.stringify(mock.requests.map((q) => [q.path, q.auth, q.status]))).toBe(true);
      expect(mock.requests.some((q) => q.path.endsWith('/invoke-with-response-stream'))).toBe(true);
      await expectCompressedToolTurn(h, mock.requests);
      const outcomes = await h.waitForOutcomes(mock.requests.length);
      expect(outcomes.every((o) => o.provider === 'aws.bedrock')).toBe(true);
      expect(outcomes.some((o) => (o.usage?.cacheRead ?? 0) + (o.usage?.cacheWrite ?? 0) > 0)).toBe(true);
    } finally {
      await h.close();
      await mock.close();
    }
  }, 120_000);

  it('Vertex mode (CLAUDE_CODE_USE_VERTEX): a tool-using task with the proxy\'s OAuth token', async () => {
    const mock = new MockVertex({ clientId: 'test-client-id', clientSecret: 'test-fake-client-secret', refreshToken: 'test-fake-refresh-token', catPath: logPath });
    await mock.start();
    const keyFile = join(home, 'gcp-credentials.json');
    writeFileSync(keyFile, mock.credentialsJson());
    const h = await startCloudHarness([{ name: 'gcp', format: 'vertex', baseUrl: mock.url, region: null, project: null, auth: { kind: 'google', keyFile } }]);
    try {
      const { code, out } = await runClaude(
        { CLAUDE_CODE_USE_VERTEX: '1', ANTHROPIC_VERTEX_BASE_URL: `${h.url}/v1`, ANTHROPIC_VERTEX_PROJECT_ID: 'test-project', CLOUD_ML_REGION: 'us-east5', CLAUDE_CODE_SKIP_VERTEX_AUTH: '1' },
        'claude-sonnet-4-5@20250929',
      );
      expect(code, out).toBe(0);
      expect(out).toContain('mock reply: the tool result had');
      const predicts = mock.requests.filter((q) => q.path.includes(':'));
      expect(predicts.length).toBeGreaterThan(1);
      expect(predicts.every((q) => q.status === 200), JSON.stringify(predicts.map((q) => [q.path, q.status]))).toBe(true);
      expect(mock.tokenRequests).toBeGreaterThan(0);
      await expectCompressedToolTurn(h, predicts);
      const outcomes = await h.waitForOutcomes(predicts.length);
      expect(outcomes.every((o) => o.provider === 'gcp.vertex_ai')).toBe(true);
    } finally {
      await h.close();
      await mock.close();
    }
  }, 120_000);
});
