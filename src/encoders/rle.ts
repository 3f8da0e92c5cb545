import type { ByteBuf } from './bytes.js';

/** Bits needed to store values in [0, maxValue]; at least 1 (some readers dislike width 0). */
export function bitWidth(maxValue: number): number {
  let w = 1;
  while (w < 32 && maxValue >= 2 ** w) w++;
  return w;
}

/** Shortest run for which an RLE run is no larger than bit-packing the same values. */
function rleThreshold(w: number): number {
  const rleCost = 1 + Math.ceil(w / 8); // header (1 byte for runs < 64) + value
  let r = 2;
  while (r < 8 && (r * w) / 8 < rleCost) r++;
  return r;
}

function writeRleRun(out: ByteBuf, value: number, count: number, valueBytes: number): void {
  out.varint(count * 2);
  out.ensure(valueBytes);
  const b = out.buf;
  let p = out.pos;
  for (let k = 0; k < valueBytes; k++) {
    b[p++] = value & 0xff;
    value >>>= 8;
  }
  out.pos = p;
}

/** Bit-packs values[start, start+count), zero-padding to a multiple of 8 values. */
function writeBitPacked(out: ByteBuf, values: ArrayLike<number>, start: number, count: number, w: number): void {
  const groups = Math.ceil(count / 8);
  out.varint(groups * 2 + 1);
  out.ensure(groups * w);
  const b = out.buf;
  let p = out.pos;
  const end = start + count;
  const padded = start + groups * 8;
  if (w <= 24) {
    // acc holds < 8 pending bits plus one value: at most 31 bits.
    let acc = 0;
    let nbits = 0;
    for (let i = start; i < padded; i++) {
      acc |= (i < end ? values[i] : 0) << nbits;
      nbits += w;
      while (nbits >= 8) {
        b[p++] = acc & 0xff;
        acc >>>= 8;
        nbits -= 8;
      }
    }
  } else {
    let acc = 0; // up to 7 + 32 bits: exact in a double
    let mul = 1; // 2 ** pending bits
    for (let i = start; i < padded; i++) {
      acc += (i < end ? values[i] : 0) * mul;
      mul *= 2 ** w;
      while (mul >= 256) {
        b[p++] = acc % 256;
        acc = Math.floor(acc / 256);
        mul /= 256;
      }
    }
  }
  out.pos = p;
}

/**
 * Parquet RLE / bit-packing hybrid encoding of values[0, n) with bit width w (no length prefix).
 * Runs of at least a width-dependent threshold become RLE runs; everything else is bit-packed in
 * groups of 8 (only the final group may be padded).
 */
export function encodeHybrid(out: ByteBuf, values: ArrayLike<number>, n: number, w: number): void {
  const threshold = rleThreshold(w);
  const valueBytes = Math.ceil(w / 8);
  let litStart = 0;
  let i = 0;
  while (i < n) {
    const v = values[i];
    let j = i + 1;
    while (j < n && values[j] === v) j++;
    const r = j - i;
    if (r >= threshold) {
      const pend = i - litStart;
      const fill = (8 - (pend % 8)) % 8;
      if (r - fill >= threshold) {
        if (pend + fill > 0) writeBitPacked(out, values, litStart, pend + fill, w);
        writeRleRun(out, v, r - fill, valueBytes);
        litStart = j;
      }
    }
    i = j;
  }
  if (litStart < n) writeBitPacked(out, values, litStart, n - litStart, w);
}
