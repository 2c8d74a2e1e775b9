/** Schema checks of real responses. */
import type { z } from 'zod';

/** The issues of parsing `value` with `schema`, as `path: message` lines ('' when it parses). */
export function problems(schema: z.ZodType, value: unknown): string {
  const r = schema.safeParse(value);
  return r.success ? '' : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
}
