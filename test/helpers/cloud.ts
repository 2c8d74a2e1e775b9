/** A proxy with the cloud capability configured for the mock Bedrock / Vertex, and a raw HTTP client. */
import { generateOutput } from '../../src/mock/agent-outputs.js';
import { defaultPlugins } from '../../src/compose/proxy.js';
import { createCloudPlugin } from '../../src/capabilities/cloud/plugin.js';
import type { CloudProvider } from '../../src/capabilities/cloud/entries.js';
import { type Harness, type HarnessOptions, startHarness } from './harness.js';

export async function startCloudHarness(providers: CloudProvider[], opts: HarnessOptions = {}): Promise<Harness> {
  const plugins = [...defaultPlugins().filter((p) => p.name !== 'cloud'), createCloudPlugin({ providers, env: {} })];
  return startHarness({ ...opts, plugins });
}

export interface RawReply {
  status: number;
  headers: Headers;
  body: Buffer;
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<RawReply> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

/** A large tool output: a JSON log (compressible; its needles survive compression). */
export function bigJsonListing(seed = 3): string {
  return generateOutput('logs_json', 30_000, seed).text;
}
