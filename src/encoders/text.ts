/**
 * CSV (RFC 4180 quoting, header row, '\n' line ends) and NDJSON writers. Rows are rendered
 * straight into a large Buffer: numbers digit by digit, dictionary strings pre-encoded once.
 *
 * Values: bool `true`/`false`; int32/int64 decimal digits; date `YYYY-MM-DD`; timestamp
 * `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, always 6 fraction digits); uuid lowercase 8-4-4-4-12.
 * Years outside 0000..9999 (dates only) are written with a sign and 6 digits, as in
 * Date#toISOString: `+010000-01-01`, `-000001-12-31`. NDJSON quotes date, timestamp and uuid.
 * A null is an empty CSV field and `null` in NDJSON.
 */
import { UUID_BYTES, checkColumn, type Batch, type ColumnSchema, type StringColumn } from '../data/batch.js';
import { ByteBuf } from './bytes.js';
import { GzipOut } from './compress.js';
import { registerEncoder } from './registry.js';
import type { ByteOut, Compression, Encoder, EncoderFactory, EncoderOptions, OutputFormat } from './types.js';

/** gzip level used for CSV/NDJSON streams when compressionLevel is not given: 1, the fastest (docs/PARQUET.md). */
export const DEFAULT_TEXT_GZIP_LEVEL = 1;

const FLUSH_AT = 1 << 20;

const COMMA = 0x2c;
const NL = 0x0a;
const CSV_NEEDS_QUOTES = /[",\r\n]/;
/** The letter after a backslash for JSON's short escapes (0: none). */
const JSON_SHORT_ESCAPES = (() => {
  const t = new Uint8Array(128);
  t[0x22] = 0x22;
  t[0x5c] = 0x5c;
  t[0x08] = 0x62; // b
  t[0x0c] = 0x66; // f
  t[0x0a] = 0x6e; // n
  t[0x0d] = 0x72; // r
  t[0x09] = 0x74; // t
  return t;
})();
const HEX_DIGITS = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

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

/**
 * Writes a safe integer held as a double (int64, timestamp parts). Works in int32 pieces so that
 * writeInt keeps integer feedback (a double there would slow the int32 columns too).
 */
function writeInt64(out: ByteBuf, x: number): void {
  if (x >= -2147483647 && x <= 2147483647) {
    writeInt(out, x | 0);
    return;
  }
  let n = x;
  if (n < 0) {
    out.u8(0x2d);
    n = -n;
  }
  const hi = Math.floor(n / 1e8) | 0; // 21 .. 90,071,992 (n >= 2^31)
  const lo = (n - hi * 1e8) | 0;
  const hiDigits = hi < 100 ? 2 : hi < 1e3 ? 3 : hi < 1e4 ? 4 : hi < 1e5 ? 5 : hi < 1e6 ? 6 : hi < 1e7 ? 7 : 8;
  out.ensure(16);
  const b = out.buf;
  const end = out.pos + hiDigits + 8;
  writeDigitPairs(b, end, lo, 4);
  let h = hi;
  let q = end - 8;
  for (; h >= 100; q -= 2) {
    const t = (h / 100) | 0;
    write2(b, q - 2, h - t * 100);
    h = t;
  }
  if (h >= 10) write2(b, q - 2, h);
  else b[q - 1] = 0x30 + h;
  out.pos = end;
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

const QUOTE = 0x22;
const DAY_US = 86_400_000_000;

/** "00" … "99" as ASCII pairs. */
const DIGITS2 = Buffer.from(Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0')).join(''), 'latin1');

/** Writes n (an int32 in 0..99) as 2 digits at b[p]. */
function write2(b: Buffer, p: number, n: number): void {
  b[p] = DIGITS2[2 * n];
  b[p + 1] = DIGITS2[2 * n + 1];
}

/** Writes n (an int32 in 0..10^(2k) - 1) as exactly 2k digits ending before b[end]. */
function writeDigitPairs(b: Buffer, end: number, n: number, pairs: number): void {
  for (let k = 0; k < pairs; k++) {
    const q = (n / 100) | 0;
    write2(b, end - 2 - 2 * k, n - q * 100);
    n = q;
  }
}

/** Writes days since 1970-01-01 as YYYY-MM-DD (proleptic Gregorian; H. Hinnant's civil_from_days). */
function writeDate(out: ByteBuf, days: number): void {
  const z = days + 719468;
  // Integer division by truncation where z >= 0 (years 0 and later), floor otherwise.
  const era = z >= 0 ? (z / 146097) | 0 : Math.floor(z / 146097);
  const doe = (z - era * 146097) | 0; // 0 .. 146096
  const yoe = ((doe - ((doe / 1460) | 0) + ((doe / 36524) | 0) - ((doe / 146096) | 0)) / 365) | 0;
  const doy = doe - (365 * yoe + ((yoe / 4) | 0) - ((yoe / 100) | 0));
  const mp = ((5 * doy + 2) / 153) | 0;
  const d = doy - (((153 * mp + 2) / 5) | 0) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  if (y < 0 || y > 9999) writeAscii(out, (y < 0 ? '-' : '+') + String(Math.abs(y)).padStart(6, '0'));
  out.ensure(10);
  const b = out.buf;
  let p = out.pos;
  if (y >= 0 && y <= 9999) {
    writeDigitPairs(b, p + 4, y, 2);
    p += 4;
  }
  b[p] = 0x2d;
  write2(b, p + 1, m);
  b[p + 3] = 0x2d;
  write2(b, p + 4, d);
  out.pos = p + 6;
}

function checkSafe(s: ColumnSchema, x: number): void {
  if (!Number.isSafeInteger(x)) throw new Error(`column ${s.name}: ${x} is not a safe integer (${s.type} holds integers up to 2^53 - 1 in magnitude)`);
}

/** Writes microseconds since the epoch as YYYY-MM-DDTHH:MM:SS.ffffffZ. */
function writeTimestamp(out: ByteBuf, us: number): void {
  const days = Math.floor(us / DAY_US);
  const rem = us - days * DAY_US; // exact: both are integers below 2^53; 0 <= rem < 8.64e10
  writeDate(out, days);
  const secs = Math.floor(rem / 1e6) | 0;
  const frac = (rem - secs * 1e6) | 0;
  const mins = (secs / 60) | 0;
  out.ensure(17);
  const b = out.buf;
  const p = out.pos;
  b[p] = 0x54; // 'T'
  write2(b, p + 1, (mins / 60) | 0);
  b[p + 3] = 0x3a;
  write2(b, p + 4, mins % 60);
  b[p + 6] = 0x3a;
  write2(b, p + 7, secs - mins * 60);
  b[p + 9] = 0x2e;
  writeDigitPairs(b, p + 16, frac, 3);
  b[p + 16] = 0x5a; // 'Z'
  out.pos = p + 17;
}

const HEX = Buffer.from('0123456789abcdef', 'latin1');

/** Writes the 16 bytes at bytes[o] as lowercase 8-4-4-4-12 hex. */
function writeUuid(out: ByteBuf, bytes: Uint8Array, o: number): void {
  out.ensure(36);
  const b = out.buf;
  let p = out.pos;
  for (let k = 0; k < UUID_BYTES; k++) {
    if (k === 4 || k === 6 || k === 8 || k === 10) b[p++] = 0x2d;
    const x = bytes[o + k];
    b[p++] = HEX[x >> 4];
    b[p++] = HEX[x & 15];
  }
  out.pos = p;
}

const TRUE = Buffer.from('true', 'latin1');
const FALSE = Buffer.from('false', 'latin1');

function csvQuote(s: string): string {
  if (s === '') return '""'; // distinguishes an empty string from a null (empty field)
  return CSV_NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

type Encode = (out: ByteBuf, row: number) => void;

/** Row-at-a-time text rendering shared by CSV and NDJSON. */
abstract class TextWriter {
  protected readonly buf = new ByteBuf(FLUSH_AT + (1 << 16));
  rows = 0;
  private readonly encodedDicts = new WeakMap<readonly string[], Buffer[]>();

  constructor(
    protected readonly schema: readonly ColumnSchema[],
    private readonly out: ByteOut,
  ) {}

  protected abstract quote(s: string): string;
  /** Writes UTF-8 bytes b[from, to) as quote() would write the string they encode. */
  protected abstract quoteBytes(out: ByteBuf, b: Uint8Array, from: number, to: number): void;
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
    switch (s.type) {
      case 'int32': {
        const v = data as Int32Array;
        return (out, i) => writeInt(out, v[i]);
      }
      case 'float64': {
        const v = data as Float64Array;
        const d = s.decimals;
        return (out, i) => writeFloat(out, v[i], d, json);
      }
      case 'int64': {
        const v = data as Float64Array;
        return (out, i) => {
          checkSafe(s, v[i]);
          writeInt64(out, v[i]);
        };
      }
      case 'bool': {
        const v = data as Uint8Array;
        return (out, i) => out.bytes(v[i] ? TRUE : FALSE);
      }
      case 'date': {
        const v = data as Int32Array;
        if (!json) return (out, i) => writeDate(out, v[i]);
        return (out, i) => {
          out.u8(QUOTE);
          writeDate(out, v[i]);
          out.u8(QUOTE);
        };
      }
      case 'timestamp': {
        const v = data as Float64Array;
        return (out, i) => {
          checkSafe(s, v[i]);
          if (json) out.u8(QUOTE);
          writeTimestamp(out, v[i]);
          if (json) out.u8(QUOTE);
        };
      }
      case 'uuid': {
        const v = data as Uint8Array;
        return (out, i) => {
          if (json) out.u8(QUOTE);
          writeUuid(out, v, i * UUID_BYTES);
          if (json) out.u8(QUOTE);
        };
      }
      case 'string':
        return this.stringEncoder(data as StringColumn);
    }
  }

  private stringEncoder(col: StringColumn): Encode {
    if (col.kind === 'dict') {
      const enc = this.encodedDict(col.dictionary);
      const codes = col.codes;
      return (out, i) => out.bytes(enc[codes[i]]);
    }
    if (col.kind === 'utf8') {
      const { bytes, offsets } = col;
      return (out, i) => this.quoteBytes(out, bytes, offsets[i], offsets[i + 1]);
    }
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
    for (let c = 0; c < this.schema.length; c++) checkColumn(this.schema[c], batch.columns[c], batch.length);
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
  constructor(schema: readonly ColumnSchema[], out: ByteOut) {
    super(schema, out);
    this.buf.bytes(Buffer.from(schema.map((s) => csvQuote(s.name)).join(',') + '\n', 'utf8'));
  }

  protected quote(s: string): string {
    return csvQuote(s);
  }

  protected quoteBytes(out: ByteBuf, b: Uint8Array, from: number, to: number): void {
    let needs = from === to; // "" for an empty string, as csvQuote
    for (let k = from; k < to && !needs; k++) {
      const x = b[k];
      needs = x === 0x22 || x === 0x2c || x === 0x0d || x === 0x0a;
    }
    if (!needs) {
      out.ensure(to - from);
      const buf = out.buf;
      let p = out.pos;
      for (let k = from; k < to; k++) buf[p++] = b[k];
      out.pos = p;
      return;
    }
    out.ensure(2 * (to - from) + 2);
    const buf = out.buf;
    let p = out.pos;
    buf[p++] = 0x22;
    for (let k = from; k < to; k++) {
      const x = b[k];
      buf[p++] = x;
      if (x === 0x22) buf[p++] = 0x22;
    }
    buf[p++] = 0x22;
    out.pos = p;
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

  constructor(schema: readonly ColumnSchema[], out: ByteOut) {
    super(schema, out);
    this.keys = schema.map((s, c) => Buffer.from(`${c === 0 ? '{' : ','}${JSON.stringify(s.name)}:`, 'utf8'));
  }

  protected quote(s: string): string {
    return JSON.stringify(s);
  }

  protected quoteBytes(out: ByteBuf, b: Uint8Array, from: number, to: number): void {
    // JSON.stringify's escapes: \" \\ \b \f \n \r \t, other controls as \u00XX; the rest as is.
    out.ensure(6 * (to - from) + 2);
    const buf = out.buf;
    let p = out.pos;
    buf[p++] = 0x22;
    for (let k = from; k < to; k++) {
      const x = b[k];
      if (x >= 0x20 && x !== 0x22 && x !== 0x5c) {
        buf[p++] = x;
        continue;
      }
      buf[p++] = 0x5c;
      const short = JSON_SHORT_ESCAPES[x];
      if (short) buf[p++] = short;
      else {
        buf[p++] = 0x75; // u00XX
        buf[p++] = 0x30;
        buf[p++] = 0x30;
        buf[p++] = HEX_DIGITS[x >> 4];
        buf[p++] = HEX_DIGITS[x & 15];
      }
    }
    buf[p++] = 0x22;
    out.pos = p;
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

/** A text writer, optionally through a gzip stream, as an Encoder. */
class TextPartEncoder implements Encoder {
  constructor(
    private readonly w: TextWriter,
    private readonly gz: GzipOut | undefined,
  ) {}

  get rows(): number {
    return this.w.rows;
  }

  write(batch: Batch): Promise<void> {
    return this.w.write(batch);
  }

  async finish(): Promise<void> {
    await this.w.flush();
    await this.gz?.end();
  }

  destroy(): void {
    this.gz?.destroy();
  }
}

function textEncoder(format: OutputFormat, base: string, W: new (schema: readonly ColumnSchema[], out: ByteOut) => TextWriter): EncoderFactory {
  const compressions: readonly Compression[] = ['none', 'gzip'];
  return {
    format,
    compressions,
    extension: (c) => (c === 'gzip' ? `${base}.gz` : base),
    async open(out: ByteOut, schema: readonly ColumnSchema[], opts: EncoderOptions): Promise<Encoder> {
      const gz = opts.compression === 'gzip' ? new GzipOut(out, opts.compressionLevel ?? DEFAULT_TEXT_GZIP_LEVEL) : undefined;
      return new TextPartEncoder(new W(schema, gz ?? out), gz);
    },
  };
}

registerEncoder(textEncoder('csv', '.csv', CsvWriter));
registerEncoder(textEncoder('ndjson', '.ndjson', NdjsonWriter));
