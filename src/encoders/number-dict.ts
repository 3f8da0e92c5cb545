/**
 * Dictionary encoding for a numeric column chunk of narrow range (the vitals span 6–106 values per
 * row group, dates of a decade ~4,000, product ids ~10,000): the dictionary is every value from the
 * smallest to the largest that occur, most frequent first (a PLAIN dictionary page); each value's
 * code is its rank, bit-packed in one run of the RLE/bit-packing hybrid (RLE_DICTIONARY). zstd then
 * compresses 1–2 bytes per value instead of 4–8, which was most of its CPU.
 *
 * Types: int32 and date (Int32Array), int64 and timestamp (Float64Array of integers), float64 with
 * `decimals` whose values are exactly k / 10^decimals (as the generators round them). Nullable
 * chunks too: the caller writes the definition levels first, the codes cover the non-null values.
 *
 * Decision, per column chunk (so per row group, from its values only): dictionary when
 *   span ≤ MAX_ENTRIES and span · width + ⌈n · bits(span − 1) / 8⌉ ≤ n · width / 2,
 * i.e. the dictionary page plus the codes are at most half the PLAIN values (width 4 or 8 bytes);
 * else undefined and the caller writes PLAIN. Half, not "smaller": the codes of a wide span are
 * near-random bits that zstd cannot shrink, where PLAIN numbers of a narrow range compress well.
 */
import type { ByteBuf } from './bytes.js';
import { bitWidth } from './rle.js';

/** At most this many dictionary entries (codes of ≤ 16 bits). */
export const MAX_ENTRIES = 1 << 16;

/** Set false to write every numeric chunk PLAIN (for tests and comparisons). */
export const numberDictOptions = { enabled: true };

export interface DictPages {
  dict: { body: Buffer; count: number };
  data: Buffer;
  /** The chunk's smallest and largest value (for f64, found while scaling; else the min and max given). */
  min: number;
  max: number;
}

/** How the chunk's values are held: int32 (INT32), integers in a Float64Array (INT64), doubles (DOUBLE). */
export type NumberKind = 'i32' | 'i64' | 'f64';

let keys = new Int32Array(0);
let hist = new Int32Array(0);
let codeOf = new Int32Array(0);

/** Whether a dictionary of `span` entries for n values of `width` bytes passes the rule above. */
export function dictPays(span: number, n: number, width: number): boolean {
  if (!(span >= 1 && span <= MAX_ENTRIES)) return false;
  return span * width + Math.ceil((n * bitWidth(span - 1)) / 8) <= (n * width) / 2;
}

/**
 * Dictionary page and data page for values[0, n) (the non-null values), whose smallest and largest
 * are min and max (NaN ignored; for f64 they are not needed and found here), or undefined (write PLAIN). Once the dictionary is decided on,
 * `start()` is called (it resets dataOut and writes the definition levels) and the codes are
 * appended to dataOut; dictOut is reset.
 */
export function numberDictPages(
  values: Int32Array | Float64Array,
  n: number,
  kind: NumberKind,
  decimals: number | undefined,
  min: number,
  max: number,
  dictOut: ByteBuf,
  dataOut: ByteBuf,
  start: () => void,
): DictPages | undefined {
  if (n === 0 || !numberDictOptions.enabled || (kind !== 'f64' && !(min <= max))) return undefined;
  const width = kind === 'i32' ? 4 : 8;
  let k: Int32Array;
  let p = 1;
  let base: number;
  let span: number;
  if (kind === 'i32') {
    span = max - min + 1;
    if (!dictPays(span, n, width)) return undefined;
    k = values as Int32Array;
    base = min;
  } else if (kind === 'i64') {
    span = max - min + 1;
    if (!dictPays(span, n, width)) return undefined;
    if (keys.length < n) keys = new Int32Array(n);
    // Not integers (or not safe ones): PLAIN, whose writer reports the value.
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || !offsetsExact(values as Float64Array, n, min, keys)) return undefined;
    k = keys;
    base = 0;
  } else {
    if (decimals === undefined || !(decimals >= 0 && decimals <= 6)) return undefined;
    p = 10 ** decimals;
    if (keys.length < n) keys = new Int32Array(n);
    if (!scaleExact(values as Float64Array, n, p, keys)) return undefined;
    k = keys;
    base = scaled[0];
    span = scaled[1] - base + 1;
    if (!dictPays(span, n, width)) return undefined;
    min = base / p;
    max = scaled[1] / p;
  }
  // Codes by descending frequency (ties: smaller value first), values that do not occur left out:
  // frequent values get small codes, so the packed bytes are skewed and zstd's entropy stage
  // gains (as with Arrow's first-seen order, where frequent values tend to come first).
  if (hist.length < span) (hist = new Int32Array(Math.max(span, 2 * hist.length))), (codeOf = new Int32Array(hist.length));
  histogram(k, n, base, hist.fill(0, 0, span));
  const order: number[] = [];
  for (let e = 0; e < span; e++) if (hist[e] > 0) order.push(e);
  order.sort((x, y) => hist[y] - hist[x] || x - y);
  const count = order.length;
  for (let j = 0; j < count; j++) codeOf[order[j]] = j;
  dictOut.reset();
  dictOut.ensure(width * count);
  const b = dictOut.buf;
  if (kind === 'i32') for (let j = 0; j < count; j++) b.writeInt32LE(base + order[j], 4 * j);
  else if (kind === 'i64') for (let j = 0; j < count; j++) b.writeBigInt64LE(BigInt(min + order[j]), 8 * j);
  else for (let j = 0; j < count; j++) b.writeDoubleLE((base + order[j]) / p, 8 * j);
  dictOut.pos = width * count;
  const w = bitWidth(count - 1);
  start();
  dataOut.u8(w);
  packCodes(dataOut, k, n, base, codeOf, w);
  return { dict: { body: dictOut.view(), count }, data: dataOut.view(), min, max };
}

// One hot loop per function: V8 compiles a long loop on the fly (OSR), and code after it inside
// the same function would keep deoptimising that.

/** keys[i] = v[i] − min when every v[i] is an integer (the span is known to be < 2^16); else false. */
function offsetsExact(v: Float64Array, n: number, min: number, keys: Int32Array): boolean {
  for (let i = 0; i < n; i++) {
    const d = v[i] - min;
    if ((d | 0) !== d) return false;
    keys[i] = d;
  }
  return true;
}

/** Smallest and largest key of the last scaleExact. */
const scaled: [number, number] = [0, 0];

/** keys[i] = v[i] · p as an int32 when v[i] is exactly that integer / p (and not −0), their min/max in `scaled`; else false. */
function scaleExact(v: Float64Array, n: number, p: number, keys: Int32Array): boolean {
  let lo = 2147483647;
  let hi = -2147483648;
  for (let i = 0; i < n; i++) {
    const x = v[i];
    const q = Math.round(x * p);
    if (!(q >= -2147483648 && q <= 2147483647) || q / p !== x || (x === 0 && 1 / x < 0)) return false;
    keys[i] = q;
    if (q < lo) lo = q;
    if (q > hi) hi = q;
  }
  scaled[0] = lo;
  scaled[1] = hi;
  return true;
}

function histogram(v: Int32Array, n: number, min: number, h: Int32Array): void {
  for (let i = 0; i < n; i++) h[v[i] - min]++;
}

/** codeOf[v[i] − min] for i < n, bit-packed with width w (≤ 16) as one run, zero-padded to 8 values. */
function packCodes(out: ByteBuf, v: Int32Array, n: number, min: number, codeOf: Int32Array, w: number): void {
  const groups = Math.ceil(n / 8);
  out.varint(groups * 2 + 1);
  out.ensure(groups * w);
  const b = out.buf;
  let p = out.pos;
  let acc = 0;
  let nbits = 0;
  for (let i = 0; i < n; i++) {
    acc |= codeOf[v[i] - min] << nbits;
    nbits += w;
    if (nbits >= 8) {
      b[p++] = acc & 255;
      acc >>>= 8;
      nbits -= 8;
      if (nbits >= 8) {
        b[p++] = acc & 255;
        acc >>>= 8;
        nbits -= 8;
      }
    }
  }
  for (nbits += (groups * 8 - n) * w; nbits > 0; nbits -= 8) {
    b[p++] = acc & 255;
    acc >>>= 8;
  }
  out.pos = p;
}
