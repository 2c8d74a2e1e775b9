/**
 * SigV4 for Bedrock (`@smithy/signature-v4`, service `bedrock`): signs the final upstream
 * request (method, path, host, content type, body) with credentials from the provider entry or
 * the standard AWS chain (`fromNodeProviderChain`: environment, shared config/credentials
 * files and profiles, SSO, web identity, container and instance metadata), resolved when first
 * needed and refreshed by the provider when they expire.
 */
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256, splitQuery } from '../../providers/sigv4.js';
import type { CloudProvider } from './entries.js';

type AwsCredentialIdentityProvider = ConstructorParameters<typeof SignatureV4>[0]['credentials'];
interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export function credentialsFor(auth: CloudProvider['auth']): AwsCredentialIdentityProvider | null {
  if (auth.kind === 'aws-static') {
    const c: AwsCredentialIdentity = { accessKeyId: auth.accessKeyId, secretAccessKey: auth.secretAccessKey, ...(auth.sessionToken ? { sessionToken: auth.sessionToken } : {}) };
    return c;
  }
  if (auth.kind === 'aws-chain') return fromNodeProviderChain(auth.profile ? { profile: auth.profile } : {});
  return null;
}

export interface SignInput {
  url: URL;
  /** Path and query as sent (already percent-encoded). */
  path: string;
  body: Buffer;
  contentType: string;
  accept?: string;
}

/** Signs Bedrock requests for one provider entry. */
export class BedrockSigner {
  private readonly signer: SignatureV4;

  constructor(region: string, credentials: AwsCredentialIdentityProvider) {
    this.signer = new SignatureV4({ service: 'bedrock', region, credentials, sha256: Sha256 });
  }

  /** The headers to send: `authorization`, `x-amz-date`, `x-amz-security-token` (temporary credentials), `x-amz-content-sha256`. */
  async sign(input: SignInput): Promise<Record<string, string>> {
    const [pathname, search] = splitQuery(input.path);
    const headers: Record<string, string> = { host: input.url.host, 'content-type': input.contentType };
    if (input.accept) headers.accept = input.accept;
    const signed = await this.signer.sign({
      method: 'POST',
      protocol: input.url.protocol,
      hostname: input.url.hostname,
      ...(input.url.port ? { port: Number(input.url.port) } : {}),
      path: pathname,
      query: search,
      headers,
      body: input.body,
    });
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(signed.headers)) if (k !== 'host') out[k] = String(v);
    return out;
  }
}
