import { type Field, field } from '../field.js';

/** An optional upstream base URL: a trailing `/` is trimmed; empty = unset. */
function optionalBaseUrl(c: { flag: string; env: readonly string[]; doc: string }): Field<string | null> {
  const base = field.optionalString({ flag: c.flag, env: c.env, default: null, group: 'upstream', doc: c.doc });
  return {
    ...base,
    accepted: 'an http:// or https:// URL (empty = unset)',
    parse(raw) {
      const s = base.parse(raw);
      if (s === null) return null;
      const u = new URL(s);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not an http(s) URL');
      return s.replace(/\/+$/, '');
    },
  };
}

/** Deployment map entries: `deployment=model`. */
const DEPLOYMENT_ENTRY = /^[^=\s]+=[^=\s]+$/;

/** Azure OpenAI and the Gemini API as upstreams of their own native paths. */
export const azureGeminiFields = {
  azureOpenaiApiUrl: optionalBaseUrl({
    flag: 'azure-openai-api-url', env: ['HEADROOM_AZURE_OPENAI_API_URL'],
    doc: 'Azure OpenAI resource endpoint (`https://<resource>.openai.azure.com`) that `/openai/deployments/...`, `/openai/responses` and `/openai/v1/...` are forwarded to when the routing file has no `format: azure` provider entry (an entry wins). Unset, and no entry: those paths answer 404.',
  }),
  azureOpenaiApiKey: { ...field.optionalString({
    flag: 'azure-openai-api-key', env: ['HEADROOM_AZURE_OPENAI_API_KEY'], default: null, group: 'upstream',
    doc: 'The proxy\'s own Azure OpenAI key, sent as `api-key` instead of the client\'s `api-key` or Entra ID bearer. Unset: the client\'s credentials pass through. Never logged.',
  }), secret: true },
  azureDeployments: {
    ...field.list({
      flag: 'azure-deployments', env: ['HEADROOM_AZURE_DEPLOYMENTS'], default: [], group: 'upstream', defaultText: 'none',
      doc: 'Azure deployment names and the model each serves, for pricing: `my-gpt4o=gpt-4o,mini=gpt-4o-mini`. A deployment not listed is priced as the model its responses report.',
    }),
    accepted: 'a comma-separated list of deployment=model',
    parse(raw: unknown) {
      const list = field.list({ flag: 'azure-deployments', default: [], group: 'upstream', doc: '' }).parse(raw as never);
      for (const e of list) if (!DEPLOYMENT_ENTRY.test(e)) throw new Error(`${JSON.stringify(e)} is not deployment=model`);
      return list;
    },
  } as Field<readonly string[]>,
  geminiApiUrl: field.url({
    flag: 'gemini-api-url', env: ['HEADROOM_GEMINI_API_URL', 'GEMINI_TARGET_API_URL'], default: 'https://generativelanguage.googleapis.com', group: 'upstream',
    doc: 'Gemini API upstream base URL for `/v1beta/models/{model}:generateContent` and `:streamGenerateContent` when the routing file has no `format: gemini` provider entry (an entry wins).',
  }),
  geminiApiKey: { ...field.optionalString({
    flag: 'gemini-api-key', env: ['HEADROOM_GEMINI_API_KEY'], default: null, group: 'upstream',
    doc: 'The proxy\'s own Gemini API key, sent as `x-goog-api-key` instead of the client\'s (header or `key=` query). Unset: the client\'s key passes through. Never logged.',
  }), secret: true },
} as const;
