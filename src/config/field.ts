/**
 * One configuration field: where it comes from (flag, env, file key), how a raw value is
 * parsed and validated, its default, and its documentation. Every option of headroom-ts is
 * declared once as a Field; flags, env reading, file keys, validation errors and the README
 * table are all derived from these declarations.
 */
import { z } from 'zod';

export type RawValue = string | number | boolean | null | undefined | readonly unknown[];

export interface Field<T> {
  /** Flag name without dashes, e.g. `anthropic-api-url`. Also the snake_case file key. */
  readonly flag: string;
  readonly short?: string;
  /** Environment variables consulted in order (first one set wins). */
  readonly env: readonly string[];
  /**
   * Boolean fields only: variables that turn the option off when true (Headroom's
   * `HEADROOM_NO_*` spellings), consulted after `env`.
   */
  readonly negatedEnv: readonly string[];
  readonly default: T;
  /** Human description of accepted values, used in error messages and docs. */
  readonly accepted: string;
  readonly doc: string;
  readonly group: string;
  /** Boolean flags get both `--x` and `--no-x`. */
  readonly isBool: boolean;
  /** Parses and validates one raw value; throws a ZodError (or Error) when invalid. */
  parse(raw: RawValue): T;
  /** How the default is shown in docs. */
  readonly defaultText: string;
  /** The value is a secret: never echoed in validation errors. */
  readonly secret?: boolean;
}

interface Common<T> {
  flag: string;
  short?: string;
  env?: readonly string[];
  negatedEnv?: readonly string[];
  default: T;
  doc: string;
  group: string;
  defaultText?: string;
}

function make<T>(c: Common<T>, schema: z.ZodType<T>, accepted: string, isBool = false): Field<T> {
  return {
    flag: c.flag,
    ...(c.short ? { short: c.short } : {}),
    env: c.env ?? [],
    negatedEnv: c.negatedEnv ?? [],
    default: c.default,
    accepted,
    doc: c.doc,
    group: c.group,
    isBool,
    defaultText: c.defaultText ?? (c.default === undefined || c.default === null ? 'unset' : String(c.default)),
    parse: (raw) => schema.parse(raw),
  };
}

const trimString = (v: unknown) => (typeof v === 'string' ? v.trim() : v);

const intFromRaw = (v: unknown) => {
  const t = trimString(v);
  if (typeof t === 'string' && /^[+-]?\d+$/.test(t)) return Number(t);
  return t;
};

const numFromRaw = (v: unknown) => {
  const t = trimString(v);
  if (typeof t === 'string' && t !== '' && Number.isFinite(Number(t))) return Number(t);
  return t;
};

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off', '']);
const boolFromRaw = (v: unknown) => {
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (TRUE.has(s)) return true;
    if (FALSE.has(s)) return false;
  }
  if (v === 1) return true;
  if (v === 0) return false;
  return v;
};

const UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1024, kb: 1000, kib: 1024, m: 1024 ** 2, mb: 1000 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1000 ** 3, gib: 1024 ** 3,
};
const bytesFromRaw = (v: unknown) => {
  const t = trimString(v);
  if (typeof t !== 'string') return t;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(t);
  if (!m) return t;
  const unit = UNITS[(m[2] ?? '').toLowerCase()];
  if (unit === undefined) return t;
  return Math.round(Number(m[1]) * unit);
};

export const field = {
  int(c: Common<number> & { min: number; max: number }): Field<number> {
    return make(c, z.preprocess(intFromRaw, z.number().int().min(c.min).max(c.max)), `an integer from ${c.min} to ${c.max}`);
  },
  number(c: Common<number> & { min: number; max: number; exclusiveMin?: boolean }): Field<number> {
    const base = c.exclusiveMin ? z.number().gt(c.min) : z.number().min(c.min);
    return make(c, z.preprocess(numFromRaw, base.max(c.max)), `a number ${c.exclusiveMin ? 'above' : 'from'} ${c.min}${c.exclusiveMin ? ' and up' : ''} to ${c.max}`);
  },
  optionalNumber(c: Common<number | null> & { min: number; max: number }): Field<number | null> {
    const schema = z.preprocess((v) => (v === '' || v === null || v === undefined ? null : numFromRaw(v)), z.number().min(c.min).max(c.max).nullable());
    return make(c, schema as z.ZodType<number | null>, `a number from ${c.min} to ${c.max} (empty = unset)`);
  },
  bool(c: Common<boolean>): Field<boolean> {
    return make(c, z.preprocess(boolFromRaw, z.boolean()), 'true/false (1/0, yes/no, on/off)', true);
  },
  enum<const V extends string>(c: Common<V> & { values: readonly V[]; aliases?: Record<string, V> }): Field<V> {
    const values = c.values as unknown as [V, ...V[]];
    const pre = (v: unknown) => {
      if (typeof v !== 'string') return v;
      const s = v.trim().toLowerCase().replace(/-/g, '_');
      return c.aliases?.[s] ?? (values.find((x) => x.toLowerCase().replace(/-/g, '_') === s) ?? v);
    };
    return make(c, z.preprocess(pre, z.enum(values)) as unknown as z.ZodType<V>, `one of ${values.join(', ')}`);
  },
  string(c: Common<string> & { pattern?: RegExp; patternText?: string; check?: (s: string) => boolean }): Field<string> {
    let s = z.string();
    if (c.pattern) s = s.regex(c.pattern);
    if (c.check) s = s.refine(c.check, { message: `not ${c.patternText ?? 'a valid value'}` });
    return make(c, z.preprocess(trimString, s), c.patternText ?? 'a string');
  },
  optionalString(c: Common<string | null>): Field<string | null> {
    const schema = z.preprocess((v) => (typeof v === 'string' ? (v.trim() === '' ? null : v.trim()) : v ?? null), z.string().nullable());
    return make(c, schema as z.ZodType<string | null>, 'a string (empty = unset)');
  },
  url(c: Common<string>): Field<string> {
    const schema = z.preprocess(trimString, z.string().refine((s) => {
      try {
        const u = new URL(s);
        return u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        return false;
      }
    }, 'not an http(s) URL').transform(normaliseBaseUrl));
    return make(c, schema as unknown as z.ZodType<string>, 'an http:// or https:// URL');
  },
  bytes(c: Common<number> & { min: number; max: number }): Field<number> {
    return make(c, z.preprocess(bytesFromRaw, z.number().int().min(c.min).max(c.max)), `a byte size from ${c.min} to ${c.max} (e.g. 1048576, 512KiB, 32MiB)`);
  },
  list(c: Common<readonly string[]>): Field<readonly string[]> {
    const pre = (v: unknown) => (typeof v === 'string' ? v.split(',').map((x) => x.trim()).filter(Boolean) : v);
    return make(c, z.preprocess(pre, z.array(z.string())) as unknown as z.ZodType<readonly string[]>, 'a comma-separated list');
  },
};

/** Upstream base URLs: trailing `/` and a trailing `/v1` are trimmed (routes add `/v1/...`). */
export function normaliseBaseUrl(s: string): string {
  let out = s.replace(/\/+$/, '');
  if (out.endsWith('/v1')) out = out.slice(0, -3);
  return out.replace(/\/+$/, '');
}

export type FieldMap = Record<string, Field<unknown>>;
export type ConfigOf<F extends FieldMap> = { readonly [K in keyof F]: F[K] extends Field<infer T> ? T : never };
