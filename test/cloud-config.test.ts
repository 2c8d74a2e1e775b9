/**
 * Cloud provider entries in the config file: parsed beside the options (the routing sections
 * are not options), validated by the routing schema, skipped by the model registry, and used by
 * the default proxy (`createProxyApp`) to sign Bedrock calls.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CloudProvider, cloudProvidersOf } from '../src/capabilities/cloud/entries.js';
import { CloudRoutes } from '../src/capabilities/cloud/routes.js';
import { createProxyApp } from '../src/compose/proxy.js';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/core/logger.js';
import { MockBedrock } from '../src/mock/bedrock.js';
import { buildRegistry } from '../src/routing/registry.js';
import { post } from './helpers/cloud.js';

const AKID = 'AKIDTESTFAKE0000000';
const SECRET = 'test-fake-secret-key-not-real-0000000000';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'headroom-cloud-config-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(text: string): string {
  const p = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(p, text);
  return p;
}

describe('cloud providers in the config file', () => {
  it('are read beside the options, in file order, with their credentials', () => {
    const path = file(`
port: 0
providers:
  oai: { format: openai, base_url: http://127.0.0.1:9/v1 }
  aws: { format: bedrock, region: eu-west-1, access_key_id: ${AKID}, secret_access_key: ${SECRET} }
  aws2: { format: bedrock, profile: dev }
  aws3: { format: bedrock }
  gcp: { format: vertex, credentials_file: /etc/sa.json, project: billing-proj }
  gcp2: { format: vertex, credentials: adc }
`);
    const { config } = loadConfig({ configFile: path, env: {} });
    const providers = cloudProvidersOf(config);
    expect(providers.map((p) => [p.name, p.format, p.auth.kind])).toEqual([
      ['aws', 'bedrock', 'aws-static'],
      ['aws2', 'bedrock', 'aws-chain'],
      ['aws3', 'bedrock', 'client'],
      ['gcp', 'vertex', 'google'],
      ['gcp2', 'vertex', 'google'],
    ]);
    expect(providers[0]!.region).toBe('eu-west-1');
    expect(providers[3]!.project).toBe('billing-proj');
    // the model registry keeps the non-cloud providers only
    const reg = buildRegistry({ file: { providers: { oai: { format: 'openai', base_url: 'http://127.0.0.1:9/v1' }, aws: { format: 'bedrock', region: 'us-east-1' } } }, env: {}, defaults: { anthropicUrl: 'http://127.0.0.1:9', openaiUrl: 'http://127.0.0.1:9' } });
    expect(reg.providers.has('oai')).toBe(true);
    expect(reg.providers.has('aws')).toBe(false);
  });

  it('a bad entry is refused naming the field', () => {
    const path = file(`providers:\n  aws: { format: bedrock, access_key_id: ${AKID} }\n`);
    const { config } = loadConfig({ configFile: path, env: {} });
    expect(() => cloudProvidersOf(config)).toThrow(/access_key_id and secret_access_key together/);
    const path2 = file(`providers:\n  aws: { format: bedrock, region: "US East" }\n`);
    expect(() => cloudProvidersOf(loadConfig({ configFile: path2, env: {} }).config)).toThrow(/providers\.aws\.region/);
  });

  it('the default proxy signs Bedrock calls with the file entry', async () => {
    const mock = new MockBedrock({ accessKeyId: AKID, secretAccessKey: SECRET, region: 'eu-west-1' });
    await mock.start();
    const path = file(`providers:\n  aws: { format: bedrock, region: eu-west-1, base_url: ${mock.url}, access_key_id: ${AKID}, secret_access_key: ${SECRET} }\n`);
    const { config } = loadConfig({ configFile: path, env: {}, overrides: { port: 0, workspaceDir: dir } });
    const app = await createProxyApp(config, { logger: createLogger({ level: 'error', destination: { write: () => undefined } }) });
    try {
      const { url } = await app.listen();
      const r = await post(`${url}/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke`, { anthropic_version: 'bedrock-2023-05-31', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
      expect(r.status, r.body.toString()).toBe(200);
      expect(mock.requests[0]!.auth).toBe('sigv4');
      expect(String(mock.requests[0]!.headers.authorization)).toContain('/eu-west-1/bedrock/aws4_request');
    } finally {
      await app.close();
      await mock.close();
    }
  });
});

describe('which provider serves a cloud path', () => {
  const entry = (name: string, format: 'bedrock' | 'vertex', region: string | null): CloudProvider => ({ name, format, baseUrl: null, region, project: null, auth: { kind: 'client' } });
  const routes = new CloudRoutes([entry('aws-us', 'bedrock', 'us-west-2'), entry('aws-eu', 'bedrock', 'eu-central-1'), entry('gcp', 'vertex', null)], {});
  const invoke = '/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke';

  it('the first entry of the format, or the one x-headroom-provider names', () => {
    const first = routes.of(routes.resolve('POST', invoke, {})!)!;
    expect([first.entry?.name, first.baseUrl]).toEqual(['aws-us', 'https://bedrock-runtime.us-west-2.amazonaws.com']);
    const named = routes.of(routes.resolve('POST', invoke, { 'x-headroom-provider': 'aws-eu' })!)!;
    expect([named.entry?.name, named.baseUrl]).toEqual(['aws-eu', 'https://bedrock-runtime.eu-central-1.amazonaws.com']);
    // a name of another format does not apply
    expect(routes.of(routes.resolve('POST', invoke, { 'x-headroom-provider': 'gcp' })!)!.entry?.name).toBe('aws-us');
    const v = routes.of(routes.resolve('POST', '/v1/projects/p/locations/europe-west1/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict', {})!)!;
    expect([v.entry?.name, v.baseUrl]).toEqual(['gcp', 'https://europe-west1-aiplatform.googleapis.com']);
  });

  it("none configured: the public endpoint, in the region of the client's own signature", () => {
    const none = new CloudRoutes([], { AWS_REGION: 'ap-south-1' });
    const signed = none.of(none.resolve('POST', invoke, { authorization: 'AWS4-HMAC-SHA256 Credential=AKIDFAKE/20261207/eu-west-3/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=00' })!)!;
    expect(signed.baseUrl).toBe('https://bedrock-runtime.eu-west-3.amazonaws.com');
    expect(signed.summary.auth).toBe('client-sigv4');
    const unsigned = none.of(none.resolve('POST', invoke, {})!)!;
    expect(unsigned.baseUrl).toBe('https://bedrock-runtime.ap-south-1.amazonaws.com');
    const global = none.of(none.resolve('POST', '/v1/projects/p/locations/global/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict', {})!)!;
    expect(global.baseUrl).toBe('https://aiplatform.googleapis.com');
    // not a cloud path, or another operation: not resolved here
    expect(none.resolve('POST', '/model/x/apply-guardrail', {})).toBeNull();
    expect(none.resolve('GET', invoke, {})).toBeNull();
  });
});
