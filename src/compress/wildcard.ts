/**
 * Case-insensitive wildcard matching without regular expressions: `*` matches any run of
 * characters (including none), `?` exactly one; every other character is literal. Patterns
 * often come from clients (live filters, `/v1/compress` tool exclusions), so matching must not
 * backtrack: the pattern is cut at its stars into fixed-length pieces, the first is matched at
 * the start, the last at the end, and each one between is placed once, at its leftmost fit
 * (an earlier fit never leaves less room for the pieces after it). Cost: at most
 * name length x pattern length character comparisons, whatever the input.
 */

/** Whether `piece` (with `?` as any one character) matches `name` at `at`. Both lower-cased. */
function pieceAt(name: string, piece: string, at: number): boolean {
  for (let i = 0; i < piece.length; i++) {
    const p = piece.charCodeAt(i);
    if (p !== 63 /* ? */ && p !== name.charCodeAt(at + i)) return false;
  }
  return true;
}

/** Leftmost index >= from where `piece` fits and ends at or before `end`, or -1. */
function findPiece(name: string, piece: string, from: number, end: number): number {
  const last = end - piece.length;
  if (!piece.includes('?')) {
    const i = name.indexOf(piece, from);
    return i !== -1 && i <= last ? i : -1;
  }
  for (let i = from; i <= last; i++) if (pieceAt(name, piece, i)) return i;
  return -1;
}

export type WildcardMatcher = (name: string) => boolean;

/** A matcher for `pattern` (case-insensitive). */
export function wildcardMatcher(pattern: string): WildcardMatcher {
  const pieces = pattern.toLowerCase().split('*');
  const first = pieces[0] as string;
  if (pieces.length === 1) return (name) => name.length === first.length && pieceAt(name.toLowerCase(), first, 0);
  const lastPiece = pieces[pieces.length - 1] as string;
  const middle = pieces.slice(1, -1).filter((p) => p !== '');
  const fixed = first.length + lastPiece.length;
  return (raw) => {
    if (raw.length < fixed) return false;
    const name = raw.toLowerCase();
    if (!pieceAt(name, first, 0)) return false;
    const tail = name.length - lastPiece.length;
    if (!pieceAt(name, lastPiece, tail)) return false;
    let at = first.length;
    for (const piece of middle) {
      const i = findPiece(name, piece, at, tail);
      if (i === -1) return false;
      at = i + piece.length;
    }
    return true;
  };
}

/** Whether `name` matches `pattern` (see `wildcardMatcher`). */
export function wildcardMatch(pattern: string, name: string): boolean {
  return wildcardMatcher(pattern)(name);
}
