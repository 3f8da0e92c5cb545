/**
 * Purpose-built streaming Parquet writer for flat schemas (string / int32 / float64, nullable or
 * not). One row group is accumulated in preallocated typed arrays, then each column chunk is
 * written as [dictionary page] + one data page (v1), compressed with zstd/snappy/gzip/none:
 *   - string columns: dictionary per row group, data page RLE_DICTIONARY (RLE/bit-packed hybrid);
 *   - int32 / float64: PLAIN;
 *   - nullable columns: definition levels (RLE hybrid, bit width 1), nulls not stored.
 * Footer: Thrift compact FileMetaData. Memory is O(rowGroupRows), independent of the part size.
 */
import { endianness } from 'node:os';
import type { Batch, ColumnSchema, StringColumn } from '../data/batch.js';
import { ByteBuf } from './bytes.js';
import { compressPage } from './compress.js';
import { numberDictPages } from './number-dict.js';
import { bitWidth, encodeHybrid } from './rle.js';
import { encodeStruct, type TField } from './thrift.js';
import type { ByteOut, Compression } from './types.js';

export const DEFAULT_ROW_GROUP_ROWS = 1 << 17;

const MAGIC = Buffer.from('PAR1', 'ascii');

// parquet.thrift enums
const PT_INT32 = 1;
const PT_DOUBLE = 5;
const PT_BYTE_ARRAY = 6;
const REP_REQUIRED = 0;
const REP_OPTIONAL = 1;
const CONVERTED_UTF8 = 0;
const ENC_PLAIN = 0;
const ENC_RLE = 3;
const ENC_RLE_DICTIONARY = 8;
const PAGE_DATA = 0;
const PAGE_DICTIONARY = 2;
const CODEC: Record<Compression, number> = { none: 0, snappy: 1, gzip: 2, zstd: 6 };

if (endianness() !== 'LE') throw new Error('the Parquet writer assumes a little-endian machine');

interface ChunkMeta {
  fields: TField[];
  start: number;
  uncompressed: number;
  compressed: number;
}

abstract class ColumnAcc {
  /** Definition levels (1 = present) for nullable columns. */
  readonly defs: Uint8Array | undefined;
  rows = 0;
  /** Non-null values held. */
  count = 0;
  nulls = 0;

  constructor(readonly schema: ColumnSchema, capacity: number) {
    this.defs = schema.nullable ? new Uint8Array(capacity) : undefined;
  }

  /** Appends rows [from, to) of the batch column. */
  append(data: Batch['columns'][number], nulls: Uint8Array | undefined, from: number, to: number): void {
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

  /** Page bodies (uncompressed): optional dictionary page, data page. */
  abstract pages(): { dict?: { body: Buffer; count: number }; data: Buffer };

  abstract statistics(): TField[];

  reset(): void {
    this.rows = 0;
    this.count = 0;
    this.nulls = 0;
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

class NumberAcc extends ColumnAcc {
  private readonly values: Int32Array | Float64Array;
  private readonly body = new ByteBuf(1 << 16);
  private readonly dictBody = new ByteBuf(1 << 12);

  constructor(schema: ColumnSchema, capacity: number) {
    super(schema, capacity);
    this.values = schema.type === 'int32' ? new Int32Array(capacity) : new Float64Array(capacity);
  }

  protected appendValues(data: Batch['columns'][number], nulls: Uint8Array | undefined, from: number, to: number): void {
    const isInt = this.schema.type === 'int32';
    if (isInt ? !(data instanceof Int32Array) : !(data instanceof Float64Array)) {
      throw new Error(`column ${this.schema.name}: expected ${isInt ? 'Int32Array' : 'Float64Array'}`);
    }
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

  pages(): { dict?: { body: Buffer; count: number }; data: Buffer } {
    // Few distinct values: dictionary-encoded (number-dict.ts); else PLAIN.
    const d = this.defs ? undefined : numberDictPages(this.values, this.count, this.schema.decimals, this.dictBody, this.body);
    if (d) return d;
    const bytes = Buffer.from(this.values.buffer, this.values.byteOffset, this.count * this.values.BYTES_PER_ELEMENT);
    if (!this.defs) return { data: bytes }; // zero-copy view; valid until the next append
    const out = this.body;
    out.reset();
    this.writeDefs(out);
    out.bytes(bytes);
    return { data: out.view() };
  }

  statistics(): TField[] {
    const stats: TField[] = [{ id: 3, t: 'i64', v: this.nulls }];
    const [min, max] = this.values instanceof Int32Array ? minMaxI32(this.values, this.count) : minMaxF64(this.values, this.count);
    if (min <= max) {
      let minB: Buffer;
      let maxB: Buffer;
      if (this.schema.type === 'int32') {
        minB = Buffer.allocUnsafe(4);
        minB.writeInt32LE(min);
        maxB = Buffer.allocUnsafe(4);
        maxB.writeInt32LE(max);
      } else {
        // Parquet: a zero min is written as -0.0 and a zero max as +0.0 (NaN is skipped above).
        minB = Buffer.allocUnsafe(8);
        minB.writeDoubleLE(min === 0 ? -0 : min);
        maxB = Buffer.allocUnsafe(8);
        maxB.writeDoubleLE(max === 0 ? 0 : max);
      }
      stats.push({ id: 5, t: 'binary', v: maxB }, { id: 6, t: 'binary', v: minB });
    }
    return stats;
  }
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

class StringAcc extends ColumnAcc {
  private readonly codes: Uint32Array;
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

  constructor(schema: ColumnSchema, capacity: number) {
    super(schema, capacity);
    this.codes = new Uint32Array(capacity);
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
          prevCode = this.code(s);
          prev = s;
        }
        codes[c++] = prevCode;
      }
    } else {
      throw new Error(`column ${this.schema.name}: expected a string column`);
    }
    this.count = c;
  }

  pages(): { dict: { body: Buffer; count: number }; data: Buffer } {
    const d = this.dictBody;
    d.reset();
    for (const s of this.entries) {
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
          continue;
        }
      }
      const len = Buffer.byteLength(s, 'utf8');
      d.ensure(4 + len);
      p = d.pos;
      d.buf.writeUInt32LE(len, p);
      d.buf.write(s, p + 4, len, 'utf8');
      d.pos = p + 4 + len;
    }
    const out = this.dataBody;
    out.reset();
    this.writeDefs(out);
    const w = bitWidth(Math.max(0, this.entries.length - 1));
    out.u8(w);
    encodeHybrid(out, this.codes, this.count, w);
    return { dict: { body: d.view(), count: this.entries.length }, data: out.view() };
  }

  statistics(): TField[] {
    return [{ id: 3, t: 'i64', v: this.nulls }];
  }

  override reset(): void {
    super.reset();
    this.index.clear();
    this.entries.length = 0;
    this.indexed = 0;
    this.ascending = true;
    this.remapFor = undefined;
  }
}

export interface ParquetWriterOptions {
  compression: Compression;
  compressionLevel?: number;
  rowGroupRows?: number;
}

export class ParquetWriter {
  private readonly cols: ColumnAcc[];
  private readonly rowGroupRows: number;
  private readonly rowGroups: TField[][] = [];
  private rowsInGroup = 0;
  private offset = 0;
  rows = 0;

  constructor(
    private readonly out: ByteOut,
    private readonly schema: ColumnSchema[],
    private readonly opts: ParquetWriterOptions,
  ) {
    this.rowGroupRows = opts.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS;
    if (!Number.isInteger(this.rowGroupRows) || this.rowGroupRows < 1) throw new Error('rowGroupRows must be a positive integer');
    this.cols = schema.map((s) => {
      switch (s.type) {
        case 'string':
          return new StringAcc(s, this.rowGroupRows);
        case 'int32':
        case 'float64':
          return new NumberAcc(s, this.rowGroupRows);
        default:
          throw new Error(`unsupported column type ${(s as ColumnSchema).type}`);
      }
    });
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
          { id: 2, t: 'i32', v: p.dict ? ENC_RLE_DICTIONARY : ENC_PLAIN },
          { id: 3, t: 'i32', v: ENC_RLE },
          { id: 4, t: 'i32', v: ENC_RLE },
        ] },
      ]);
      await this.emit(header);
      await this.emit(data);
      uncompressed += header.length + p.data.length;
      compressed += header.length + data.length;
      const s = col.schema;
      const physical = s.type === 'string' ? PT_BYTE_ARRAY : s.type === 'int32' ? PT_INT32 : PT_DOUBLE;
      const encodings = p.dict ? [ENC_PLAIN, ENC_RLE, ENC_RLE_DICTIONARY] : [ENC_PLAIN, ENC_RLE];
      chunks.push({
        start,
        uncompressed,
        compressed,
        fields: [
          { id: 2, t: 'i64', v: start },
          { id: 3, t: 'struct', v: [
            { id: 1, t: 'i32', v: physical },
            { id: 2, t: 'list_i32', v: encodings },
            { id: 3, t: 'list_string', v: [s.name] },
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
      ...this.schema.map((s): TField[] => [
        { id: 1, t: 'i32', v: s.type === 'string' ? PT_BYTE_ARRAY : s.type === 'int32' ? PT_INT32 : PT_DOUBLE },
        { id: 3, t: 'i32', v: s.nullable ? REP_OPTIONAL : REP_REQUIRED },
        { id: 4, t: 'string', v: s.name },
        { id: 6, t: 'i32', v: s.type === 'string' ? CONVERTED_UTF8 : undefined },
        // LogicalType { 1: STRING StringType {} }
        { id: 10, t: 'struct', v: s.type === 'string' ? [{ id: 1, t: 'struct', v: [] }] : undefined },
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
  }
}
