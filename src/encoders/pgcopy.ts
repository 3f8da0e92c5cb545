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

type Field = (out: ByteBuf, i: number) => void;

/** Writes x (a safe integer) as 8 big-endian bytes of two's complement. */
function int64(out: ByteBuf, x: number): void {
  const hi = Math.floor(x / TWO32);
  const b = out.buf;
  b.writeInt32BE(hi, out.pos);
  b.writeUInt32BE(x - hi * TWO32, out.pos + 4);
  out.pos += 8;
}

const encodedDicts = new WeakMap<readonly string[], Buffer[]>();

function stringField(col: StringColumn): Field {
  if (col.kind === 'utf8') {
    const { bytes, offsets } = col;
    return (out, i) => {
      const s = offsets[i]!;
      const n = offsets[i + 1]! - s;
      out.ensure(4 + n);
      const b = out.buf;
      let p = out.pos;
      b.writeInt32BE(n, p);
      p += 4;
      if (n < 32) for (let k = 0; k < n; k++) b[p + k] = bytes[s + k]!;
      else b.set(bytes.subarray(s, s + n), p);
      out.pos = p + n;
    };
  }
  if (col.kind === 'dict') {
    let enc = encodedDicts.get(col.dictionary);
    if (!enc) encodedDicts.set(col.dictionary, (enc = col.dictionary.map((s) => Buffer.from(s, 'utf8'))));
    const e = enc;
    const codes = col.codes;
    return (out, i) => {
      const v = e[codes[i]!]!;
      out.ensure(4 + v.length);
      out.buf.writeInt32BE(v.length, out.pos);
      out.pos += 4;
      out.bytes(v);
    };
  }
  const values = col.values;
  return (out, i) => {
    const s = values[i]!;
    const max = 3 * s.length;
    out.ensure(4 + max);
    const n = out.buf.write(s, out.pos + 4, max, 'utf8');
    out.buf.writeInt32BE(n, out.pos);
    out.pos += 4 + n;
  };
}

function field(s: ColumnSchema, data: ColumnData): Field {
  switch (s.type) {
    case 'string':
      return stringField(data as StringColumn);
    case 'bool': {
      const v = data as Uint8Array;
      return (out, i) => {
        out.ensure(5);
        out.buf.writeInt32BE(1, out.pos);
        out.buf[out.pos + 4] = v[i] ? 1 : 0;
        out.pos += 5;
      };
    }
    case 'int32': {
      const v = data as Int32Array;
      return (out, i) => {
        out.ensure(8);
        out.buf.writeInt32BE(4, out.pos);
        out.buf.writeInt32BE(v[i]!, out.pos + 4);
        out.pos += 8;
      };
    }
    case 'date': {
      const v = data as Int32Array;
      return (out, i) => {
        out.ensure(8);
        out.buf.writeInt32BE(4, out.pos);
        out.buf.writeInt32BE(v[i]! - PG_EPOCH_DAYS, out.pos + 4);
        out.pos += 8;
      };
    }
    case 'int64':
    case 'timestamp': {
      const v = data as Float64Array;
      const shift = s.type === 'timestamp' ? PG_EPOCH_US : 0;
      return (out, i) => {
        const x = v[i]!;
        if (!Number.isSafeInteger(x)) throw new Error(`column ${s.name}: ${x} is not a safe integer`);
        out.ensure(12);
        out.buf.writeInt32BE(8, out.pos);
        out.pos += 4;
        int64(out, x - shift);
      };
    }
    case 'float64': {
      const v = data as Float64Array;
      const p = s.decimals === undefined ? 0 : 10 ** s.decimals;
      return (out, i) => {
        out.ensure(12);
        out.buf.writeInt32BE(8, out.pos);
        // What CSV and NDJSON print for the value, so the table holds the same number as the text files.
        // (Generators round already: the check keeps toFixed off the hot path.)
        const x = v[i]!;
        const y = !p || !Number.isFinite(x) || Math.round(x * p) / p === x ? x : Number(x.toFixed(s.decimals));
        out.buf.writeDoubleBE(y, out.pos + 4);
        out.pos += 12;
      };
    }
    case 'uuid': {
      const v = data as Uint8Array;
      return (out, i) => {
        out.ensure(20);
        const b = out.buf;
        b.writeInt32BE(UUID_BYTES, out.pos);
        for (let k = 0, o = i * UUID_BYTES, q = out.pos + 4; k < UUID_BYTES; k++) b[q + k] = v[o + k]!;
        out.pos += 20;
      };
    }
  }
}

class PgCopyBinaryWriter {
  private readonly buf = new ByteBuf(FLUSH_AT + (1 << 16));
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
    for (let i = 0; i < batch.length; i++) {
      out.ensure(2);
      out.buf.writeInt16BE(width, out.pos);
      out.pos += 2;
      for (let c = 0; c < width; c++) {
        const n = nulls[c];
        if (n && n[i]) {
          out.ensure(4);
          out.buf.writeInt32BE(-1, out.pos);
          out.pos += 4;
        } else fields[c]!(out, i);
      }
      if (out.pos >= FLUSH_AT) await this.out.write(out.take());
    }
    this.rows += batch.length;
  }

  async finish(): Promise<void> {
    this.buf.ensure(2);
    this.buf.buf.writeInt16BE(-1, this.buf.pos);
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
