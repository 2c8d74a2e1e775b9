/**
 * `*` wildcards for alias patterns (`claude-*`), matched without backtracking: the classic
 * two-pointer scan, linear in practice and never exponential, so no pattern can stall a request.
 */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = t;
    } else if (star !== -1) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/** Characters that are not `*`: how specific a pattern is (more literal text wins). */
export const literalLength = (pattern: string): number => pattern.replace(/\*/g, '').length;
