/**
 * The proxy's controls on the cloud paths: the response cache answers a repeated Bedrock
 * invoke without an upstream call, and a spent budget refuses a Vertex call in Vertex's shape
 * and a Bedrock call in Bedrock's (with `x-amzn-errortype`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockBedrock } from '../src/mock/bedrock.js';
import { MockVertex } from '../src/mock/vertex.js';
import { post, startCloudHarness } from './helpers/cloud.js';

const AKID = 'AKIDTESTFAKE0000000';
const SECRET = 'test-fake-secret-key-not-real-0000000000';
const INVOKE = '/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke';
const PREDICT = '/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict';
const body = (v: string) => ({ anthropic_version: v, max_tokens: 2000, messages: [{ role: 'user', content: 'hello there' }] });

let bedrock: MockBedrock;
let vertex: MockVertex;
let dir: string;
let keyFile: string;

beforeAll(async () => {
  bedrock = new MockBedrock({ accessKeyId: AKID, secretAccessKey: SECRET });
  vertex = new MockVertex({ clientId: 'test-client-id', clientSecret: 'test-fake-client-secret', refreshToken: 'test-fake-refresh-token' });
  await Promise.all([bedrock.start(), vertex.start()]);
  dir = mkdtempSync(join(tmpdir(), 'headroom-cloud-controls-'));
  keyFile = join(dir, 'c.json');
  writeFileSync(keyFile, vertex.credentialsJson());
});
afterAll(async () => {
  await Promise.all([bedrock.close(), vertex.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const providers = () => [
  { name: 'aws', format: 'bedrock' as const, baseUrl: bedrock.url, region: 'us-east-1', project: null, auth: { kind: 'aws-static' as const, accessKeyId: AKID, secretAccessKey: SECRET } },
  { name: 'gcp', format: 'vertex' as const, baseUrl: vertex.url, region: null, project: null, auth: { kind: 'google' as const, keyFile } },
];

describe('controls on the cloud paths', () => {
  it('the response cache answers a repeated Bedrock invoke', async () => {
    const h = await startCloudHarness(providers(), { config: { cache: true } });
    try {
      const before = bedrock.requests.length;
      const a = await post(`${h.url}${INVOKE}`, body('bedrock-2023-05-31'));
      const b = await post(`${h.url}${INVOKE}`, body('bedrock-2023-05-31'));
      expect(a.status).toBe(200);
      expect(b.status).toBe(200);
      expect(b.headers.get('x-headroom-cached')).toBe('true');
      expect(b.body.equals(a.body)).toBe(true);
      expect(bedrock.requests.length - before).toBe(1);
    } finally {
      await h.close();
    }
  });

  it("a spent budget refuses calls in each platform's shape", async () => {
    const h = await startCloudHarness(providers(), { config: { budget: 0.000001 } });
    try {
      // the estimate of a call (its prompt and max_tokens at the model's price) exceeds the budget
      const before = bedrock.requests.length;
      const b = await post(`${h.url}${INVOKE}`, body('bedrock-2023-05-31'));
      expect(b.status).toBe(429);
      expect(b.headers.get('x-amzn-errortype')).toBe('ServiceQuotaExceededException');
      expect(Object.keys(JSON.parse(b.body.toString()))).toEqual(['message']);
      expect(bedrock.requests.length).toBe(before);
      // a Converse call cannot be estimated before it runs: refused rather than let through unmetered
      const c = await post(`${h.url}/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse`, { messages: [{ role: 'user', content: [{ text: 'hi' }] }] });
      expect(c.status).toBe(403);
      expect(c.headers.get('x-amzn-errortype')).toBe('AccessDeniedException');
      expect(JSON.parse(c.body.toString()).message).toContain('cannot price a Bedrock Converse call');
      expect(bedrock.requests.length).toBe(before);
      const v = await post(`${h.url}${PREDICT}`, body('vertex-2023-10-16'));
      expect(v.status).toBe(429);
      expect(JSON.parse(v.body.toString()).error).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED' });
    } finally {
      await h.close();
    }
  });
});
