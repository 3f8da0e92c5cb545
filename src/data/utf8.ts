/**
 * Builds a `utf8` string column (src/data/batch.ts) value by value, straight into bytes: the
 * generators' way to make many distinct strings without a JS string per value.
 */
import type { StringColumn } from './batch.js';

export class Utf8Builder {
  bytes: Uint8Array;
  pos = 0;
  private readonly offsets: Uint32Array;
  private n = 0;

  /** `reuse`: a column this builder's kind made before, whose buffers may be written over (kept when large enough). */
  constructor(rows: number, bytesPerRow = 16, reuse?: unknown) {
    const old = reuse as Partial<StringColumn & { kind: 'utf8' }> | undefined;
    const want = Math.max(64, rows * bytesPerRow);
    this.bytes = old?.kind === 'utf8' && old.bytes!.byteOffset === 0 && old.bytes!.buffer.byteLength >= want ? new Uint8Array(old.bytes!.buffer) : new Uint8Array(want);
    this.offsets = old?.kind === 'utf8' && old.offsets!.length === rows + 1 ? old.offsets! : new Uint32Array(rows + 1);
  }

  /** Room for `k` more bytes. */
  ensure(k: number): void {
    if (this.pos + k <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.pos + k) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.bytes.subarray(0, this.pos));
    this.bytes = next;
  }

  /** Appends encoded bytes to the current value. */
  put(src: Uint8Array): void {
    const n = src.length;
    this.ensure(n);
    const b = this.bytes;
    let p = this.pos;
    if (n < 24) for (let k = 0; k < n; k++) b[p++] = src[k]!;
    else (b.set(src, p), (p += n));
    this.pos = p;
  }

  /** Ends the current value. */
  end(): void {
    this.offsets[++this.n] = this.pos;
  }

  column(): StringColumn {
    return { kind: 'utf8', bytes: this.bytes.subarray(0, this.pos), offsets: this.offsets };
  }
}

/** Copies src into b at p (room reserved by the caller); returns the position after it. */
export function copyInto(b: Uint8Array, p: number, src: Uint8Array): number {
  const n = src.length;
  for (let k = 0; k < n; k++) b[p + k] = src[k]!;
  return p + n;
}

/** Writes the decimal digits of a non-negative safe integer into b at p; returns the position after them. */
export function digitsInto(b: Uint8Array, p: number, x: number): number {
  if (x < 0x80000000) {
    // int32 arithmetic for the common case
    let n = 1;
    for (let t = x; t >= 10; t = (t / 10) | 0) n++;
    let q = p + n;
    const end = q;
    let v = x | 0;
    do {
      const d = (v / 10) | 0;
      b[--q] = 48 + v - d * 10;
      v = d;
    } while (v > 0);
    return end;
  }
  let n = 1;
  for (let t = x; t >= 10; t = Math.floor(t / 10)) n++;
  let q = p + n;
  const end = q;
  do {
    const d = Math.floor(x / 10);
    b[--q] = 48 + (x - d * 10);
    x = d;
  } while (x > 0);
  return end;
}

const encoder = new TextEncoder();
/** Each string's UTF-8 bytes, once (word lists, names). */
export const encodeAll = (values: readonly string[]): Uint8Array[] => values.map((v) => encoder.encode(v));
