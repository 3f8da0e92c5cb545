/**
 * DELTA_BINARY_PACKED (parquet-format Encodings.md) for an INT64 column chunk whose values follow
 * each other closely: ids (every delta 1), references to a parent in parent order, sorted times.
 * PLAIN gives zstd 8 bytes a value to work through; here a sequential id costs about 5 bytes per
 * 128 values and a parent reference a few bits, so most of zstd's input (and CPU) is gone.
 *
 * Layout: header <block size 128> <4 miniblocks> <value count> <first value, zigzag>, all ULEB128;
 * then per block of 128 deltas <min delta, zigzag ULEB128> <4 bit widths, a byte each> <miniblocks:
 * 32 values of (delta − min delta), bit-packed LSB first>. A last partial miniblock is zero-padded
 * to 32 values; the width bytes of unused miniblocks of the last block are 0, with no body.
 *
 * Taken when it is at most `limit` bytes (the caller passes half the PLAIN size, the rule
 * number-dict.ts uses); values must be integers within ±2^51 (exact deltas in doubles) and every
 * block's deltas within 2^32 of its min delta, else it gives up (false) and the caller writes PLAIN.
 */
import type { ByteBuf } from './bytes.js';

/** Set false to write INT64 chunks without DELTA_BINARY_PACKED (for tests and comparisons). */
export const deltaOptions = { enabled: true };

const BLOCK = 128;
const MINIBLOCKS = 4;
const MINI = BLOCK / MINIBLOCKS;
const LIMIT = 2 ** 51;
const TWO32 = 4294967296;

const deltas = new Float64Array(BLOCK);
const packed = new Uint32Array(BLOCK);

/** ZigZag of an integer within ±2^52 (exact in a double; ByteBuf.varint writes it exactly). */
function zigzag(x: number): number {
  return x >= 0 ? 2 * x : -2 * x - 1;
}

/**
 * Appends values[0, n) DELTA_BINARY_PACKED to out; returns false (out then holds garbage past its
 * position at the call) when the encoding would exceed `limit` bytes or the values do not qualify.
 * min and max are the values' smallest and largest.
 */
export function appendDeltaI64(out: ByteBuf, values: Float64Array, n: number, min: number, max: number, limit: number): boolean {
  // Integers only (a fraction, NaN or ±Infinity goes to PLAIN, which reports it): the first value and every delta whole.
  if (n < 2 || !(min >= -LIMIT && max <= LIMIT) || !Number.isInteger(values[0])) return false;
  const start = out.pos;
  out.varint(BLOCK);
  out.varint(MINIBLOCKS);
  out.varint(n);
  out.varint(zigzag(values[0]!));
  let prev = values[0]!;
  for (let i = 1; i < n; i += BLOCK) {
    const m = Math.min(BLOCK, n - i);
    let minD = Infinity;
    for (let k = 0; k < m; k++) {
      const x = values[i + k]!;
      const d = x - prev;
      if (d !== Math.floor(d)) return false;
      prev = x;
      deltas[k] = d;
      if (d < minD) minD = d;
    }
    out.varint(zigzag(minD));
    const widthsAt = out.pos;
    out.ensure(MINIBLOCKS + BLOCK * 4);
    out.pos += MINIBLOCKS;
    const b = out.buf;
    for (let mb = 0; mb < MINIBLOCKS; mb++) {
      const from = mb * MINI;
      if (from >= m) {
        b[widthsAt + mb] = 0;
        continue;
      }
      const to = Math.min(m, from + MINI);
      let or = 0;
      for (let k = from; k < to; k++) {
        const u = deltas[k]! - minD;
        if (u >= TWO32) return false;
        const w = u >>> 0;
        packed[k] = w;
        or |= w;
      }
      for (let k = to; k < from + MINI; k++) packed[k] = 0;
      const width = or === 0 ? 0 : 32 - Math.clz32(or);
      b[widthsAt + mb] = width;
      if (width > 0) out.pos = pack32(b, out.pos, packed, from, width);
    }
    if (out.pos - start > limit) return false;
  }
  return out.pos - start <= limit;
}

/** Bit-packs packed[from, from + 32) at `width` bits each, LSB first, into b at p (4·width bytes); returns the end. */
function pack32(b: Uint8Array, p: number, src: Uint32Array, from: number, width: number): number {
  if (width <= 24) {
    let acc = 0;
    let bits = 0;
    for (let k = from; k < from + MINI; k++) {
      acc |= src[k]! << bits;
      bits += width;
      while (bits >= 8) {
        b[p++] = acc & 0xff;
        acc >>>= 8;
        bits -= 8;
      }
    }
    return p; // 32 · width bits: a whole number of bytes, nothing pending
  }
  // 25–32 bits: the pending bits (< 8) plus a value exceed 31, so carry them in a double.
  let acc = 0;
  let bits = 0;
  for (let k = from; k < from + MINI; k++) {
    acc += src[k]! * 2 ** bits;
    bits += width;
    while (bits >= 8) {
      const lo = acc % 256;
      b[p++] = lo;
      acc = (acc - lo) / 256;
      bits -= 8;
    }
  }
  return p;
}
