/**
 * The fields of a cloud-platform provider entry (`format: bedrock` or `format: vertex`), beside
 * the common `format` and `base_url` (`schema.ts`). Requests of the platform's own paths go to
 * such an entry; the registry's model routing does not target them.
 *
 * ```yaml
 * providers:
 *   aws:    { format: bedrock, region: us-east-1 }                               # the client's own signature passes through
 *   aws2:   { format: bedrock, region: eu-west-1, credentials: chain }           # AWS env / profile / SSO / IMDS chain
 *   aws3:   { format: bedrock, region: us-west-2, access_key_id: AKIA..., secret_access_key: ... }
 *   gcp:    { format: vertex, project: my-proj, region: us-east5, credentials_file: /etc/sa.json }
 *   gcp2:   { format: vertex, credentials: adc }                                 # application-default credentials
 * ```
 */
import { z } from 'zod';

export const CLOUD_FORMATS = ['bedrock', 'vertex'] as const;
export type CloudFormat = (typeof CLOUD_FORMATS)[number];

const nonEmpty = z.string().trim().min(1, 'must not be empty');

export const cloudProviderFields = {
  /** Bedrock: the AWS region (`us-east-1`); Vertex: the default location (the path names its own). */
  region: z.string().regex(/^[a-z0-9-]+$/, 'must be a region name such as us-east-1').optional(),
  /** Vertex: the project the proxy's credentials bill (default: the one the client's path names). */
  project: nonEmpty.optional(),
  /** Where credentials come from: `chain` (AWS default chain), `adc` (Google application-default), `client` (pass the client's own through). */
  credentials: z.enum(['chain', 'adc', 'client']).optional(),
  access_key_id: nonEmpty.optional(),
  secret_access_key: nonEmpty.optional(),
  session_token: nonEmpty.optional(),
  /** Bedrock: a profile of the AWS config files (implies `credentials: chain`). */
  profile: nonEmpty.optional(),
  /** Vertex: a service-account JSON key file (implies OAuth by the proxy). */
  credentials_file: nonEmpty.optional(),
};
