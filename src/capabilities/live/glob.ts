/**
 * Case-insensitive wildcard filters for provider and model names: `*` matches any run of
 * characters (including none), `?` exactly one; every other character is literal (model ids
 * contain `/`, `:`, `.`, `[`, which must not be special). Matching never backtracks (see
 * `compress/wildcard.ts`): a filter is a query parameter anyone allowed to read the live view
 * can send, and it runs against every model bucket.
 */
import { wildcardMatcher } from '../../compress/wildcard.js';

export type NameMatcher = (name: string) => boolean;

/** A matcher for `pattern`, or null (match everything) when the pattern is absent or empty. */
export function nameMatcher(pattern: string | null | undefined): NameMatcher | null {
  if (pattern === null || pattern === undefined || pattern === '') return null;
  return wildcardMatcher(pattern);
}
