/**
 * Dictionary encoding for a non-null int32 / float64 column chunk of narrow range (the vitals span
 * 6–106 values per row group): the dictionary is every value from the smallest to the largest (a
 * PLAIN dictionary page), each row's code is its offset from the smallest, bit-packed in one run of
 * the RLE/bit-packing hybrid (RLE_DICTIONARY). zstd then compresses ~1 byte per value instead of
 * 4–8, which was most of its CPU. float64 needs `decimals` and values that are exactly
 * k / 10^decimals (as the generators round them). Returns undefined when a chunk does not qualify:
 * the caller writes PLAIN.
 */
import type { ByteBuf } from './bytes.js';
import { bitWidth } from './rle.js';

/** At most this many dictionary entries (codes of ≤ 12 bits). */
const MAX_ENTRIES = 1 << 12;

/** Set false to write every numeric chunk PLAIN (for tests and comparisons). */
export const numberDictOptions = { enabled: true };

export interface DictPages {
  dict: { body: Buffer; count: number };
  data: Buffer;
}

let keys = new Int32Array(0);

export function numberDictPages(values: Int32Array | Float64Array, n: number, decimals: number | undefined, dictOut: ByteBuf, dataOut: ByteBuf): DictPages | undefined {
  if (n === 0 || !numberDictOptions.enabled) return undefined;
  let k: Int32Array;
  let p = 1;
  if (values instanceof Int32Array) k = values;
  else if (decimals !== undefined && decimals >= 0 && decimals <= 6) {
    if (keys.length < n) keys = new Int32Array(n);
    p = 10 ** decimals;
    if (!scaleExact(values, n, p, keys)) return undefined;
    k = keys;
  } else return undefined;
  const min = minI32(k, n);
  const span = maxI32(k, n) - min + 1;
  if (span > MAX_ENTRIES) return undefined;
  dictOut.reset();
  dictOut.ensure(8 * span);
  const b = dictOut.buf;
  if (values instanceof Int32Array) for (let e = 0; e < span; e++) b.writeInt32LE(min + e, 4 * e);
  else for (let e = 0; e < span; e++) b.writeDoubleLE((min + e) / p, 8 * e);
  dictOut.pos = (values instanceof Int32Array ? 4 : 8) * span;
  const w = bitWidth(span - 1);
  dataOut.reset();
  dataOut.u8(w);
  packOffsets(dataOut, k, n, min, w);
  return { dict: { body: dictOut.view(), count: span }, data: dataOut.view() };
}

// One hot loop per function: V8 compiles a long loop on the fly (OSR), and code after it inside
// the same function would keep deoptimising that.

/** keys[i] = v[i] · p as an int32 when v[i] is exactly that integer / p (and not −0); else false. */
function scaleExact(v: Float64Array, n: number, p: number, keys: Int32Array): boolean {
  for (let i = 0; i < n; i++) {
    const x = v[i];
    const q = Math.round(x * p);
    if (!(q >= -2147483648 && q <= 2147483647) || q / p !== x || (x === 0 && 1 / x < 0)) return false;
    keys[i] = q;
  }
  return true;
}

function minI32(v: Int32Array, n: number): number {
  let m = v[0];
  for (let i = 1; i < n; i++) if (v[i] < m) m = v[i];
  return m;
}

function maxI32(v: Int32Array, n: number): number {
  let m = v[0];
  for (let i = 1; i < n; i++) if (v[i] > m) m = v[i];
  return m;
}

/** v[i] − min for i < n, bit-packed with width w (≤ 12) as one run, zero-padded to 8 values. */
function packOffsets(out: ByteBuf, v: Int32Array, n: number, min: number, w: number): void {
  const groups = Math.ceil(n / 8);
  out.varint(groups * 2 + 1);
  out.ensure(groups * w);
  const b = out.buf;
  let p = out.pos;
  let acc = 0;
  let nbits = 0;
  for (let i = 0; i < n; i++) {
    acc |= (v[i] - min) << nbits;
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
