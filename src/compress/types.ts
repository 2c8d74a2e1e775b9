/** Types shared by the compression engine's transforms and router. */
import type { Query } from './lexical.js';

/** What a text looks like. */
export type ContentKind = 'json' | 'jsonl' | 'diff' | 'html' | 'search' | 'log' | 'plan' | 'table' | 'listing' | 'code' | 'text' | 'empty';

export interface TransformContext {
  query: Query;
  /** Share of items to keep for lossy transforms (null: adaptive). */
  targetRatio: number | null;
  /** Upper bound on kept rows/items for adaptive sizing. */
  maxItems: number;
  /**
   * The text is a short error-bearing tool output: every error row/line must survive (no caps,
   * no collapsing of repeated errors) and transforms that cannot promise that (prose) stay off.
   */
  keepAllErrors?: boolean;
  /** Only lossless compaction is allowed (a tool result flagged `is_error`): nothing may be cut. */
  losslessOnly?: boolean;
  /** Hash of the slot's original text: every marker in the slot points to it. */
  hash: string;
  /** True once the caller's time budget is spent; long transforms give up. */
  expired(): boolean;
}

export interface TransformOutput {
  text: string;
  /** Transform tag, e.g. `json_crusher`, `log_compressor`. */
  transform: string;
  /** Something was dropped: the output carries a marker and the original must be kept. */
  lossy: boolean;
  /** Items in the original and items shown, in `unit` (rows, lines, matches, sentences...). */
  originalItems: number;
  keptItems: number;
  unit: string;
}

export type Transform = (text: string, ctx: TransformContext) => TransformOutput | null;
