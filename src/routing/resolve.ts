/**
 * Model resolution: what the client wrote in `model` -> the provider and the model name sent
 * upstream, plus the ordered list of targets to try (the resolved one, then its fallbacks).
 *
 * Order: an exact alias; `provider:model` (split at the first colon; the provider part is
 * case-insensitive, the model keeps its own colons: `local:qwen2.5:7b` -> `qwen2.5:7b`); a
 * wildcard alias (`claude-*`, most literal characters first); otherwise a bare model, sent
 * unchanged to the default provider of the format the client spoke. When the config file names
 * providers, `x:...` where `x` looks like a provider name but is none is an error (a typo must
 * not reach the wrong upstream); without a providers section such names pass as bare models,
 * as before routing existed (`llama3:8b` to the default upstream).
 */
import { globMatch } from './glob.js';
import { type ModelTarget, type Provider, type Registry, RoutingError, explicitTarget, refOf, splitRef } from './registry.js';
import { type ApiFormat, PROVIDER_NAME, wireFormatOf } from './schema.js';

export interface ResolvedModel {
  /** The model string the client sent. */
  readonly requested: string;
  readonly provider: Provider;
  /** The model name sent to the provider. */
  readonly model: string;
  /** `provider:model`. */
  readonly ref: string;
  /** How it was found. */
  readonly via: 'alias' | 'pattern' | 'explicit' | 'default' | 'fallback';
  /** The alias or pattern that matched, if any. */
  readonly alias: string | null;
  /** True when the provider speaks another format than the client: the body must be translated. */
  readonly translate: boolean;
}

function make(reg: Registry, requested: string, t: ModelTarget, via: ResolvedModel['via'], alias: string | null, clientFormat: ApiFormat): ResolvedModel {
  const provider = reg.providers.get(t.provider);
  if (!provider) throw new RoutingError(404, `Unknown provider ${JSON.stringify(t.provider)}`);
  return { requested, provider, model: t.model, ref: refOf(t), via, alias, translate: wireFormatOf(provider.format) !== clientFormat };
}

/** Resolves the client's `model`; throws RoutingError (400 or 404) with a message for the client. */
export function resolveModel(reg: Registry, requested: string, clientFormat: ApiFormat): ResolvedModel {
  if (typeof requested !== 'string' || requested.trim() === '') throw new RoutingError(400, 'The request names no model');
  const exact = reg.aliases.get(requested);
  if (exact) return make(reg, requested, exact, 'alias', requested, clientFormat);

  const explicit = explicitTarget(reg, requested);
  if (explicit) return make(reg, requested, explicit, 'explicit', null, clientFormat);

  for (const p of reg.patterns) {
    if (globMatch(p.pattern, requested)) return make(reg, requested, p.target, 'pattern', p.pattern, clientFormat);
  }

  const split = splitRef(requested);
  if (split && reg.strictPrefixes && PROVIDER_NAME.test(split.prefix)) {
    throw new RoutingError(
      404,
      `Unknown provider ${JSON.stringify(split.prefix)} in model ${JSON.stringify(requested)}; configured providers: ${[...reg.providers.keys()].join(', ')}`,
    );
  }
  return make(reg, requested, { provider: reg.defaults[clientFormat], model: requested }, 'default', null, clientFormat);
}

/** The targets to try for a resolved model: itself first, then its configured fallbacks. */
export function targetsFor(reg: Registry, resolved: ResolvedModel, clientFormat: ApiFormat): ResolvedModel[] {
  const out = [resolved];
  for (const t of reg.fallbacks.get(resolved.ref) ?? []) {
    out.push(make(reg, resolved.requested, t, 'fallback', resolved.alias, clientFormat));
  }
  return out;
}

/** The upstream URL of a provider for an API path under `/v1` (`/chat/completions`, `/messages`). */
export function upstreamUrl(provider: Provider, path: string): string {
  return provider.format === 'openai' ? `${provider.baseUrl}${path}` : `${provider.baseUrl}/v1${path}`;
}
