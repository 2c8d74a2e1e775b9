/**
 * The provider registry as written in the config file (`providers`, `model_aliases`,
 * `fallbacks`), validated with zod. Every field is checked here; cross references (an alias
 * or fallback naming a provider that does not exist) are checked when the registry is built
 * (`registry.ts`), after the environment convention has filled what the file left out.
 */
import { z } from 'zod';
import { CLOUD_FORMATS, cloudProviderFields } from './cloud-schema.js';

export type ApiFormat = 'openai' | 'anthropic';
export const API_FORMATS: readonly ApiFormat[] = ['openai', 'anthropic'];
/**
 * Every provider format: the two client wire formats and the cloud platforms (`azure`: OpenAI
 * Chat/Responses on Azure paths with `api-key`; `gemini`: the Gemini API, reached from OpenAI
 * and Anthropic clients through `src/translate/gemini`).
 */
export type ProviderFormat = ApiFormat | 'azure' | 'gemini';
export const PROVIDER_FORMATS: readonly ProviderFormat[] = [...API_FORMATS, 'azure', 'gemini'];

/** The client wire format a provider format speaks (Azure OpenAI: OpenAI Chat on its own paths); itself for the others. */
export const wireFormatOf = (format: string): string => (format === 'azure' ? 'openai' : format);

/** Provider names: lower-case letters, digits, `_` and `-`, starting with a letter. */
export const PROVIDER_NAME = /^[a-z][a-z0-9_-]*$/;

const url = z
  .string()
  .trim()
  .refine((s) => {
    try {
      const u = new URL(s);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL');

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

export const providerFileSchema = z
  .object({
    format: z.enum(['openai', 'anthropic', 'azure', 'gemini', ...CLOUD_FORMATS]).optional(),
    base_url: url.optional(),
    /** Azure: deployment name -> the model it serves (for pricing). */
    deployments: z.record(z.string().min(1), z.string().min(1)).optional(),
    api_keys: z.array(z.string().min(1, 'an API key must not be empty')).optional(),
    api_key_env: envName.optional(),
    ...cloudProviderFields,
  })
  .strict()
  .refine((p) => !(p.api_keys && p.api_key_env), 'give api_keys or api_key_env, not both')
  .refine((p) => !p.access_key_id === !p.secret_access_key, 'give access_key_id and secret_access_key together');

export type ProviderFileEntry = z.infer<typeof providerFileSchema>;

/** A model reference: `provider:model` or an alias name; never empty. */
const modelRef = z.string().trim().min(1, 'a model reference must not be empty');

export const routingFileSchema = z
  .object({
    providers: z
      .record(z.string(), providerFileSchema.nullable())
      .superRefine((providers, ctx) => {
        for (const name of Object.keys(providers)) {
          if (!PROVIDER_NAME.test(name)) {
            ctx.addIssue({ code: 'custom', path: [name], message: `${JSON.stringify(name)}: provider names are lower-case letters, digits, _ and -, starting with a letter` });
          }
        }
      })
      .optional(),
    model_aliases: z.record(modelRef, modelRef).optional(),
    fallbacks: z.record(modelRef, z.array(modelRef)).optional(),
  })
  // other config keys live beside these in the same file
  .passthrough();

export type RoutingFile = z.infer<typeof routingFileSchema>;

export class RoutingConfigError extends Error {
  override readonly name = 'RoutingConfigError';
}

/** Parses the routing part of a config file object; throws RoutingConfigError naming the field. */
export function parseRoutingFile(raw: unknown): RoutingFile {
  const res = routingFileSchema.safeParse(raw ?? {});
  if (res.success) return res.data;
  const issues = res.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
  throw new RoutingConfigError(`Invalid routing configuration: ${issues.join('; ')}`);
}
