/**
 * The `retrieve` scenario of the mock model: it calls `headroom_retrieve` the way a real
 * model does when a shortened tool output is not enough.
 *
 *   retrieve        call headroom_retrieve (hash of the newest marker) when the tool is offered,
 *                   then answer from the retrieved text ("Retrieved the original (N chars) ...")
 *   retrieve:loop   call it again after every result (round-limit tests)
 *   retrieve:mixed  call it together with the client's first tool in the same turn
 *   retrieve:miss   call it with a hash nothing was stored under
 */
type Json = Record<string, unknown>;

export type RetrieveMode = 'on' | 'loop' | 'mixed' | 'miss';

export const RETRIEVE_TOOL = 'headroom_retrieve';

export function retrieveModeOf(scenario: string): RetrieveMode | null {
  const [kind, arg] = scenario.split(':');
  if (kind !== 'retrieve') return null;
  return arg === 'loop' || arg === 'mixed' || arg === 'miss' ? arg : 'on';
}

const nameOf = (t: unknown): string | null => {
  const o = t as Json | null;
  if (!o) return null;
  if (typeof o.name === 'string') return o.name;
  const fn = o.function as Json | undefined;
  return typeof fn?.name === 'string' ? fn.name : null;
};

export function offersRetrieve(body: Json): boolean {
  return Array.isArray(body.tools) && body.tools.some((t) => nameOf(t) === RETRIEVE_TOOL);
}

/** The hash of the newest marker in the conversation. */
export function newestMarkerHash(body: Json): string | null {
  const text = JSON.stringify(body.messages ?? body.input ?? '');
  let last: string | null = null;
  for (const m of text.matchAll(/hash=([0-9a-f]{24})/g)) last = m[1] ?? null;
  return last;
}

const textOf = (v: unknown): string =>
  typeof v === 'string' ? v : Array.isArray(v) ? v.map((p) => (typeof (p as Json)?.text === 'string' ? String((p as Json).text) : '')).join('') : '';

/** The text of the newest turn when it answers a headroom_retrieve call (any API), else null. */
export function lastRetrieveResult(body: Json): string | null {
  const items = (Array.isArray(body.messages) ? body.messages : Array.isArray(body.input) ? body.input : []) as Json[];
  const last = items[items.length - 1];
  if (!last) return null;
  const retrieveIds = new Set<string>();
  for (const it of items) {
    if (Array.isArray(it.content)) for (const b of it.content as Json[]) if (b?.type === 'tool_use' && b.name === RETRIEVE_TOOL) retrieveIds.add(String(b.id));
    if (Array.isArray(it.tool_calls)) for (const c of it.tool_calls as Json[]) if (nameOf(c) === RETRIEVE_TOOL) retrieveIds.add(String(c.id));
    if (it.type === 'function_call' && it.name === RETRIEVE_TOOL) retrieveIds.add(String(it.call_id));
  }
  if (Array.isArray(last.content) && last.role === 'user') {
    const r = (last.content as Json[]).find((b) => b?.type === 'tool_result' && retrieveIds.has(String(b.tool_use_id)));
    return r ? textOf(r.content) : null;
  }
  if (last.role === 'tool') return retrieveIds.has(String(last.tool_call_id)) ? textOf(last.content) : null;
  if (last.type === 'function_call_output') return retrieveIds.has(String(last.call_id)) ? textOf(last.output) : null;
  return null;
}

export function answerFromRetrieved(text: string): string {
  return `Retrieved the original (${text.length} chars); it begins: ${JSON.stringify(text.slice(0, 40))}. Summary follows.`;
}
