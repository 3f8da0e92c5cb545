/**
 * Deterministic batches with one column of every ColumnType (nullable or not), for the sink and
 * digest tests and `bench/sinks.ts --shape types`. Values include the edges of each type's range.
 */
import { UUID_BYTES, type Batch, type ColumnSchema, type ColumnType } from '../../src/data/batch.js';
import { hash32 } from './vitals-batches.js';

export const ALL_TYPES: ColumnType[] = ['string', 'bool', 'int32', 'int64', 'float64', 'date', 'timestamp', 'uuid'];

/** One column per type, named after it, then a dictionary string column. */
export function typedSchema(nullable: boolean): ColumnSchema[] {
  return [
    ...ALL_TYPES.map((type): ColumnSchema => ({ name: `c_${type}`, type, nullable, ...(type === 'float64' ? { decimals: 3 } : {}) })),
    { name: 'c_dict', type: 'string', nullable },
  ];
}

const MAX = Number.MAX_SAFE_INTEGER;
export const INT64_EDGES = [0, 1, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, -(2 ** 32), 2 ** 32 + 1, MAX, -MAX, 1234567890123];
/** 1970-01-01, 1969-12-31, 2000-02-29, 1900-03-01, 0000-01-01, 9999-12-31, 1600-02-29, 2024-12-31, -000001-12-31, +010000-01-01. */
export const DATE_EDGES = [0, -1, 11016, -25508, -719528, 2932896, -135081, 20088, -719529, 2932897];
/** Microseconds: the epoch, one before, a leap second-free moment with µs, the safe extremes. */
export const TIMESTAMP_EDGES = [0, -1, 1, 951782400123456, -2208988800000001, MAX, -MAX, 1735689599999999];
const STRINGS = ['plain', 'with,comma', 'with "quote"', 'line\nbreak', '', 'ünïcødé ✓ 𝄞'];
const DICT = ['α', 'b,c', '"q"', ''] as const;

const rnd = hash32;

/** Rows [start, end); with `nulls`, about 1 in 5 values of every column is null. */
export function typedBatch(start: number, end: number, opts: { nulls?: boolean } = {}): Batch {
  const n = end - start;
  const str: string[] = new Array(n);
  const bool = new Uint8Array(n);
  const i32 = new Int32Array(n);
  const i64 = new Float64Array(n);
  const f64 = new Float64Array(n);
  const date = new Int32Array(n);
  const ts = new Float64Array(n);
  const uuid = new Uint8Array(n * UUID_BYTES);
  const codes = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const r = start + i;
    const h = rnd(r, 1);
    str[i] = r % 7 === 0 ? STRINGS[r % STRINGS.length] : `s${h % 1000}`;
    bool[i] = r % 11 === 3 ? 7 : h & 1; // any non-zero byte is true
    i32[i] = r % 13 === 0 ? (r % 2 ? 2147483647 : -2147483648) : (h | 0) >> 8;
    i64[i] = r % 5 === 0 ? INT64_EDGES[(r / 5) % INT64_EDGES.length] : (h % 2 ? -1 : 1) * (h * 2 ** 20 + (r % 1000));
    f64[i] = r % 9 === 0 ? -0.5 : (h % 2_000_001) / 1000 - 1000;
    date[i] = r % 3 === 0 ? DATE_EDGES[(r / 3) % DATE_EDGES.length] : (h % 40000) - 10000;
    ts[i] = r % 4 === 0 ? TIMESTAMP_EDGES[(r / 4) % TIMESTAMP_EDGES.length] : (h % 2 ? -1 : 1) * (h * 1_000_003 + (r % 999_999));
    for (let k = 0; k < UUID_BYTES; k++) uuid[i * UUID_BYTES + k] = r % 17 === 0 ? (r % 2 ? 0xff : 0) : rnd(r, 10 + k) & 0xff;
    codes[i] = h % DICT.length;
  }
  const batch: Batch = {
    start,
    length: n,
    columns: [{ kind: 'plain', values: str }, bool, i32, i64, f64, date, ts, uuid, { kind: 'dict', dictionary: DICT, codes }],
  };
  if (opts.nulls) {
    batch.nulls = batch.columns.map((_, c) => {
      const m = new Uint8Array(n);
      let any = false;
      for (let i = 0; i < n; i++) if (rnd(start + i, 40 + c) % 5 === 0) (m[i] = 1), (any = true);
      return any ? m : undefined;
    });
  }
  return batch;
}
