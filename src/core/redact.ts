/**
 * Secret scrubbing for anything that may be logged or shown. Applied to every log line as it
 * is written and to the JSON/YAML of the stats and live endpoints, so a key that slips into a
 * message, an error, a model name or a header dump never lands in the output.
 *
 * Text is often JSON already (`"...\nsk-ant-..."`): a key right after an escape (`\n`, `\t`,
 * `\u000a`, `\"`) starts at a word character, where `\b` sees no boundary, so the patterns
 * accept an escape as a boundary too, and `\"` around header names and values.
 */

/** A word boundary, or the end of a JSON escape sequence. */
const B = String.raw`(?:\b|(?<=\\[nrtbf])|(?<=\\u[0-9a-fA-F]{4}))`;

const PATTERNS: [RegExp, string][] = [
  // Anthropic, OpenAI project/service/admin keys and classic sk- keys (hyphenated prefixes included)
  [new RegExp(String.raw`${B}sk-(?:ant-|proj-|svcacct-|admin-)?[A-Za-z0-9_-]{8,}`, 'g'), 'sk-***'],
  // headroom-ts virtual keys (`keys:`; `hr-` and 43 base64url characters)
  [new RegExp(String.raw`${B}hr-[A-Za-z0-9_-]{32,}`, 'g'), 'hr-***'],
  // Google API keys
  [new RegExp(String.raw`${B}AIza[0-9A-Za-z_-]{20,}`, 'g'), 'AIza***'],
  // Bearer tokens
  [new RegExp(String.raw`${B}(Bearer)\s+[A-Za-z0-9._~+/=-]{6,}`, 'gi'), '$1 ***'],
  // header / key-value forms: x-api-key: v, "x-api-key":"v", \"x-api-key\":\"v\", api_key=v, 'x-goog-api-key': 'v'
  [
    /((?:x-api-key|x-goog-api-key|api[_-]?key|authorization|x-headroom-proxy-token|proxy[_-]?token|secret[_-]?key)\\?["']?\s*[:=]\s*\\?["']?)(?!\*\*\*)[^"'\\,\s}&]{4,}/gi,
    '$1***',
  ],
];

/** One cheap pass first: most lines contain nothing that looks like a secret. */
const MAYBE_SECRET = /sk-|hr-|AIza|bearer|api[_-]?key|authorization|proxy[_-]?token|secret[_-]?key/i;

export function redactSecrets(text: string): string {
  if (!MAYBE_SECRET.test(text)) return text;
  let out = text;
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
  return out;
}
