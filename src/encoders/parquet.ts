/**
 * Purpose-built streaming Parquet writer for flat schemas (every ColumnType, nullable or not).
 * One row group is accumulated in typed arrays (grown up to the row group's size, reused by the
 * thread's next writer), then each column chunk is written as [dictionary page] + one data page
 * (v1), compressed with zstd/snappy/gzip/none:
 *   - string: dictionary per row group, data page RLE_DICTIONARY (RLE/bit-packed hybrid), or PLAIN
 *     when the row group has more than DICT_MAX_ENTRIES distinct values, gets a `utf8` batch, or
 *     (with a codec) has more than one distinct value per DENSE_RATIO values;
 *   - int32, int64, float64, date, timestamp: RLE_DICTIONARY when number-dict.ts's rule says it
 *     halves the chunk; else, for int64 and timestamp, DELTA_BINARY_PACKED when that halves it
 *     (delta.ts: ids, parent refs); else PLAIN; bool, uuid: PLAIN (types: see parquetType below);
 *   - nullable columns: definition levels (RLE hybrid, bit width 1), nulls not stored.
 * Statistics: null_count, and exact min_value/max_value in the type's order (strings: UTF-8
 * bytes) for every column chunk with a non-null value; column_orders in the footer.
 * Footer: Thrift compact FileMetaData. Memory is O(rowGroupRows), independent of the part size.
 */
import { endianness } from 'node:os';
import { UUID_BYTES, checkColumn, type Batch, type ColumnSchema, type ColumnType, type StringColumn } from '../data/batch.js';
import { ByteBuf } from './bytes.js';
import { compressPage } from './compress.js';
import { registerEncoder } from './registry.js';
import { appendDeltaI64, deltaOptions } from './delta.js';
import { numberDictPages } from './number-dict.js';
import { bitWidth, encodeHybrid } from './rle.js';
import { encodeStruct, type TField } from './thrift.js';
import type { ByteOut, Compression, Encoder, EncoderOptions } from './types.js';

/**
 * Rows per row group unless rowGroupRows says otherwise (131,072). 1,048,576 (pyarrow's, one row
 * group per 1M-row part) was measured and not taken: docs/PARQUET.md, "Row group size".
 */
export const DEFAULT_ROW_GROUP_ROWS = 1 << 17;

const MAGIC = Buffer.from('PAR1', 'ascii');

// parquet.thrift enums
const PT_BOOLEAN = 0;
const PT_INT32 = 1;
const PT_INT64 = 2;
const PT_DOUBLE = 5;
const PT_BYTE_ARRAY = 6;
const PT_FIXED_LEN_BYTE_ARRAY = 7;
const REP_REQUIRED = 0;
const REP_OPTIONAL = 1;
const CONVERTED_UTF8 = 0;
const CONVERTED_DATE = 6;
const CONVERTED_TIMESTAMP_MICROS = 10;
const ENC_PLAIN = 0;
const ENC_RLE = 3;
const ENC_DELTA_BINARY_PACKED = 5;
const ENC_RLE_DICTIONARY = 8;
const PAGE_DATA = 0;
const PAGE_DICTIONARY = 2;
const CODEC: Record<Compression, number> = { none: 0, snappy: 1, gzip: 2, zstd: 6 };
const TWO32 = 4294967296;

if (endianness() !== 'LE') throw new Error('the Parquet writer assumes a little-endian machine');

interface ParquetType {
  physical: number;
  /** FIXED_LEN_BYTE_ARRAY only. */
  typeLength?: number;
  converted?: number;
  /** The LogicalType union, as its one set field. */
  logical?: TField[];
}

/** Physical, converted and logical type of each column type (parquet.thrift field ids). */
export function parquetType(t: ColumnType): ParquetType {
  switch (t) {
    case 'string': // STRING
      return { physical: PT_BYTE_ARRAY, converted: CONVERTED_UTF8, logical: [{ id: 1, t: 'struct', v: [] }] };
    case 'bool':
      return { physical: PT_BOOLEAN };
    case 'int32':
      return { physical: PT_INT32 };
    case 'int64':
      return { physical: PT_INT64 };
    case 'float64':
      return { physical: PT_DOUBLE };
    case 'date': // DATE
      return { physical: PT_INT32, converted: CONVERTED_DATE, logical: [{ id: 6, t: 'struct', v: [] }] };
    case 'timestamp': // TIMESTAMP { isAdjustedToUTC: true, unit: MICROS }
      return {
        physical: PT_INT64,
        converted: CONVERTED_TIMESTAMP_MICROS,
        logical: [{ id: 8, t: 'struct', v: [{ id: 1, t: 'bool', v: true }, { id: 2, t: 'struct', v: [{ id: 2, t: 'struct', v: [] }] }] }],
      };
    case 'uuid': // UUID
      return { physical: PT_FIXED_LEN_BYTE_ARRAY, typeLength: UUID_BYTES, logical: [{ id: 14, t: 'struct', v: [] }] };
    default:
      throw new Error(`unsupported column type ${JSON.stringify(t)}`);
  }
}

interface Pages {
  dict?: { body: Buffer; count: number };
  data: Buffer;
  /** The data page's value encoding when it is not implied (PLAIN, or RLE_DICTIONARY with a dict). */
  encoding?: number;
}

interface ChunkMeta {
  fields: TField[];
  start: number;
  uncompressed: number;
  compressed: number;
}

abstract class ColumnAcc {
  /** Definition levels (1 = present) for nullable columns. */
  defs: Uint8Array | undefined;
  /** Rows the arrays hold now: they grow by doubling up to the row group's size (a small part allocates little). */
  protected capacity: number;
  rows = 0;
  /** Non-null values held. */
  count = 0;
  nulls = 0;

  readonly ptype: ParquetType;

  constructor(readonly schema: ColumnSchema, protected readonly maxRows: number) {
    this.ptype = parquetType(schema.type);
    this.capacity = Math.min(maxRows, INITIAL_ROWS);
    this.defs = schema.nullable ? alloc(Uint8Array, this.capacity) : undefined;
  }

  /** Hands the arrays to the next writer of this thread (after finish(); this accumulator is done). */
  release(): void {
    release(this.defs);
    this.defs = undefined;
    this.releaseValues();
  }

  protected abstract releaseValues(): void;

  /** Grows the arrays (to at least `rows`, at most the row group's size) when they are too small. */
  private reserve(rows: number): void {
    if (rows <= this.capacity) return;
    const cap = Math.min(this.maxRows, Math.max(rows, 4 * this.capacity));
    if (this.defs) this.defs = grown(this.defs, cap, this.rows);
    this.grow(cap);
    this.capacity = cap;
  }

  /** Reallocates the value arrays for `cap` rows, keeping what they hold. */
  protected abstract grow(cap: number): void;

  /** Appends rows [from, to) of the batch column. */
  append(data: Batch['columns'][number], nulls: Uint8Array | undefined, from: number, to: number): void {
    this.reserve(this.rows + (to - from));
    if (nulls) {
      if (!this.defs) throw new Error(`column ${this.schema.name} is not nullable but the batch has nulls`);
      let r = this.rows;
      let nn = 0;
      for (let i = from; i < to; i++) {
        const present = nulls[i] ? 0 : 1;
        this.defs[r++] = present;
        nn += 1 - present;
      }
      this.nulls += nn;
    } else if (this.defs) {
      this.defs.fill(1, this.rows, this.rows + (to - from));
    }
    this.appendValues(data, nulls, from, to);
    this.rows += to - from;
  }

  protected abstract appendValues(data: Batch['columns'][number], nulls: Uint8Array | undefined, from: number, to: number): void;

  /** Page bodies (uncompressed): optional dictionary page, data page (and its values' encoding when not PLAIN or RLE_DICTIONARY). */
  abstract pages(): Pages;

  abstract statistics(): TField[];

  reset(): void {
    this.rows = 0;
    this.count = 0;
    this.nulls = 0;
  }

  /** A PLAIN data page: the definition levels (nullable columns) then `values`; without levels, `values` itself (valid until the next append). */
  protected plainPage(values: Buffer, out: ByteBuf): Buffer {
    if (!this.defs) return values;
    out.reset();
    this.writeDefs(out);
    out.bytes(values);
    return out.view();
  }

  /** Writes the definition levels (4-byte length + hybrid) to out, if the column is nullable. */
  protected writeDefs(out: ByteBuf): void {
    if (!this.defs) return;
    const lenPos = out.pos;
    out.u32le(0);
    encodeHybrid(out, this.defs, this.rows, 1);
    out.buf.writeUInt32LE(out.pos - lenPos - 4, lenPos);
  }
}

/** Rows an accumulator allocates for at first (batches are 65,536 rows). */
const INITIAL_ROWS = 1 << 16;

type Arr = Uint8Array | Int32Array | Uint32Array | Float64Array;

/**
 * Arrays of finished writers, for the next writers of this thread (JS thread or worker thread) to
 * reuse: a part's row-group arrays are allocated once per thread rather than grown again for every
 * part. Contents are not cleared (every slot is written before it is read). At most SPARE_MAX_BYTES.
 */
const spare: Arr[] = [];
let spareBytes = 0;
const SPARE_MAX_BYTES = 96 << 20;

/** An array of class C with at least n elements (the smallest spare one that fits, else a new one of exactly n). */
function alloc<T extends Arr>(C: new (n: number) => T, n: number): T {
  let best = -1;
  for (let i = 0; i < spare.length; i++) {
    const a = spare[i];
    if (a.constructor === C && a.length >= n && (best < 0 || a.length < spare[best].length)) best = i;
  }
  if (best < 0) return new C(n);
  const a = spare[best] as T;
  spare[best] = spare[spare.length - 1];
  spare.pop();
  spareBytes -= a.byteLength;
  return a;
}

function release(a: Arr | undefined): void {
  if (!a || a.length === 0 || spareBytes + a.byteLength > SPARE_MAX_BYTES) return;
  spare.push(a);
  spareBytes += a.byteLength;
}

/** An array of at least n elements holding a's first `keep` elements; a is released. */
function grown<T extends Arr>(a: T, n: number, keep: number): T {
  const b = alloc(a.constructor as new (n: number) => T, n);
  b.set(a.subarray(0, keep) as never);
  release(a);
  return b;
}

/**
 * Statistics: null_count (3), and when given max_value (5), min_value (6), both exact (7:
 * is_max_value_exact, 8: is_min_value_exact). The deprecated min/max (1, 2) are not written:
 * their order is undefined for strings; with column_orders readers use 5 and 6.
 */
function stats(nulls: number, min?: Buffer, max?: Buffer): TField[] {
  const f: TField[] = [{ id: 3, t: 'i64', v: nulls }];
  if (min && max) {
    f.push({ id: 5, t: 'binary', v: max }, { id: 6, t: 'binary', v: min }, { id: 7, t: 'bool', v: true }, { id: 8, t: 'bool', v: true });
  }
  return f;
}

/** int32 / date (Int32Array), float64 (Float64Array), int64 / timestamp (Float64Array → INT64). */
class NumberAcc extends ColumnAcc {
  private values: Int32Array | Float64Array;
  /** int64 / timestamp: the INT64 words (low, high) of each value, filled by pages(). */
  private wide: Int32Array | undefined;
  private readonly body = new ByteBuf(1 << 16);
  private readonly dictBody = new ByteBuf(1 << 12);
  /** Smallest and largest non-null value of the row group (NaN left out), set by pages(). */
  private min = Infinity;
  private max = -Infinity;

  constructor(schema: ColumnSchema, maxRows: number) {
    super(schema, maxRows);
    const t = schema.type;
    this.values = t === 'int32' || t === 'date' ? alloc(Int32Array, this.capacity) : alloc(Float64Array, this.capacity);
    this.wide = t === 'int64' || t === 'timestamp' ? new Int32Array(0) : undefined;
  }

  protected grow(cap: number): void {
    this.values = grown(this.values, cap, this.count);
  }

  protected releaseValues(): void {
    release(this.values);
    release(this.wide);
  }

  protected appendValues(data: Batch['columns'][number], nulls: Uint8Array | undefined, from: number, to: number): void {
    const src = data as Int32Array | Float64Array;
    if (!nulls) {
      (this.values as Float64Array).set(src.subarray(from, to) as Float64Array, this.count);
      this.count += to - from;
      return;
    }
    const dst = this.values;
    let c = this.count;
    for (let i = from; i < to; i++) if (!nulls[i]) dst[c++] = src[i];
    this.count = c;
  }

  private plain(): Buffer {
    const v = this.values;
    const n = this.count;
    if (!this.wide) return Buffer.from(v.buffer, v.byteOffset, n * v.BYTES_PER_ELEMENT);
    if (this.wide.length < 2 * n) (release(this.wide), (this.wide = alloc(Int32Array, 2 * this.capacity)));
    const w = this.wide;
    for (let i = 0; i < n; i++) {
      const x = v[i];
      if (!Number.isSafeInteger(x)) {
        throw new Error(`column ${this.schema.name}: ${x} is not a safe integer (${this.schema.type} holds integers up to 2^53 - 1 in magnitude)`);
      }
      w[2 * i] = x | 0; // low 32 bits (ToInt32 is modulo 2^32)
      w[2 * i + 1] = Math.floor(x / TWO32) | 0;
    }
    return Buffer.from(w.buffer, w.byteOffset, n * 8);
  }

  pages(): Pages {
    const v = this.values;
    const kind = v instanceof Int32Array ? 'i32' : this.wide ? 'i64' : 'f64';
    // float64: numberDictPages finds min/max while scaling the values (one pass less) when it encodes.
    const [min, max] = kind === 'f64' ? [NaN, NaN] : v instanceof Int32Array ? minMaxI32(v, this.count) : minMaxF64(v, this.count);
    // Narrow range: dictionary-encoded when that halves the chunk (number-dict.ts); else PLAIN.
    const out = this.body;
    const d = numberDictPages(v, this.count, kind, this.schema.decimals, min, max, this.dictBody, out, () => (out.reset(), this.writeDefs(out)));
    if (d) {
      this.min = d.min;
      this.max = d.max;
      return d;
    }
    [this.min, this.max] = kind === 'f64' ? minMaxF64(v as Float64Array, this.count) : [min, max];
    if (kind === 'i64' && deltaOptions.enabled) {
      // Values close to the previous one (ids, parent refs, sorted times): DELTA_BINARY_PACKED when that halves the chunk.
      out.reset();
      this.writeDefs(out);
      if (appendDeltaI64(out, v as Float64Array, this.count, min, max, (this.count * 8) / 2)) return { data: out.view(), encoding: ENC_DELTA_BINARY_PACKED };
    }
    return { data: this.plainPage(this.plain(), this.body) };
  }

  statistics(): TField[] {
    const v = this.values;
    const { min, max } = this;
    if (!(min <= max)) return stats(this.nulls);
    let minB: Buffer;
    let maxB: Buffer;
    if (v instanceof Int32Array) {
      minB = Buffer.allocUnsafe(4);
      minB.writeInt32LE(min);
      maxB = Buffer.allocUnsafe(4);
      maxB.writeInt32LE(max);
    } else if (this.wide) {
      minB = Buffer.allocUnsafe(8);
      minB.writeBigInt64LE(BigInt(min));
      maxB = Buffer.allocUnsafe(8);
      maxB.writeBigInt64LE(BigInt(max));
    } else {
      // Parquet: a zero min is written as -0.0 and a zero max as +0.0; NaN is left out (minMaxF64),
      // and a chunk of only NaNs has no min/max.
      minB = Buffer.allocUnsafe(8);
      minB.writeDoubleLE(min === 0 ? -0 : min);
      maxB = Buffer.allocUnsafe(8);
      maxB.writeDoubleLE(max === 0 ? 0 : max);
    }
    return stats(this.nulls, minB, maxB);
  }
}

/** Columns of fixed-width byte values (`width` bytes a row): bool (1), uuid (16). Non-null values are packed. */
abstract class FixedBytesAcc extends ColumnAcc {
  protected values: Uint8Array;
  protected readonly body = new ByteBuf(1 << 16);

  constructor(schema: ColumnSchema, maxRows: number, protected readonly width: number) {
    super(schema, maxRows);
    this.values = alloc(Uint8Array, this.capacity * width);
  }

  protected grow(cap: number): void {
    this.values = grown(this.values, cap * this.width, this.count * this.width);
  }

  protected releaseValues(): void {
    release(this.values);
  }

  protected appendValues(data: Batch['columns'][number], nulls: Uint8Array | undefined, from: number, to: number): void {
    const src = data as Uint8Array;
    const w = this.width;
    let c = this.count;
    // Copy each run of non-null rows at once.
    let i = from;
    while (i < to) {
      while (nulls && i < to && nulls[i]) i++;
      const runStart = i;
      while (i < to && !(nulls && nulls[i])) i++;
      if (i > runStart) {
        this.values.set(src.subarray(runStart * w, i * w), c * w);
        c += i - runStart;
      }
    }
    this.count = c;
  }
}

/** bool: one byte a value (any non-zero byte is true); PLAIN is one bit per value, LSB first. */
class BoolAcc extends FixedBytesAcc {
  constructor(schema: ColumnSchema, maxRows: number) {
    super(schema, maxRows, 1);
  }

  pages(): { data: Buffer } {
    const out = this.body;
    out.reset();
    this.writeDefs(out);
    const v = this.values;
    const n = this.count;
    out.ensure((n + 7) >> 3);
    const b = out.buf;
    let p = out.pos;
    for (let i = 0; i < n; i += 8) {
      let byte = 0;
      const m = Math.min(8, n - i);
      for (let k = 0; k < m; k++) if (v[i + k]) byte |= 1 << k;
      b[p++] = byte;
    }
    out.pos = p;
    return { data: out.view() };
  }

  statistics(): TField[] {
    const n = this.count;
    if (n === 0) return stats(this.nulls);
    let ones = 0;
    const v = this.values;
    for (let i = 0; i < n; i++) if (v[i]) ones++;
    const min = Buffer.of(ones === n ? 1 : 0);
    const max = Buffer.of(ones > 0 ? 1 : 0);
    return stats(this.nulls, min, max);
  }
}

/** uuid: 16 bytes per value, FIXED_LEN_BYTE_ARRAY(16) PLAIN; min/max in unsigned byte order. */
class UuidAcc extends FixedBytesAcc {
  constructor(schema: ColumnSchema, maxRows: number) {
    super(schema, maxRows, UUID_BYTES);
  }

  pages(): { data: Buffer } {
    const v = this.values;
    return { data: this.plainPage(Buffer.from(v.buffer, v.byteOffset, this.count * UUID_BYTES), this.body) };
  }

  statistics(): TField[] {
    const n = this.count;
    if (n === 0) return stats(this.nulls);
    const v = this.values;
    let lo = 0;
    let hi = 0;
    for (let i = 1; i < n; i++) {
      if (compare16(v, i * UUID_BYTES, lo * UUID_BYTES) < 0) lo = i;
      else if (compare16(v, i * UUID_BYTES, hi * UUID_BYTES) > 0) hi = i;
    }
    const at = (k: number) => Buffer.from(v.subarray(k * UUID_BYTES, (k + 1) * UUID_BYTES));
    return stats(this.nulls, at(lo), at(hi));
  }
}

/** Unsigned lexicographic comparison of the 16 bytes at a and at b. */
function compare16(v: Uint8Array, a: number, b: number): number {
  for (let k = 0; k < UUID_BYTES; k++) {
    const d = v[a + k] - v[b + k];
    if (d !== 0) return d;
  }
  return 0;
}

// One loop per array type: a loop shared by both types is polymorphic and several times slower.
function minMaxI32(v: Int32Array, n: number): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = v[i];
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return [min, max];
}

function minMaxF64(v: Float64Array, n: number): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = v[i];
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return [min, max];
}

/**
 * Distinct values a string chunk's dictionary may hold; past it the chunk is PLAIN (what Arrow and
 * DuckDB do when a dictionary stops paying: unique emails, ids, free text).
 */
export const DICT_MAX_ENTRIES = 16_384;
/**
 * With a codec, a string chunk with more than one distinct value per DENSE_RATIO values (from
 * DENSE_MIN_VALUES values on; SubjectID has one per 4 rows) is PLAIN: zstd/snappy/gzip compress its
 * repeated, sorted values to ~0.15 byte a row, where its dictionary codes (RLE runs of 15-bit
 * increasing numbers) stay at ~0.67. Without a codec the dictionary is smaller and stays.
 */
export const DENSE_RATIO = 8;
const DENSE_MIN_VALUES = 4096;

/** One PLAIN BYTE_ARRAY value: 4-byte little-endian length, then the UTF-8 bytes. */
function writeByteArray(d: ByteBuf, s: string): void {
  // Short ASCII strings byte by byte (a Buffer.write call per entry costs more); else UTF-8.
  const n = s.length;
  let p = d.pos;
  if (n <= 64) {
    d.ensure(4 + n);
    const b = d.buf;
    let j = 0;
    for (; j < n; j++) {
      const c = s.charCodeAt(j);
      if (c > 127) break;
      b[p + 4 + j] = c;
    }
    if (j === n) {
      b[p] = n;
      b[p + 1] = b[p + 2] = b[p + 3] = 0;
      d.pos = p + 4 + n;
      return;
    }
  }
  const len = Buffer.byteLength(s, 'utf8');
  d.ensure(4 + len);
  p = d.pos;
  d.buf.writeUInt32LE(len, p);
  d.buf.write(s, p + 4, len, 'utf8');
  d.pos = p + 4 + len;
}

/**
 * Longest min/max a string chunk's statistics hold; a chunk whose min or max is longer has
 * null_count only (Arrow's `max_statistics_size` default, 4096).
 */
export const MAX_STAT_BYTES = 4096;

/** Appends the encoded entries codes[i] of rows [from, to) that are not null to b; returns how many. */
function copyEntries(b: ByteBuf, src: Buffer, at: Uint32Array, codes: Uint32Array, nulls: Uint8Array | undefined, from: number, to: number): number {
  let longest = 0;
  for (let k = 1; k < at.length; k++) longest = Math.max(longest, at[k] - at[k - 1]);
  b.ensure(longest * (to - from));
  const buf = b.buf;
  let p = b.pos;
  let c = 0;
  for (let i = from; i < to; i++) {
    if (nulls && nulls[i]) continue;
    const code = codes[i];
    const e = at[code + 1];
    for (let q = at[code]; q < e; q++) buf[p++] = src[q];
    c++;
  }
  b.pos = p;
  return c;
}

function markUsed(used: Uint8Array, codes: Uint32Array, from: number, to: number, nulls?: Uint8Array): void {
  if (nulls) {
    for (let i = from; i < to; i++) if (!nulls[i]) used[codes[i]] = 1;
  } else {
    for (let i = from; i < to; i++) used[codes[i]] = 1;
  }
}

/** Unsigned lexicographic comparison of b[p, p + m) and b[q, q + n). */
function compareBytes(b: Uint8Array, p: number, m: number, q: number, n: number): number {
  const k = Math.min(m, n);
  for (let j = 0; j < k; j++) {
    const d = b[p + j] - b[q + j];
    if (d !== 0) return d;
  }
  return m - n;
}

/**
 * Smallest and largest value (unsigned bytes) of the PLAIN BYTE_ARRAY values in b[start, end), of
 * those whose `used` flag is set when it is given (a dictionary page: flag k for entry k), merged
 * into `mm` (which holds copies). No value counted: mm unchanged.
 */
function plainMinMax(mm: MinMax, b: Buffer, start: number, end: number, used?: Uint8Array): void {
  let lo = -1;
  let loN = 0;
  let hi = -1;
  let hiN = 0;
  for (let p = start, k = 0; p < end; k++) {
    const n = b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
    const v = p + 4;
    p = v + n;
    if (used && !used[k]) continue;
    if (lo < 0) (lo = hi = v), (loN = hiN = n);
    else if (compareBytes(b, v, n, lo, loN) < 0) (lo = v), (loN = n);
    else if (compareBytes(b, v, n, hi, hiN) > 0) (hi = v), (hiN = n);
  }
  if (lo < 0) return;
  if (!mm.min || Buffer.compare(b.subarray(lo, lo + loN), mm.min) < 0) mm.min = Buffer.from(b.subarray(lo, lo + loN));
  if (!mm.max || Buffer.compare(b.subarray(hi, hi + hiN), mm.max) > 0) mm.max = Buffer.from(b.subarray(hi, hi + hiN));
}

interface MinMax {
  min?: Buffer;
  max?: Buffer;
}

class StringAcc extends ColumnAcc {
  private codes: Uint32Array;
  private readonly index = new Map<string, number>();
  private readonly entries: string[] = [];
  /** entries[0, indexed) are in `index` (sorted dictionaries skip it until needed). */
  private indexed = 0;
  /** Every entry came from `sorted` dictionaries, each after the last: entries strictly increase. */
  private ascending = true;
  private remapFor: readonly string[] | undefined;
  private remap = new Uint32Array(0);
  private readonly dictBody = new ByteBuf(1 << 16);
  private readonly dataBody = new ByteBuf(1 << 16);
  /** The row group's chunk is PLAIN (too many distinct values for a dictionary); values are in plainBody. */
  private plain = false;
  private readonly plainBody = new ByteBuf(1 << 16);
  /** A batch dictionary's entries as PLAIN values (length + bytes) at encodedAt[k] (PLAIN chunks of dictionary batches). */
  private readonly encoded = new ByteBuf(1 << 16);
  private encodedAt = new Uint32Array(0);
  private encodedFor: readonly string[] | undefined;
  /** Min/max of a PLAIN chunk's values, kept up to date as they are appended. */
  private plainMM: MinMax = {};
  /** Per dictionary entry: used by this row group's codes (statistics). */
  private used = new Uint8Array(0);

  constructor(schema: ColumnSchema, maxRows: number, private readonly compressed: boolean) {
    super(schema, maxRows);
    this.codes = alloc(Uint32Array, this.capacity);
  }

  protected grow(cap: number): void {
    this.codes = grown(this.codes, cap, this.count);
  }

  protected releaseValues(): void {
    release(this.codes);
  }

  private code(s: string): number {
    while (this.indexed < this.entries.length) this.index.set(this.entries[this.indexed], this.indexed++);
    let c = this.index.get(s);
    if (c === undefined) {
      c = this.entries.length;
      this.entries.push(s);
      this.index.set(s, c);
      this.indexed++;
    }
    return c;
  }

  /** Remap for a sorted dictionary when it cannot repeat entries but its first: no lookups. */
  private appendAscending(dict: readonly string[], remap: Uint32Array): boolean {
    const e = this.entries;
    let k = 0;
    if (e.length > 0 && dict.length > 0) {
      const last = e[e.length - 1];
      if (dict[0] === last) remap[k++] = e.length - 1;
      else if (!(dict[0] > last)) return false;
    }
    for (; k < dict.length; k++) {
      remap[k] = e.length;
      e.push(dict[k]);
    }
    return true;
  }

  protected appendValues(data: Batch['columns'][number], nulls: Uint8Array | undefined, from: number, to: number): void {
    const col = data as StringColumn;
    // utf8 columns are the many-distinct-values kind: always PLAIN.
    if (!this.plain && (this.entries.length > DICT_MAX_ENTRIES || col.kind === 'utf8' || this.dense(col, to - from))) this.toPlain();
    if (this.plain) return this.appendPlain(col, nulls, from, to);
    const codes = this.codes;
    let c = this.count;
    if (col.kind === 'dict') {
      if (this.remapFor !== col.dictionary) {
        if (this.remap.length < col.dictionary.length) this.remap = new Uint32Array(Math.max(col.dictionary.length, 2 * this.remap.length));
        if (!(this.ascending && col.sorted && this.appendAscending(col.dictionary, this.remap))) {
          this.ascending = false;
          for (let k = 0; k < col.dictionary.length; k++) this.remap[k] = this.code(col.dictionary[k]);
        }
        this.remapFor = col.dictionary;
      }
      const remap = this.remap;
      const src = col.codes;
      if (nulls) {
        for (let i = from; i < to; i++) if (!nulls[i]) codes[c++] = remap[src[i]];
      } else {
        for (let i = from; i < to; i++) codes[c++] = remap[src[i]];
      }
    } else if (col.kind === 'plain') {
      this.ascending = false;
      const vals = col.values;
      let prev: string | undefined;
      let prevCode = 0;
      for (let i = from; i < to; i++) {
        if (nulls && nulls[i]) continue;
        const s = vals[i];
        if (s !== prev) {
          if (this.entries.length >= DICT_MAX_ENTRIES) {
            this.count = c;
            this.toPlain();
            return this.appendPlain(col, nulls, i, to);
          }
          prevCode = this.code(s);
          prev = s;
        }
        codes[c++] = prevCode;
      }
    }
    this.count = c;
    if (this.compressed && c >= DENSE_MIN_VALUES && DENSE_RATIO * this.entries.length > c) this.toPlain();
  }

  /** With a codec: a batch of at least DENSE_MIN_VALUES rows whose dictionary has more than one entry per DENSE_RATIO rows. */
  private dense(col: StringColumn, rows: number): boolean {
    return this.compressed && col.kind === 'dict' && rows >= DENSE_MIN_VALUES && DENSE_RATIO * col.dictionary.length > rows;
  }

  /** Past DICT_MAX_ENTRIES distinct values the row group's chunk is PLAIN: what it holds so far is rewritten so. */
  /** The entries as PLAIN values into dictBody (the dictionary page body); returns its length. */
  private writeEntries(): number {
    const d = this.dictBody;
    d.reset();
    for (const s of this.entries) writeByteArray(d, s);
    return d.pos;
  }

  private toPlain(): void {
    const b = this.plainBody;
    b.reset();
    for (let i = 0; i < this.count; i++) writeByteArray(b, this.entries[this.codes[i]]);
    if (this.count > 0) {
      const end = this.writeEntries();
      plainMinMax(this.plainMM, this.dictBody.buf, 0, end, this.usedOf(this.entries.length, this.codes, 0, this.count));
    }
    this.plain = true;
    this.index.clear();
    this.entries.length = 0;
    this.indexed = 0;
    this.remapFor = undefined;
  }

  private appendPlain(col: StringColumn, nulls: Uint8Array | undefined, from: number, to: number): void {
    const b = this.plainBody;
    const start = b.pos;
    let c = this.count;
    if (col.kind === 'utf8') {
      const { bytes, offsets } = col;
      for (let i = from; i < to; i++) {
        if (nulls && nulls[i]) continue;
        const s = offsets[i];
        const n = offsets[i + 1] - s;
        b.ensure(4 + n);
        const p = b.pos;
        const buf = b.buf;
        buf[p] = n;
        buf[p + 1] = n >>> 8;
        buf[p + 2] = n >>> 16;
        buf[p + 3] = n >>> 24;
        if (n < 32) for (let k = 0; k < n; k++) buf[p + 4 + k] = bytes[s + k];
        else buf.set(bytes.subarray(s, s + n), p + 4);
        b.pos = p + 4 + n;
        c++;
      }
    } else if (col.kind === 'dict') {
      // Each entry encoded once (per batch dictionary), then its bytes copied per row.
      if (this.encodedFor !== col.dictionary) {
        const e = this.encoded;
        e.reset();
        const dict = col.dictionary;
        if (this.encodedAt.length < dict.length + 1) this.encodedAt = new Uint32Array(dict.length + 1);
        for (let k = 0; k < dict.length; k++) (this.encodedAt[k] = e.pos), writeByteArray(e, dict[k]);
        this.encodedAt[dict.length] = e.pos;
        this.encodedFor = dict;
      }
      c += copyEntries(b, this.encoded.buf, this.encodedAt, col.codes, nulls, from, to);
      // Statistics over the entries the rows use, not over every row.
      plainMinMax(this.plainMM, this.encoded.buf, 0, this.encoded.pos, this.usedOf(col.dictionary.length, col.codes, from, to, nulls));
      this.count = c;
      return;
    } else {
      const vals = col.values;
      for (let i = from; i < to; i++) if (!(nulls && nulls[i])) writeByteArray(b, vals[i]), c++;
    }
    this.count = c;
    plainMinMax(this.plainMM, b.buf, start, b.pos);
  }

  pages(): { dict?: { body: Buffer; count: number }; data: Buffer } {
    if (this.plain) return { data: this.plainPage(this.plainBody.view(), this.dataBody) };
    const d = this.dictBody;
    this.writeEntries();
    const out = this.dataBody;
    out.reset();
    this.writeDefs(out);
    const w = bitWidth(Math.max(0, this.entries.length - 1));
    out.u8(w);
    encodeHybrid(out, this.codes, this.count, w);
    return { dict: { body: d.view(), count: this.entries.length }, data: out.view() };
  }

  statistics(): TField[] {
    if (this.count === 0) return stats(this.nulls);
    const { min, max } = this.plain ? this.plainMM : this.dictMinMax();
    if (!min || !max) return stats(this.nulls);
    // As Arrow does: no min/max when either is longer than MAX_STAT_BYTES (null_count only).
    if (min.length > MAX_STAT_BYTES || max.length > MAX_STAT_BYTES) return stats(this.nulls);
    return stats(this.nulls, min, max);
  }

  /**
   * Smallest and largest entry (UTF-8 byte order) among the entries this row group's codes use,
   * compared as the bytes of the dictionary page that pages() wrote (called before statistics()).
   */
  private dictMinMax(): MinMax {
    const mm: MinMax = {};
    plainMinMax(mm, this.dictBody.buf, 0, this.dictBody.pos, this.usedOf(this.entries.length, this.codes, 0, this.count));
    return mm;
  }

  /** Flags of the entries [0, entries) that codes[from, to) use. */
  private usedOf(entries: number, codes: Uint32Array, from: number, to: number, nulls?: Uint8Array): Uint8Array {
    if (this.used.length < entries) this.used = new Uint8Array(Math.max(entries, 2 * this.used.length));
    const used = this.used;
    used.fill(0, 0, entries);
    markUsed(used, codes, from, to, nulls);
    return used;
  }

  override reset(): void {
    super.reset();
    this.index.clear();
    this.entries.length = 0;
    this.indexed = 0;
    this.ascending = true;
    this.remapFor = undefined;
    this.plain = false;
    this.plainBody.reset();
    this.plainMM = {};
  }
}

export type ParquetWriterOptions = EncoderOptions;

function accumulator(s: ColumnSchema, capacity: number, compression: Compression): ColumnAcc {
  switch (s.type) {
    case 'string':
      return new StringAcc(s, capacity, compression !== 'none');
    case 'bool':
      return new BoolAcc(s, capacity);
    case 'uuid':
      return new UuidAcc(s, capacity);
    case 'int32':
    case 'int64':
    case 'float64':
    case 'date':
    case 'timestamp':
      return new NumberAcc(s, capacity);
    default:
      throw new Error(`unsupported column type ${JSON.stringify((s as ColumnSchema).type)}`);
  }
}

export class ParquetWriter implements Encoder {
  private readonly cols: ColumnAcc[];
  private readonly rowGroupRows: number;
  private readonly rowGroups: TField[][] = [];
  private rowsInGroup = 0;
  private offset = 0;
  rows = 0;

  constructor(
    private readonly out: ByteOut,
    private readonly schema: readonly ColumnSchema[],
    private readonly opts: ParquetWriterOptions,
  ) {
    this.rowGroupRows = opts.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS;
    if (!Number.isInteger(this.rowGroupRows) || this.rowGroupRows < 1) throw new Error('rowGroupRows must be a positive integer');
    this.cols = schema.map((s) => accumulator(s, this.rowGroupRows, opts.compression));
  }

  private async emit(buf: Uint8Array): Promise<void> {
    await this.out.write(buf);
    this.offset += buf.length;
  }

  async start(): Promise<void> {
    await this.emit(MAGIC);
  }

  async write(batch: Batch): Promise<void> {
    if (batch.columns.length !== this.cols.length) {
      throw new Error(`batch has ${batch.columns.length} columns, schema has ${this.cols.length}`);
    }
    for (let c = 0; c < this.cols.length; c++) checkColumn(this.schema[c], batch.columns[c], batch.length);
    let from = 0;
    while (from < batch.length) {
      const to = Math.min(batch.length, from + (this.rowGroupRows - this.rowsInGroup));
      for (let c = 0; c < this.cols.length; c++) this.cols[c].append(batch.columns[c], batch.nulls?.[c], from, to);
      this.rowsInGroup += to - from;
      this.rows += to - from;
      from = to;
      if (this.rowsInGroup === this.rowGroupRows) await this.flushRowGroup();
    }
  }

  private async flushRowGroup(): Promise<void> {
    const n = this.rowsInGroup;
    if (n === 0) return;
    const { compression, compressionLevel } = this.opts;
    // Compress every page of the row group concurrently (zstd/gzip run on libuv's pool).
    const prepared = await Promise.all(
      this.cols.map(async (col) => {
        const p = col.pages();
        const [dict, data] = await Promise.all([
          p.dict ? compressPage(compression, p.dict.body, compressionLevel) : undefined,
          compressPage(compression, p.data, compressionLevel),
        ]);
        return { col, p, dict, data };
      }),
    );
    const chunks: ChunkMeta[] = [];
    const groupStart = this.offset;
    for (const { col, p, dict, data } of prepared) {
      const start = this.offset;
      let uncompressed = 0;
      let compressed = 0;
      let dictOffset: number | undefined;
      if (p.dict && dict) {
        dictOffset = this.offset;
        const header = encodeStruct([
          { id: 1, t: 'i32', v: PAGE_DICTIONARY },
          { id: 2, t: 'i32', v: p.dict.body.length },
          { id: 3, t: 'i32', v: dict.length },
          { id: 7, t: 'struct', v: [
            { id: 1, t: 'i32', v: p.dict.count },
            { id: 2, t: 'i32', v: ENC_PLAIN },
          ] },
        ]);
        await this.emit(header);
        await this.emit(dict);
        uncompressed += header.length + p.dict.body.length;
        compressed += header.length + dict.length;
      }
      const dataOffset = this.offset;
      const header = encodeStruct([
        { id: 1, t: 'i32', v: PAGE_DATA },
        { id: 2, t: 'i32', v: p.data.length },
        { id: 3, t: 'i32', v: data.length },
        { id: 5, t: 'struct', v: [
          { id: 1, t: 'i32', v: n },
          { id: 2, t: 'i32', v: p.encoding ?? (p.dict ? ENC_RLE_DICTIONARY : ENC_PLAIN) },
          { id: 3, t: 'i32', v: ENC_RLE },
          { id: 4, t: 'i32', v: ENC_RLE },
        ] },
      ]);
      await this.emit(header);
      await this.emit(data);
      uncompressed += header.length + p.data.length;
      compressed += header.length + data.length;
      const encodings = p.dict ? [ENC_PLAIN, ENC_RLE, ENC_RLE_DICTIONARY] : p.encoding !== undefined ? [ENC_RLE, p.encoding] : [ENC_PLAIN, ENC_RLE];
      chunks.push({
        start,
        uncompressed,
        compressed,
        fields: [
          { id: 2, t: 'i64', v: start },
          { id: 3, t: 'struct', v: [
            { id: 1, t: 'i32', v: col.ptype.physical },
            { id: 2, t: 'list_i32', v: encodings },
            { id: 3, t: 'list_string', v: [col.schema.name] },
            { id: 4, t: 'i32', v: CODEC[compression] },
            { id: 5, t: 'i64', v: n },
            { id: 6, t: 'i64', v: uncompressed },
            { id: 7, t: 'i64', v: compressed },
            { id: 9, t: 'i64', v: dataOffset },
            { id: 11, t: 'i64', v: dictOffset },
            { id: 12, t: 'struct', v: col.statistics() },
          ] },
        ],
      });
      col.reset();
    }
    this.rowGroups.push([
      { id: 1, t: 'list_struct', v: chunks.map((c) => c.fields) },
      { id: 2, t: 'i64', v: chunks.reduce((a, c) => a + c.uncompressed, 0) },
      { id: 3, t: 'i64', v: n },
      { id: 5, t: 'i64', v: groupStart },
      { id: 6, t: 'i64', v: chunks.reduce((a, c) => a + c.compressed, 0) },
    ]);
    this.rowsInGroup = 0;
  }

  async finish(): Promise<void> {
    await this.flushRowGroup();
    const schemaElems: TField[][] = [
      [
        { id: 4, t: 'string', v: 'schema' },
        { id: 5, t: 'i32', v: this.schema.length },
      ],
      ...this.cols.map(({ schema: s, ptype: t }): TField[] => [
        { id: 1, t: 'i32', v: t.physical },
        { id: 2, t: 'i32', v: t.typeLength },
        { id: 3, t: 'i32', v: s.nullable ? REP_OPTIONAL : REP_REQUIRED },
        { id: 4, t: 'string', v: s.name },
        { id: 6, t: 'i32', v: t.converted },
        { id: 10, t: 'struct', v: t.logical },
      ]),
    ];
    const footer = encodeStruct([
      { id: 1, t: 'i32', v: 2 },
      { id: 2, t: 'list_struct', v: schemaElems },
      { id: 3, t: 'i64', v: this.rows },
      { id: 4, t: 'list_struct', v: this.rowGroups },
      { id: 6, t: 'string', v: 'shardflow version 0.1.0' },
      // ColumnOrder { 1: TYPE_ORDER TypeDefinedOrder {} } per column: makes min/max statistics usable.
      { id: 7, t: 'list_struct', v: this.schema.map((): TField[] => [{ id: 1, t: 'struct', v: [] }]) },
    ]);
    const tail = Buffer.allocUnsafe(8);
    tail.writeUInt32LE(footer.length, 0);
    MAGIC.copy(tail, 4);
    await this.emit(footer);
    await this.emit(tail);
    // Every write has settled (ByteOut: the chunks are no longer held): the next writer may reuse the arrays.
    for (const c of this.cols) c.release();
  }

  destroy(): void {
    // Holds no resource beyond memory.
  }
}

registerEncoder({
  format: 'parquet',
  compressions: ['zstd', 'snappy', 'gzip', 'none'],
  extension: () => '.parquet',
  async open(out, schema, opts) {
    const w = new ParquetWriter(out, schema, opts);
    await w.start();
    return w;
  },
});
