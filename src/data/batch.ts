/**
 * The columnar batch that flows from a generator (pure) to a sink (I/O).
 *
 * A generator produces rows [start, end) of one table as typed column arrays; the same
 * (spec, seed, row index) always yields the same values, whatever range is asked for.
 */

export type ColumnType = 'string' | 'int32' | 'float64';

export interface ColumnSchema {
  name: string;
  type: ColumnType;
  /** Digits after the decimal point a float64 column is rounded to (CSV/NDJSON print exactly this many). */
  decimals?: number;
  nullable?: boolean;
}

/** A string column as codes into a small dictionary (arms, visits) or plain values (ids). */
export type StringColumn =
  | {
      kind: 'dict';
      dictionary: readonly string[];
      codes: Uint32Array;
      /**
       * A promise that the entries are in strictly increasing order (JS `<`), so that a sink can
       * skip deduplicating them against an earlier batch's entries that are all smaller.
       */
      sorted?: boolean;
    }
  | { kind: 'plain'; values: string[] };

export type ColumnData = Int32Array | Float64Array | StringColumn;

export interface Batch {
  /** Global index of the first row in this batch. */
  start: number;
  length: number;
  /** In schema order. */
  columns: ColumnData[];
  /** Per column, 1 = null at that row; absent when the column has no nulls in this batch. */
  nulls?: (Uint8Array | undefined)[];
}

/** One table of a job, able to produce any row range independently. */
export interface TableGenerator {
  table: string;
  schema: ColumnSchema[];
  rows: number;
  batch(start: number, end: number): Batch;
}
