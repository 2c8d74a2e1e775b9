/** docs/wire-shapes.md is generated from the response schemas and kept in sync with them. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { statsSchema } from '../src/capabilities/stats/schema.js';
import { wireShapesMarkdown } from '../src/compose/wire-shapes.js';
import { schemaRows, schemaTable } from '../src/util/wire-docs.js';

describe('docs/wire-shapes.md', () => {
  it('is what the schemas generate (run `npm run docs:wire` after changing a schema)', () => {
    const onDisk = readFileSync(new URL('../docs/wire-shapes.md', import.meta.url), 'utf8');
    expect(onDisk).toBe(wireShapesMarkdown());
  });

  it('lists every top-level /stats key in served order', () => {
    const paths = schemaRows(statsSchema).map((r) => r.path).filter((p) => !p.includes('.') && !p.includes('['));
    expect(paths).toEqual(Object.keys(statsSchema.shape));
  });

  it('renders nesting, maps, arrays, nullability, optional fields and descriptions', () => {
    const table = schemaTable(z.object({
      a: z.number().int().describe('count'),
      b: z.string().nullable(),
      m: z.record(z.string(), z.object({ x: z.literal(3) })),
      l: z.array(z.object({ y: z.enum(['p', 'q']).optional() })),
      t: z.array(z.tuple([z.string(), z.number()])),
      n: z.number().min(0).describe('inner').nullable(),
    }));
    expect(table.split('\n')).toEqual([
      '| Field | Type | Description |',
      '|---|---|---|',
      '| `a` | integer | count |',
      '| `b` | string or null |  |',
      '| `m` | map of object |  |',
      '| `m.<key>` | object |  |',
      '| `m.<key>.x` | `3` |  |',
      '| `l` | array of object |  |',
      '| `l[]` | object |  |',
      '| `l[].y` | `"p"` or `"q"` | *Optional.* |',
      '| `t` | array of [string, number] |  |',
      '| `n` | number or null | inner |',
    ]);
  });
});
