/**
 * Where one upstream call goes. A routing or fallback link sets it on the `ForwardCall` it
 * passes on; translation reads its `format`, signing its provider entry, and the relay sends
 * the call there. A call without a target goes to the route's default upstream
 * (`--anthropic-api-url` / `--openai-api-url`), as before routing existed.
 */
export interface UpstreamTarget {
  /** The provider's name in the registry (`local`, `oai`), or the default provider's id. */
  readonly provider: string;
  /** The wire format the upstream speaks (`anthropic`, `openai`; cloud formats later). */
  readonly format: string;
  /** Base URL: scheme, host and an optional base path (`http://127.0.0.1:11434/v1`). */
  readonly baseUrl: string;
  /**
   * Path and query below `baseUrl` to call (absent: the client's own path and query). With a
   * base path ending in `/v1`, a translated chat call is `/chat/completions`.
   */
  readonly path?: string;
  /** The model the upstream is asked for (after alias resolution; `provider:` stripped). */
  readonly model: string;
  /** Headers to send, replacing the client's of the same name (case-insensitive): the proxy's own key. */
  readonly setHeaders?: Readonly<Record<string, string>>;
  /** Client header names (lower case) not to forward: its key when the proxy sends its own. */
  readonly dropHeaders?: readonly string[];
}

/** Applies a target's header changes to a raw header list (name, value, name, value...). */
export function applyTargetHeaders(raw: string[], target: UpstreamTarget | undefined): string[] {
  if (!target || (!target.setHeaders && !target.dropHeaders)) return raw;
  const set = target.setHeaders ?? {};
  const replaced = new Set(Object.keys(set).map((n) => n.toLowerCase()));
  const dropped = new Set(target.dropHeaders ?? []);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = (raw[i] as string).toLowerCase();
    if (replaced.has(lower) || dropped.has(lower)) continue;
    out.push(raw[i] as string, raw[i + 1] as string);
  }
  for (const [name, value] of Object.entries(set)) out.push(name, value);
  return out;
}
