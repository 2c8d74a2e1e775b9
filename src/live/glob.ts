/**
 * Case-insensitive wildcard filters for provider and model names: `*` matches any run of
 * characters (including none), `?` exactly one; every other character is literal (model ids
 * contain `/`, `:`, `.`, `[`, which must not be special).
 */
export type NameMatcher = (name: string) => boolean;

const SPECIAL = /[\\^$.|+()[\]{}]/g;

export function globToRegExp(pattern: string): RegExp {
  let src = '';
  for (const ch of pattern) {
    if (ch === '*') src += '.*';
    else if (ch === '?') src += '.';
    else src += ch.replace(SPECIAL, '\\$&');
  }
  return new RegExp(`^${src}$`, 'is');
}

/** A matcher for `pattern`, or null (match everything) when the pattern is absent or empty. */
export function nameMatcher(pattern: string | null | undefined): NameMatcher | null {
  if (pattern === null || pattern === undefined || pattern === '') return null;
  const re = globToRegExp(pattern);
  return (name) => re.test(name);
}
