/**
 * Renders a zod schema of a response as a Markdown table (one row per field, nested fields
 * as dotted paths, map keys as `<key>`, array items as `[]`), from its JSON Schema form: the
 * docs of the wire shapes are generated from the very schemas the server builds by.
 */
import { z } from 'zod';

interface Js {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  description?: string;
  properties?: Record<string, Js>;
  required?: string[];
  additionalProperties?: boolean | Js;
  propertyNames?: Js;
  items?: Js | false;
  prefixItems?: Js[];
  anyOf?: Js[];
  oneOf?: Js[];
  maxItems?: number;
}

export interface FieldRow {
  path: string;
  type: string;
  required: boolean;
  description: string;
}

const isRecord = (s: Js) => typeof s.additionalProperties === 'object' || s.propertyNames !== undefined;
const variants = (s: Js): Js[] | null => s.anyOf ?? s.oneOf ?? null;

/** The schema without its `null` variant, and whether it had one. */
function nonNull(s: Js): { s: Js; nullable: boolean } {
  const vs = variants(s);
  if (vs) {
    const rest = vs.filter((v) => v.type !== 'null');
    if (rest.length < vs.length && rest.length === 1) return { s: { ...rest[0]!, description: s.description ?? rest[0]!.description }, nullable: true };
    return { s, nullable: false };
  }
  if (Array.isArray(s.type) && s.type.includes('null')) {
    const types = s.type.filter((t) => t !== 'null');
    return { s: { ...s, type: types.length === 1 ? types[0]! : types }, nullable: true };
  }
  return { s, nullable: false };
}

function typeText(raw: Js): string {
  const { s, nullable } = nonNull(raw);
  let t: string;
  const vs = variants(s);
  if (s.const !== undefined) t = `\`${JSON.stringify(s.const)}\``;
  else if (s.enum) t = s.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' or ');
  else if (vs) t = vs.map(typeText).join(' or ');
  else if (s.type === 'array' && s.prefixItems) t = `[${s.prefixItems.map(typeText).join(', ')}]`;
  else if (s.type === 'array') t = s.maxItems === 0 ? 'empty array' : `array of ${s.items ? typeText(s.items) : 'any'}`;
  else if (s.type === 'object' && isRecord(s)) t = `map of ${typeof s.additionalProperties === 'object' ? typeText(s.additionalProperties) : 'any'}`;
  else if (s.type === 'object') t = 'object';
  else if (Array.isArray(s.type)) t = s.type.join(' or ');
  else t = s.type ?? 'any';
  return nullable ? `${t} or null` : t;
}

function walk(raw: Js, path: string, required: boolean, rows: FieldRow[]): void {
  const { s } = nonNull(raw);
  if (path) rows.push({ path, type: typeText(raw), required, description: s.description ?? raw.description ?? '' });
  if (s.type === 'object' && s.properties) {
    const req = new Set(s.required ?? []);
    for (const [k, v] of Object.entries(s.properties)) walk(v, path ? `${path}.${k}` : k, req.has(k), rows);
  } else if (s.type === 'object' && typeof s.additionalProperties === 'object') {
    const inner = nonNull(s.additionalProperties).s;
    if (inner.type === 'object' || inner.type === 'array') walk(s.additionalProperties, `${path}.<key>`, true, rows);
  } else if (s.type === 'array' && s.items && !s.prefixItems) {
    const inner = nonNull(s.items).s;
    if (inner.type === 'object' && (inner.properties || isRecord(inner))) walk(s.items, `${path}[]`, true, rows);
  }
}

/** One row per field of `schema` (an object schema), in declaration order. */
export function schemaRows(schema: z.ZodType): FieldRow[] {
  const rows: FieldRow[] = [];
  walk(z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as Js, '', true, rows);
  return rows;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The Markdown table of `schema`: Field, Type, Description (`optional` fields say so). */
export function schemaTable(schema: z.ZodType): string {
  const out = ['| Field | Type | Description |', '|---|---|---|'];
  for (const r of schemaRows(schema)) {
    const desc = [r.required ? '' : '*Optional.*', r.description].filter(Boolean).join(' ');
    out.push(`| \`${cell(r.path)}\` | ${cell(r.type)} | ${cell(desc)} |`);
  }
  return out.join('\n');
}
