/**
 * Secret scrubbing for anything that may be logged. Applied to every log line as it is
 * written, so a key that slips into a message, an error or a header dump never lands in
 * the output.
 */

const PATTERNS: [RegExp, string][] = [
  // Anthropic, OpenAI project/service/admin keys and classic sk- keys (hyphenated prefixes included)
  [/\bsk-(?:ant-|proj-|svcacct-|admin-)?[A-Za-z0-9_-]{8,}/g, 'sk-***'],
  // Google API keys
  [/\bAIza[0-9A-Za-z_-]{20,}/g, 'AIza***'],
  // Bearer tokens
  [/\b(Bearer)\s+[A-Za-z0-9._~+/=-]{6,}/gi, '$1 ***'],
  // header / key-value forms: x-api-key: v, "x-api-key":"v", api_key=v, 'x-goog-api-key': 'v'
  [/((?:x-api-key|x-goog-api-key|api[_-]?key|authorization|x-headroom-proxy-token|proxy[_-]?token|secret[_-]?key)["']?\s*[:=]\s*["']?)(?!\*\*\*)[^"',\s}&]{4,}/gi, '$1***'],
];

/** One cheap pass first: most lines contain nothing that looks like a secret. */
const MAYBE_SECRET = /sk-|AIza|bearer|api[_-]?key|authorization|proxy[_-]?token|secret[_-]?key/i;

export function redactSecrets(text: string): string {
  if (!MAYBE_SECRET.test(text)) return text;
  let out = text;
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
  return out;
}
