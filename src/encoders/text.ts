/**
 * CSV (RFC 4180 quoting, header row, '\n' line ends) and NDJSON writers. Rows are rendered
 * straight into a large Buffer: numbers digit by digit, dictionary strings pre-encoded once.
 */
import type { Batch, ColumnSchema, StringColumn } from '../data/batch.js';
import { ByteBuf } from './bytes.js';
import type { ByteOut } from './types.js';

const FLUSH_AT = 1 << 20;

const COMMA = 0x2c;
const NL = 0x0a;
const CSV_NEEDS_QUOTES = /[",\r\n]/;

/** Writes the integer n (|n| < 2^53) as decimal digits. */
function writeInt(out: ByteBuf, n: number): void {
  out.ensure(24);
  const b = out.buf;
  let p = out.pos;
  if (n < 0) {
    b[p++] = 0x2d;
    n = -n;
  }
  if (n < 10) {
    b[p++] = 0x30 + n;
    out.pos = p;
    return;
  }
  let digits = 1;
  for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
  let q = p + digits;
  out.pos = q;
  while (n >= 10) {
    const r = n % 10;
    b[--q] = 0x30 + r;
    n = (n - r) / 10;
  }
  b[--q] = 0x30 + n;
}

const POW10 = Array.from({ length: 21 }, (_, i) => 10 ** i);

function writeAscii(out: ByteBuf, s: string): void {
  out.ensure(s.length);
  out.pos += out.buf.write(s, out.pos, 'latin1');
}

/**
 * Writes x with exactly `decimals` digits after the point, as Number.prototype.toFixed would
 * (fast integer path unless the value is close to a rounding tie or large). Non-finite values
 * are written with `nonFinite` (CSV: 'NaN'/'Infinity'; NDJSON: null).
 */
function writeFixed(out: ByteBuf, x: number, decimals: number, json: boolean): void {
  if (!Number.isFinite(x)) {
    writeAscii(out, json ? 'null' : String(x));
    return;
  }
  const p = POW10[decimals];
  const scaled = Math.abs(x) * p;
  if (decimals > 20 || scaled >= 1e9) {
    writeAscii(out, x.toFixed(decimals));
    return;
  }
  const r = Math.round(scaled);
  if (Math.abs(Math.abs(scaled - r) - 0.5) < 1e-6) {
    writeAscii(out, x.toFixed(decimals));
    return;
  }
  out.ensure(32);
  if (x < 0) out.buf[out.pos++] = 0x2d;
  if (decimals === 0) {
    writeInt(out, r);
    return;
  }
  const ip = Math.floor(r / p);
  writeInt(out, ip);
  out.ensure(decimals + 2);
  let frac = r - ip * p;
  const b = out.buf;
  let q = out.pos + 1 + decimals;
  out.pos = q;
  for (let k = 0; k < decimals; k++) {
    const d = frac % 10;
    b[--q] = 0x30 + d;
    frac = (frac - d) / 10;
  }
  b[--q] = 0x2e; // '.'
}

function writeFloat(out: ByteBuf, x: number, decimals: number | undefined, json: boolean): void {
  if (decimals !== undefined) writeFixed(out, x, decimals, json);
  else if (Number.isFinite(x)) writeAscii(out, String(x));
  else writeAscii(out, json ? 'null' : String(x));
}

function csvQuote(s: string): string {
  if (s === '') return '""'; // distinguishes an empty string from a null (empty field)
  return CSV_NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

type Encode = (out: ByteBuf, row: number) => void;

abstract class TextWriter {
  protected readonly buf = new ByteBuf(FLUSH_AT + (1 << 16));
  rows = 0;
  private readonly encodedDicts = new WeakMap<readonly string[], Buffer[]>();

  constructor(
    protected readonly schema: ColumnSchema[],
    private readonly out: ByteOut,
  ) {}

  protected abstract quote(s: string): string;
  protected abstract writeRow(enc: Encode[], nulls: (Uint8Array | undefined)[], row: number): void;

  protected encodedDict(dict: readonly string[]): Buffer[] {
    let e = this.encodedDicts.get(dict);
    if (!e) {
      e = dict.map((s) => Buffer.from(this.quote(s), 'utf8'));
      this.encodedDicts.set(dict, e);
    }
    return e;
  }

  protected encoder(s: ColumnSchema, data: Batch['columns'][number], json: boolean): Encode {
    if (s.type === 'int32') {
      if (!(data instanceof Int32Array)) throw new Error(`column ${s.name}: expected Int32Array`);
      return (out, i) => writeInt(out, data[i]);
    }
    if (s.type === 'float64') {
      if (!(data instanceof Float64Array)) throw new Error(`column ${s.name}: expected Float64Array`);
      const d = s.decimals;
      return (out, i) => writeFloat(out, data[i], d, json);
    }
    const col = data as StringColumn;
    if (col.kind === 'dict') {
      const enc = this.encodedDict(col.dictionary);
      const codes = col.codes;
      return (out, i) => out.bytes(enc[codes[i]]);
    }
    if (col.kind !== 'plain') throw new Error(`column ${s.name}: expected a string column`);
    const vals = col.values;
    let prev: string | undefined;
    let prevEnc = '';
    return (out, i) => {
      const v = vals[i];
      if (v !== prev) {
        prev = v;
        prevEnc = this.quote(v);
      }
      const max = prevEnc.length * 3;
      out.ensure(max);
      out.pos += out.buf.write(prevEnc, out.pos, max, 'utf8');
    };
  }

  protected abstract encoders(batch: Batch): Encode[];

  async write(batch: Batch): Promise<void> {
    if (batch.columns.length !== this.schema.length) {
      throw new Error(`batch has ${batch.columns.length} columns, schema has ${this.schema.length}`);
    }
    const enc = this.encoders(batch);
    const nulls = this.schema.map((s, c) => {
      const n = batch.nulls?.[c];
      if (n && !s.nullable) throw new Error(`column ${s.name} is not nullable but the batch has nulls`);
      return n;
    });
    for (let i = 0; i < batch.length; i++) {
      this.writeRow(enc, nulls, i);
      if (this.buf.pos >= FLUSH_AT) await this.flush();
    }
    this.rows += batch.length;
  }

  async flush(): Promise<void> {
    if (this.buf.pos > 0) await this.out.write(this.buf.take());
  }
}

export class CsvWriter extends TextWriter {
  constructor(schema: ColumnSchema[], out: ByteOut) {
    super(schema, out);
    this.buf.bytes(Buffer.from(schema.map((s) => csvQuote(s.name)).join(',') + '\n', 'utf8'));
  }

  protected quote(s: string): string {
    return csvQuote(s);
  }

  protected encoders(batch: Batch): Encode[] {
    return this.schema.map((s, c) => this.encoder(s, batch.columns[c], false));
  }

  protected writeRow(enc: Encode[], nulls: (Uint8Array | undefined)[], row: number): void {
    const out = this.buf;
    for (let c = 0; c < enc.length; c++) {
      if (c > 0) out.u8(COMMA);
      const n = nulls[c];
      if (n && n[row]) continue; // null: empty field
      enc[c](out, row);
    }
    out.u8(NL);
  }
}

export class NdjsonWriter extends TextWriter {
  /** `{"name":` then `,"name":` ... */
  private readonly keys: Buffer[];

  constructor(schema: ColumnSchema[], out: ByteOut) {
    super(schema, out);
    this.keys = schema.map((s, c) => Buffer.from(`${c === 0 ? '{' : ','}${JSON.stringify(s.name)}:`, 'utf8'));
  }

  protected quote(s: string): string {
    return JSON.stringify(s);
  }

  protected encoders(batch: Batch): Encode[] {
    return this.schema.map((s, c) => this.encoder(s, batch.columns[c], true));
  }

  protected writeRow(enc: Encode[], nulls: (Uint8Array | undefined)[], row: number): void {
    const out = this.buf;
    const keys = this.keys;
    for (let c = 0; c < enc.length; c++) {
      out.bytes(keys[c]);
      const n = nulls[c];
      if (n && n[row]) {
        out.ensure(4);
        out.pos += out.buf.write('null', out.pos, 'latin1');
      } else enc[c](out, row);
    }
    if (enc.length === 0) out.u8(0x7b);
    out.u8(0x7d);
    out.u8(NL);
  }
}
