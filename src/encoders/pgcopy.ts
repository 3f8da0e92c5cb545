/**
 * The Postgres COPY binary format (`COPY t FROM STDIN WITH (FORMAT binary)`, PostgreSQL docs,
 * "COPY — Binary Format"): an 11-byte signature, a flags word and a header-extension length, then
 * per row an int16 field count and per field an int32 byte length (−1 for NULL) and the value in
 * the type's binary send format, all big-endian; an int16 −1 ends the stream. Not a user output
 * format (it is not registered): the engine's Postgres load streams it to one COPY per part.
 *
 * Binary rather than text: nothing is printed or parsed (numbers, dates and timestamps are their
 * bits), nothing is escaped (strings are their UTF-8 bytes), so both this process and Postgres do
 * less work per row than with CSV or the text format.
 *
 * | column type | Postgres type    | field                                                         |
 * | ----------- | ---------------- | ------------------------------------------------------------- |
 * | string      | text             | the UTF-8 bytes                                               |
 * | bool        | boolean          | 1 byte, 0 or 1                                                |
 * | int32       | integer          | 4 bytes                                                       |
 * | int64       | bigint           | 8 bytes, two's complement                                     |
 * | float64     | double precision | 8 bytes IEEE-754 (rounded to `decimals` first, as CSV prints) |
 * | date        | date             | 4 bytes: days since 2000-01-01                                |
 * | timestamp   | timestamptz      | 8 bytes: microseconds since 2000-01-01T00:00:00Z              |
 * | uuid        | uuid             | the 16 bytes                                                  |
 */
import { checkColumn, UUID_BYTES, type Batch, type ColumnData, type ColumnSchema, type StringColumn } from '../data/batch.js';
import { ByteBuf } from './bytes.js';
import type { ByteOut, Encoder } from './types.js';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** Days and microseconds from 1970-01-01 to 2000-01-01, Postgres's epoch. */
const PG_EPOCH_DAYS = 10_957;
const PG_EPOCH_US = 946_684_800_000_000;
const TWO32 = 4294967296;
const FLUSH_AT = 1 << 20;

/**
 * Writes one field of row i at out.pos (room reserved by the caller: FIXED_WIDTH, or 4 + the
 * string's bytes, which a string field reserves itself) and returns the position after it.
 */
type Field = (out: Out, i: number, p: number) => number;

/** The output buffer and a DataView on it (DataView writes are what the JIT makes cheapest). */
class Out extends ByteBuf {
  dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);

  override ensure(n: number): void {
    const before = this.buf;
    super.ensure(n);
    if (this.buf !== before) this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  override take(): Buffer {
    const out = super.take();
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    return out;
  }
}

/** Most bytes a fixed-width field takes (uuid: 4 + 16). */
const FIXED_WIDTH = 20;

const encodedDicts = new WeakMap<readonly string[], Buffer[]>();

function stringField(col: StringColumn): Field {
  if (col.kind === 'utf8') {
    const { bytes, offsets } = col;
    return (out, i, p) => {
      const s = offsets[i]!;
      const n = offsets[i + 1]! - s;
      out.pos = p;
      out.ensure(4 + n);
      out.dv.setInt32(p, n);
      p += 4;
      const b = out.buf;
      if (n < 32) for (let k = 0; k < n; k++) b[p + k] = bytes[s + k]!;
      else b.set(bytes.subarray(s, s + n), p);
      return p + n;
    };
  }
  if (col.kind === 'dict') {
    let enc = encodedDicts.get(col.dictionary);
    if (!enc) encodedDicts.set(col.dictionary, (enc = col.dictionary.map((s) => Buffer.from(s, 'utf8'))));
    const e = enc;
    const codes = col.codes;
    return (out, i, p) => {
      const v = e[codes[i]!]!;
      const n = v.length;
      out.pos = p;
      out.ensure(4 + n);
      out.dv.setInt32(p, n);
      p += 4;
      const b = out.buf;
      for (let k = 0; k < n; k++) b[p + k] = v[k]!;
      return p + n;
    };
  }
  const values = col.values;
  return (out, i, p) => {
    const s = values[i]!;
    const max = 3 * s.length;
    out.pos = p;
    out.ensure(4 + max);
    const n = out.buf.write(s, p + 4, max, 'utf8');
    out.dv.setInt32(p, n);
    return p + 4 + n;
  };
}

function field(s: ColumnSchema, data: ColumnData): Field {
  switch (s.type) {
    case 'string':
      return stringField(data as StringColumn);
    case 'bool': {
      const v = data as Uint8Array;
      return (out, i, p) => {
        out.dv.setInt32(p, 1);
        out.buf[p + 4] = v[i] ? 1 : 0;
        return p + 5;
      };
    }
    case 'int32':
    case 'date': {
      const v = data as Int32Array;
      const shift = s.type === 'date' ? PG_EPOCH_DAYS : 0;
      return (out, i, p) => {
        out.dv.setInt32(p, 4);
        out.dv.setInt32(p + 4, v[i]! - shift);
        return p + 8;
      };
    }
    case 'int64':
    case 'timestamp': {
      const v = data as Float64Array;
      const shift = s.type === 'timestamp' ? PG_EPOCH_US : 0;
      return (out, i, p) => {
        const x = v[i]! - shift;
        if (!Number.isSafeInteger(x)) throw new Error(`column ${s.name}: ${v[i]} is not a safe integer`);
        const hi = Math.floor(x / TWO32);
        const dv = out.dv;
        dv.setInt32(p, 8);
        dv.setInt32(p + 4, hi);
        dv.setUint32(p + 8, x - hi * TWO32);
        return p + 12;
      };
    }
    case 'float64': {
      const v = data as Float64Array;
      const d = s.decimals;
      const k = d === undefined ? 0 : 10 ** d;
      return (out, i, p) => {
        // What CSV and NDJSON print for the value, so the table holds the same number as the text
        // files. (Generators round already: the check keeps toFixed off the hot path.)
        const x = v[i]!;
        const y = !k || !Number.isFinite(x) || Math.round(x * k) / k === x ? x : Number(x.toFixed(d));
        out.dv.setInt32(p, 8);
        out.dv.setFloat64(p + 4, y);
        return p + 12;
      };
    }
    case 'uuid': {
      const v = data as Uint8Array;
      return (out, i, p) => {
        out.dv.setInt32(p, UUID_BYTES);
        const b = out.buf;
        for (let k = 0, o = i * UUID_BYTES, q = p + 4; k < UUID_BYTES; k++) b[q + k] = v[o + k]!;
        return p + 20;
      };
    }
  }
}

class PgCopyBinaryWriter {
  private readonly buf = new Out(FLUSH_AT + (1 << 16));
  rows = 0;

  constructor(
    private readonly schema: readonly ColumnSchema[],
    private readonly out: ByteOut,
  ) {
    this.buf.bytes(SIGNATURE);
    this.buf.u32le(0); // flags (0 either way round)
    this.buf.u32le(0); // header extension length
  }

  async write(batch: Batch): Promise<void> {
    const { schema } = this;
    if (batch.columns.length !== schema.length) throw new Error(`batch has ${batch.columns.length} columns, schema has ${schema.length}`);
    const fields = schema.map((s, c) => {
      checkColumn(s, batch.columns[c]!, batch.length);
      return field(s, batch.columns[c]!);
    });
    const nulls = schema.map((s, c) => {
      const n = batch.nulls?.[c];
      if (n && !s.nullable) throw new Error(`column ${s.name} is not nullable but the batch has nulls`);
      return n;
    });
    const out = this.buf;
    const width = schema.length;
    const rowMax = 2 + width * FIXED_WIDTH;
    for (let i = 0; i < batch.length; i++) {
      out.ensure(rowMax);
      let p = out.pos;
      out.dv.setInt16(p, width);
      p += 2;
      for (let c = 0; c < width; c++) {
        const n = nulls[c];
        if (n && n[i]) {
          out.dv.setInt32(p, -1);
          p += 4;
        } else p = fields[c]!(out, i, p);
        out.pos = p;
        out.ensure(FIXED_WIDTH);
      }
      if (p >= FLUSH_AT) await this.out.write(out.take());
    }
    this.rows += batch.length;
  }

  async finish(): Promise<void> {
    this.buf.ensure(2);
    this.buf.dv.setInt16(this.buf.pos, -1);
    this.buf.pos += 2;
    await this.out.write(this.buf.take());
  }
}

/** An encoder of batches into one COPY binary stream (signature, rows, trailer) on `out`. */
export function openPgCopy(out: ByteOut, schema: readonly ColumnSchema[]): Encoder {
  if (schema.length === 0) throw new Error('schema has no columns');
  const w = new PgCopyBinaryWriter(schema, out);
  return {
    get rows() {
      return w.rows;
    },
    write: (batch) => w.write(batch),
    finish: () => w.finish(),
    destroy() {},
  };
}
