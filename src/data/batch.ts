/**
 * The columnar batch that flows from a generator (pure) to a sink (I/O).
 *
 * A generator produces rows [start, end) of one table as typed column arrays; the same
 * (spec, seed, row index) always yields the same values, whatever range is asked for.
 *
 * In-memory representation per column type (row i of a batch of n rows):
 *
 * | type      | array                          | value of row i                                          |
 * | --------- | ------------------------------ | ------------------------------------------------------- |
 * | string    | StringColumn (dict or plain)   | dictionary[codes[i]] or values[i]                       |
 * | bool      | Uint8Array(n)                  | 0 = false, any other byte = true                        |
 * | int32     | Int32Array(n)                  | the value                                               |
 * | int64     | Float64Array(n)                | an integer with abs(x) <= 2^53 - 1 (Number.isSafeInteger) |
 * | float64   | Float64Array(n)                | the value                                               |
 * | date      | Int32Array(n)                  | days since 1970-01-01 (negative before)                 |
 * | timestamp | Float64Array(n)                | integer microseconds since 1970-01-01T00:00:00Z (UTC),  |
 * |           |                                | safe integers only: about years 1685 to 2255            |
 * | uuid      | Uint8Array(16 n)               | bytes [16 i, 16 i + 16), RFC 9562 byte order            |
 *
 * int64 and timestamp use Float64Array, not BigInt64Array: generators compute with numbers and
 * text output prints them with the integer fast path. The Parquet writer converts them to 8-byte
 * INT64 and throws on a value that is not a safe integer. Where a row is null (nulls[c][i] = 1),
 * the value slot is ignored and may hold anything.
 */

export type ColumnType = 'string' | 'bool' | 'int32' | 'int64' | 'float64' | 'date' | 'timestamp' | 'uuid';

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
  | { kind: 'plain'; values: string[] }
  /**
   * Values as UTF-8 bytes: value i is bytes[offsets[i], offsets[i + 1]) (valid UTF-8). What a
   * generator of many distinct strings makes (emails, codes, text) without a JS string per value;
   * encoders copy the bytes, and the digest is the same as for the same values as `plain`.
   */
  | { kind: 'utf8'; bytes: Uint8Array; offsets: Uint32Array };

export type ColumnData = Int32Array | Float64Array | Uint8Array | StringColumn;

/** Bytes per row of a uuid column. */
export const UUID_BYTES = 16;

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
  /**
   * Rows [start, end). `recycle`: a batch this generator returned before that the caller is done
   * with; the generator may overwrite its arrays and return them again (fewer ArrayBuffers made
   * and collected; the values are the same either way). Generators may ignore it.
   */
  batch(start: number, end: number, recycle?: Batch): Batch;
}

/** The array class each column type is held in (StringColumn for string). */
export const COLUMN_ARRAY: Record<Exclude<ColumnType, 'string'>, typeof Int32Array | typeof Float64Array | typeof Uint8Array> = {
  bool: Uint8Array,
  int32: Int32Array,
  int64: Float64Array,
  float64: Float64Array,
  date: Int32Array,
  timestamp: Float64Array,
  uuid: Uint8Array,
};

/**
 * Throws unless `data` is the representation `s.type` needs for `length` rows (see the table
 * above). Encoders call it once per column per batch.
 */
export function checkColumn(s: ColumnSchema, data: ColumnData, length: number): void {
  if (s.type === 'string') {
    const k = (data as StringColumn).kind;
    if (k !== 'dict' && k !== 'plain' && k !== 'utf8') throw new Error(`column ${s.name}: expected a string column`);
    if (k === 'utf8' && (data as { offsets: Uint32Array }).offsets.length < length + 1) throw new Error(`column ${s.name}: utf8 offsets need ${length + 1} entries`);
    return;
  }
  const A = COLUMN_ARRAY[s.type];
  if (!A) throw new Error(`column ${s.name}: unsupported column type ${JSON.stringify(s.type)}`);
  if (!(data instanceof A)) throw new Error(`column ${s.name}: expected ${A.name} for ${s.type}`);
  const need = s.type === 'uuid' ? length * UUID_BYTES : length;
  if (data.length < need) throw new Error(`column ${s.name}: ${data.length} elements, the batch needs ${need}`);
}

const utf8Decoder = new TextDecoder();

/** Value i of a string column as a JS string (slow paths and tests; encoders read the representation). */
export function stringAt(col: StringColumn, i: number): string {
  if (col.kind === 'dict') return col.dictionary[col.codes[i]!]!;
  if (col.kind === 'plain') return col.values[i]!;
  return utf8Decoder.decode(col.bytes.subarray(col.offsets[i]!, col.offsets[i + 1]!));
}
