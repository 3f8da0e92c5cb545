/**
 * The Postgres COPY text format (`COPY t FROM STDIN`, the default `FORMAT text`): one line per
 * row, columns separated by a tab, a null is `\N`, and backslash, tab, newline and carriage
 * return inside a string are escaped as `\\`, `\t`, `\n`, `\r`. Not a user output format (it is
 * not registered): the engine's Postgres load (src/engine/load.ts) streams it to a COPY.
 *
 * Values are printed by the CSV writer's code (text.ts), so they are the same characters as in a
 * CSV part: bool `true`/`false`; integers as digits; float64 with exactly `decimals` digits when
 * the column has them (else the shortest round-trip form), `NaN`/`Infinity`/`-Infinity` as such;
 * date `YYYY-MM-DD`; timestamp `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, what timestamptz reads); uuid
 * lowercase 8-4-4-4-12. Dates outside 0001-01-01 .. 9999-12-31 are written the way Postgres
 * reads them instead: `0001-12-31 BC` for the proleptic year 0, `10000-01-01` after 9999.
 */
import type { Batch, ColumnSchema } from '../data/batch.js';
import type { ByteBuf } from './bytes.js';
import { TextWriter, type Encode } from './text.js';
import type { ByteOut, Encoder } from './types.js';

const TAB = 0x09;
const NL = 0x0a;
const NULL = Buffer.from('\\N', 'latin1');
const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A string as a COPY text field (the null marker `\N` can never come out of it: `\` is escaped). */
export function copyEscape(s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]!) : s;
}

/** Days since 1970-01-01 of 0001-01-01 and of 9999-12-31: the CSV writer's dates in between are Postgres's. */
const FIRST_AD = -719162;
const LAST_4_DIGITS = 2932896;

/** A date outside years 1..9999 as Postgres reads it (`YYYY-MM-DD BC`, or a 5+ digit year). */
export function pgDateText(days: number): string {
  const d = new Date(days * 86_400_000);
  const y = d.getUTCFullYear();
  const md = `${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
  return y <= 0 ? `${String(1 - y).padStart(4, '0')}-${md} BC` : `${String(y).padStart(4, '0')}-${md}`;
}

class PgCopyWriter extends TextWriter {
  protected override encoder(s: ColumnSchema, data: Batch['columns'][number], json: boolean): Encode {
    const fast = super.encoder(s, data, json);
    if (s.type !== 'date') return fast;
    const v = data as Int32Array;
    return (out, i) => {
      const days = v[i]!;
      if (days >= FIRST_AD && days <= LAST_4_DIGITS) fast(out, i);
      else out.bytes(Buffer.from(pgDateText(days), 'latin1'));
    };
  }

  protected quote(s: string): string {
    return copyEscape(s);
  }

  protected quoteBytes(out: ByteBuf, b: Uint8Array, from: number, to: number): void {
    out.ensure(2 * (to - from));
    const buf = out.buf;
    let p = out.pos;
    for (let k = from; k < to; k++) {
      const x = b[k]!;
      const e = x === 0x5c ? 0x5c : x === TAB ? 0x74 : x === NL ? 0x6e : x === 0x0d ? 0x72 : 0;
      if (e) (buf[p++] = 0x5c), (buf[p++] = e);
      else buf[p++] = x;
    }
    out.pos = p;
  }

  protected encoders(batch: Batch): Encode[] {
    return this.schema.map((s, c) => this.encoder(s, batch.columns[c], false));
  }

  protected writeRow(enc: Encode[], nulls: (Uint8Array | undefined)[], row: number): void {
    const out = this.buf;
    for (let c = 0; c < enc.length; c++) {
      if (c > 0) out.u8(TAB);
      const n = nulls[c];
      if (n && n[row]) out.bytes(NULL);
      else enc[c](out, row);
    }
    out.u8(NL);
  }
}

/** An encoder of batches into COPY text rows (no header, no trailer) on `out`. */
export function openPgCopy(out: ByteOut, schema: readonly ColumnSchema[]): Encoder {
  if (schema.length === 0) throw new Error('schema has no columns');
  const w = new PgCopyWriter(schema, out);
  return {
    get rows() {
      return w.rows;
    },
    write: (batch) => w.write(batch),
    finish: () => w.flush(),
    destroy() {},
  };
}
