/**
 * A content digest of a table that does not depend on how the table was partitioned.
 *
 * Each row gets a 128-bit hash of (global row index, canonical column values in schema order):
 * four independent 32-bit lanes. The digest is the lane-wise sum mod 2^32 over all rows. Sums are
 * order-independent and combinable, so every shard can be digested on its own and the results
 * merged in any order; the row index inside each row hash makes a moved or swapped row count.
 * Text form: `sf1-` + 32 lowercase hex digits (lane 0 … lane 3, 8 digits each).
 *
 * Per lane the row hash is a chain of bijective steps h ← xorshift15(imul(h ^ word, M_lane)) over
 * the words, from a lane seed, finished by MurmurHash3's fmix32. Because every step is a bijection
 * of h for a fixed word, two rows that differ in exactly one word always differ in every lane.
 * Not cryptographic: it detects accidental differences, not forgeries.
 *
 * Canonical words per value:
 *  - int32, date (days since the epoch): the value as 32 bits (1 word);
 *  - bool: 1 if true (any non-zero byte), else 0 (1 word);
 *  - int64, timestamp (microseconds): the integer as 64-bit two's complement (2 words: low, high),
 *    the same words as a float64 with decimals 0 holding that integer; a value that is not a safe
 *    integer throws;
 *  - uuid: its 16 bytes as 4 words, each 4 bytes read big-endian, in byte order;
 *  - float64 with `decimals` d: round(x · 10^d) as a 64-bit integer (2 words: low, high) — so
 *    36.7 hashes the same however it was computed; non-finite values fall back to the bit pattern;
 *  - float64 without decimals: its IEEE-754 bits (2 words), with −0 as +0 and every NaN as one NaN;
 *  - string: two 32-bit hashes of its UTF-16 code units and length (2 words); a dictionary column's
 *    entries are hashed once per dictionary, not per row; a dictionary code out of range throws;
 *    a `utf8` column's bytes are decoded to the same code units (the same words as `plain`);
 *  - null: the words (0x6e756c6c, 0x7ff4dead) — for float64 a NaN payload canonical values never
 *    have; for int64/timestamp a high word no safe integer has; for int32/date/bool two words
 *    where values have one, for uuid two where values have four.
 * Column names and types are not hashed (the manifest lists them next to the digest).
 * Assumes a little-endian platform (every Node.js target) for the float64 bit view.
 */
import { UUID_BYTES, type Batch, type ColumnSchema, type StringColumn } from './batch.js';

const M0 = 0x9e3779b1 | 0;
const M1 = 0x85ebca77 | 0;
const M2 = 0xc2b2ae3d | 0;
const M3 = 0x27d4eb2f | 0;
const S0 = 0x243f6a88 | 0;
const S1 = 0x85a308d3 | 0;
const S2 = 0x13198a2e | 0;
const S3 = 0x03707344 | 0;
const NULL_LO = 0x6e756c6c | 0;
const NULL_HI = 0x7ff4dead | 0;
const NAN_HI = 0x7ff80000 | 0;
const CHUNK = 2048;
const TWO32 = 4294967296;

/**
 * digest-mix.wat (beside this file) compiled with wabt 1.0.39 (SIMD): the row mixing of the fused
 * path with the 4 lanes in one v128. Where WebAssembly SIMD is missing, the same loop runs in JS.
 */
const MIX_WASM = 'AGFzbQEAAAABCAFgBH9/f38AAwIBAAUDAQACBw0CA21lbQIAA21peAAACvgBAfUBAgN/A3sgA/0ABAAhCCAAIQQgACABIAJsQQJ0aiEGAkADQCAEIAZPDQH9DIhqPyTTCKOFLooZE0RzcAMhByAEIAJBAnRqIQUDQCAHIAT9CQIA/VH9DLF5N553yuuFPa6ywi/r1Cf9tQEhCSAJIAlBD/2tAf1RIQcgBEEEaiEEIAQgBUkNAAsgByAHQRD9rQH9USEHIAf9DGvK64VryuuFa8rrhWvK64X9tQEhByAHIAdBDf2tAf1RIQcgB/0MNa6ywjWussI1rrLCNa6ywv21ASEHIAcgB0EQ/a0B/VEhByAIIAf9rgEhCAwACwsgAyAI/QsEAAs=';

interface Mixer {
  mem: { buffer: ArrayBuffer; grow(pages: number): number };
  mix(ptr: number, m: number, nw: number, out: number): void;
}

// The global (lib "dom" is not in this project's tsconfig): only what is used here.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
};

let mixer: Mixer | null | undefined = null; // null: not tried yet; undefined: unavailable
let mixWords = new Int32Array(0);
let mixAcc = new Int32Array(0);

function wasmMixer(): Mixer | undefined {
  if (mixer === null) {
    try {
      mixer = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(MIX_WASM, 'base64'))).exports as Mixer;
    } catch {
      mixer = undefined;
    }
  }
  return mixer;
}

/** A view of `words` int32 at byte 16 of the mixer's memory (the accumulator is bytes 0–15). */
function mixerWords(mx: Mixer, words: number): Int32Array {
  const need = 16 + 4 * words;
  if (mx.mem.buffer.byteLength < need) mx.mem.grow(Math.ceil((need - mx.mem.buffer.byteLength) / 65536));
  if (mixWords.buffer !== mx.mem.buffer || mixWords.length < words) {
    mixWords = new Int32Array(mx.mem.buffer, 16, (mx.mem.buffer.byteLength - 16) >> 2);
    mixAcc = new Int32Array(mx.mem.buffer, 0, 4);
  }
  return mixWords;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/** Two independent 32-bit hashes of a string, written to out[o], out[o+1]. */
function hashString(s: string, out: Int32Array, o: number): void {
  let a = 0x7a3f51c9 ^ s.length;
  let b = 0x1b873593 ^ Math.imul(s.length, 0x5bd1e995);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    a ^= a >>> 15;
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 13;
  }
  out[o] = fmix32(a ^ Math.imul(b, 0x27d4eb2d));
  out[o + 1] = fmix32(b + 0x165667b1);
}

/**
 * hashString of the string whose UTF-8 bytes are b[from, to) (valid UTF-8): the same two words,
 * computed over the UTF-16 code units decoded on the fly, so a `utf8` column digests like `plain`.
 */
function hashUtf8(b: Uint8Array, from: number, to: number, out: Int32Array, o: number): void {
  // ASCII (the usual case): one code unit per byte, one pass; else decode.
  const n = to - from;
  let a = 0x7a3f51c9 ^ n;
  let h = 0x1b873593 ^ Math.imul(n, 0x5bd1e995);
  let i = from;
  for (; i < to; i++) {
    const c = b[i];
    if (c >= 0x80) break;
    a = Math.imul(a ^ c, 0x01000193);
    a ^= a >>> 15;
    h = Math.imul(h ^ c, 0x5bd1e995);
    h ^= h >>> 13;
  }
  if (i === to) {
    out[o] = fmix32(a ^ Math.imul(h, 0x27d4eb2d));
    out[o + 1] = fmix32(h + 0x165667b1);
    return;
  }
  hashUtf8Decoded(b, from, to, out, o);
}

function hashUtf8Decoded(b: Uint8Array, from: number, to: number, out: Int32Array, o: number): void {
  let units = 0;
  for (let i = from; i < to; ) {
    const x = b[i];
    if (x < 0x80) (i += 1), (units += 1);
    else if (x < 0xe0) (i += 2), (units += 1);
    else if (x < 0xf0) (i += 3), (units += 1);
    else (i += 4), (units += 2);
  }
  let a = 0x7a3f51c9 ^ units;
  let h = 0x1b873593 ^ Math.imul(units, 0x5bd1e995);
  // The slow path (non-ASCII): one step per UTF-16 code unit, as hashString.
  const step = (c: number) => {
    a = Math.imul(a ^ c, 0x01000193);
    a ^= a >>> 15;
    h = Math.imul(h ^ c, 0x5bd1e995);
    h ^= h >>> 13;
  };
  for (let i = from; i < to; ) {
    const x = b[i];
    let cp: number;
    if (x < 0x80) (cp = x), (i += 1);
    else if (x < 0xe0) (cp = ((x & 0x1f) << 6) | (b[i + 1] & 0x3f)), (i += 2);
    else if (x < 0xf0) (cp = ((x & 0x0f) << 12) | ((b[i + 1] & 0x3f) << 6) | (b[i + 2] & 0x3f)), (i += 3);
    else (cp = ((x & 0x07) << 18) | ((b[i + 1] & 0x3f) << 12) | ((b[i + 2] & 0x3f) << 6) | (b[i + 3] & 0x3f)), (i += 4);
    if (cp < 0x10000) step(cp);
    else step(0xd800 + ((cp - 0x10000) >> 10)), step(0xdc00 + ((cp - 0x10000) & 0x3ff));
  }
  out[o] = fmix32(a ^ Math.imul(h, 0x27d4eb2d));
  out[o + 1] = fmix32(h + 0x165667b1);
}

/** Words per value of each type in the fused row-major path (every type; see the module doc). */
const FUSED_WORDS: Partial<Record<ColumnSchema['type'], number>> = { int32: 1, date: 1, bool: 1, float64: 2, string: 2, int64: 2, timestamp: 2, uuid: 4 };

const dictCache = new WeakMap<readonly string[], Int32Array>();

function dictHashes(dictionary: readonly string[]): Int32Array {
  let h = dictCache.get(dictionary);
  if (!h || h.length !== dictionary.length * 2) {
    h = new Int32Array(dictionary.length * 2);
    for (let i = 0; i < dictionary.length; i++) hashString(dictionary[i], h, 2 * i);
    // A dictionary reused across batches (arms, visits) is hashed once. Dictionaries must not be
    // mutated after they have been passed in a batch.
    dictCache.set(dictionary, h);
  }
  return h;
}

export class TableDigest {
  private l0 = 0;
  private l1 = 0;
  private l2 = 0;
  private l3 = 0;
  /** Rows added (or merged from TableDigest objects; a merged string does not carry a count). */
  rows = 0;
  /** Mix rows in WebAssembly when available (false: the JS loop; the digest is the same). */
  static wasm = true;
  /** Hash rows in one row-major pass where the column types allow (false: column by column; the digest is the same). */
  static fused = true;

  /** Whether the WebAssembly mixer loaded here. */
  static wasmAvailable(): boolean {
    return wasmMixer() !== undefined;
  }
  private a = new Int32Array(CHUNK);
  private b = new Int32Array(CHUNK);
  private c = new Int32Array(CHUNK);
  private d = new Int32Array(CHUNK);
  private w = new Int32Array(CHUNK * 2);
  /** Row-major words of a chunk (row index, then each column's), for the fused path. */
  private wm = new Int32Array(0);

  /** Adds every row of a batch. `schema` is the table's schema (decimals matter for float64). */
  add(batch: Batch, schema: readonly ColumnSchema[]): void {
    if (batch.columns.length !== schema.length) throw new Error(`digest: batch has ${batch.columns.length} columns, schema ${schema.length}`);
    const n = batch.length;
    for (let off = 0; off < n; off += CHUNK) this.addChunk(batch, schema, off, Math.min(CHUNK, n - off));
    this.rows += n;
  }

  /**
   * Every lane of a row hash is one chain h ← xorshift15(imul(h ^ word, M)) from its seed over the
   * row's words (row index lo, hi, then the columns'), so a chunk's words are laid out row by row
   * and each row is hashed in one pass with its 4 lanes in registers. A null has two words: chunks
   * with nulls in a column whose values have one word (int32, date, bool) or four (uuid) take the
   * column-by-column path.
   */
  private addChunk(batch: Batch, schema: readonly ColumnSchema[], off: number, m: number): void {
    if (!TableDigest.fused) return this.addChunkByColumn(batch, schema, off, m);
    let nw = 2;
    for (let col = 0; col < schema.length; col++) {
      const type = schema[col].type;
      const width = FUSED_WORDS[type];
      if (width === undefined) return this.addChunkByColumn(batch, schema, off, m);
      // A null has two words: where values have another number of words, nulls take the other path.
      if (width !== 2) {
        const nulls = batch.nulls?.[col];
        if (nulls) for (let i = 0; i < m; i++) if (nulls[off + i]) return this.addChunkByColumn(batch, schema, off, m);
      }
      nw += width;
    }
    const mx = TableDigest.wasm ? wasmMixer() : undefined;
    if (!mx && this.wm.length < m * nw) this.wm = new Int32Array(m * nw);
    const wm = mx ? mixerWords(mx, m * nw) : this.wm;
    const base = batch.start + off;
    for (let i = 0; i < m; i++) {
      const r = base + i;
      wm[i * nw] = r | 0;
      wm[i * nw + 1] = (r / TWO32) | 0;
    }
    let o = 2;
    for (let col = 0; col < schema.length; col++) {
      const data = batch.columns[col];
      const nulls = batch.nulls?.[col];
      const type = schema[col].type;
      if (type === 'int32' || type === 'date') {
        if (!(data instanceof Int32Array)) throw new Error(`digest: column ${schema[col].name} is not an Int32Array`);
        for (let i = 0; i < m; i++) wm[i * nw + o] = data[off + i];
        o += 1;
      } else if (type === 'int64' || type === 'timestamp') {
        if (!(data instanceof Float64Array)) throw new Error(`digest: column ${schema[col].name} is not a Float64Array`);
        int64Words(schema[col].name, data, off, m, nulls, wm, o, nw);
        o += 2;
      } else if (type === 'bool') {
        if (!(data instanceof Uint8Array)) throw new Error(`digest: column ${schema[col].name} is not a Uint8Array`);
        for (let i = 0; i < m; i++) wm[i * nw + o] = data[off + i] ? 1 : 0;
        o += 1;
      } else if (type === 'uuid') {
        if (!(data instanceof Uint8Array) || data.length < (off + m) * UUID_BYTES) throw new Error(`digest: column ${schema[col].name} is not a Uint8Array of 16 bytes per row`);
        for (let i = 0; i < m; i++) {
          let u = (off + i) * UUID_BYTES;
          const q = i * nw + o;
          for (let k = 0; k < 4; k++, u += 4) wm[q + k] = uuidWord(data, u);
        }
        o += 4;
      } else if (type === 'float64') {
        if (!(data instanceof Float64Array)) throw new Error(`digest: column ${schema[col].name} is not a Float64Array`);
        floatWords(data, schema[col].decimals, off, m, nulls, wm, o, nw);
        o += 2;
      } else {
        stringWords(data as StringColumn, off, m, nulls, wm, o, nw);
        o += 2;
      }
    }
    if (mx) {
      mixAcc.fill(0);
      mx.mix(16, m, nw, 0);
      this.l0 = (this.l0 + mixAcc[0]) | 0;
      this.l1 = (this.l1 + mixAcc[1]) | 0;
      this.l2 = (this.l2 + mixAcc[2]) | 0;
      this.l3 = (this.l3 + mixAcc[3]) | 0;
      return;
    }
    let s0 = this.l0, s1 = this.l1, s2 = this.l2, s3 = this.l3;
    for (let i = 0; i < m; i++) {
      let h0 = S0, h1 = S1, h2 = S2, h3 = S3;
      for (let p = i * nw, e = p + nw; p < e; p++) {
        const v = wm[p];
        let x = Math.imul(h0 ^ v, M0);
        h0 = x ^ (x >>> 15);
        x = Math.imul(h1 ^ v, M1);
        h1 = x ^ (x >>> 15);
        x = Math.imul(h2 ^ v, M2);
        h2 = x ^ (x >>> 15);
        x = Math.imul(h3 ^ v, M3);
        h3 = x ^ (x >>> 15);
      }
      s0 = (s0 + fmix32(h0)) | 0;
      s1 = (s1 + fmix32(h1)) | 0;
      s2 = (s2 + fmix32(h2)) | 0;
      s3 = (s3 + fmix32(h3)) | 0;
    }
    this.l0 = s0;
    this.l1 = s1;
    this.l2 = s2;
    this.l3 = s3;
  }

  /** The same digest, column by column over the chunk (any nulls). */
  private addChunkByColumn(batch: Batch, schema: readonly ColumnSchema[], off: number, m: number): void {
    const { a, b, c, d } = this;
    const base = batch.start + off;
    for (let i = 0; i < m; i++) {
      const r = base + i;
      const lo = r | 0;
      const hi = (r / TWO32) | 0;
      let x = Math.imul(S0 ^ lo, M0);
      x ^= x >>> 15;
      x = Math.imul(x ^ hi, M0);
      a[i] = x ^ (x >>> 15);
      x = Math.imul(S1 ^ lo, M1);
      x ^= x >>> 15;
      x = Math.imul(x ^ hi, M1);
      b[i] = x ^ (x >>> 15);
      x = Math.imul(S2 ^ lo, M2);
      x ^= x >>> 15;
      x = Math.imul(x ^ hi, M2);
      c[i] = x ^ (x >>> 15);
      x = Math.imul(S3 ^ lo, M3);
      x ^= x >>> 15;
      x = Math.imul(x ^ hi, M3);
      d[i] = x ^ (x >>> 15);
    }
    for (let col = 0; col < schema.length; col++) {
      const data = batch.columns[col];
      const nulls = batch.nulls?.[col];
      const s = schema[col];
      const type = s.type;
      if (type === 'int32' || type === 'date') {
        if (!(data instanceof Int32Array)) throw new Error(`digest: column ${s.name} is not an Int32Array`);
        this.words1(data, off, m, nulls);
      } else if (type === 'float64') {
        if (!(data instanceof Float64Array)) throw new Error(`digest: column ${s.name} is not a Float64Array`);
        floatWords(data, s.decimals, off, m, nulls, this.w, 0, 2);
        this.words2(m);
      } else if (type === 'string') {
        stringWords(data as StringColumn, off, m, nulls, this.w, 0, 2);
        this.words2(m);
      } else if (type === 'int64' || type === 'timestamp') {
        if (!(data instanceof Float64Array)) throw new Error(`digest: column ${s.name} is not a Float64Array`);
        int64Words(s.name, data, off, m, nulls, this.w, 0, 2);
        this.words2(m);
      } else if (type === 'bool') {
        if (!(data instanceof Uint8Array)) throw new Error(`digest: column ${s.name} is not a Uint8Array`);
        this.boolWords(data, off, m, nulls);
      } else if (type === 'uuid') {
        if (!(data instanceof Uint8Array) || data.length < (off + m) * UUID_BYTES) {
          throw new Error(`digest: column ${s.name} is not a Uint8Array of 16 bytes per row`);
        }
        this.uuidWords(data, off, m, nulls);
      } else {
        throw new Error(`digest: column ${s.name} has unsupported type ${JSON.stringify(type)}`);
      }
    }
    let s0 = this.l0, s1 = this.l1, s2 = this.l2, s3 = this.l3;
    for (let i = 0; i < m; i++) {
      s0 = (s0 + fmix32(a[i])) | 0;
      s1 = (s1 + fmix32(b[i])) | 0;
      s2 = (s2 + fmix32(c[i])) | 0;
      s3 = (s3 + fmix32(d[i])) | 0;
    }
    this.l0 = s0;
    this.l1 = s1;
    this.l2 = s2;
    this.l3 = s3;
  }

  private boolWords(data: Uint8Array, off: number, m: number, nulls: Uint8Array | undefined): void {
    const { a, b, c, d } = this;
    for (let i = 0; i < m; i++) {
      if (nulls?.[off + i]) {
        mixRow(a, b, c, d, i, NULL_LO);
        mixRow(a, b, c, d, i, NULL_HI);
      } else mixRow(a, b, c, d, i, data[off + i] ? 1 : 0);
    }
  }

  private uuidWords(data: Uint8Array, off: number, m: number, nulls: Uint8Array | undefined): void {
    const { a, b, c, d } = this;
    for (let i = 0; i < m; i++) {
      if (nulls?.[off + i]) {
        mixRow(a, b, c, d, i, NULL_LO);
        mixRow(a, b, c, d, i, NULL_HI);
        continue;
      }
      let o = (off + i) * UUID_BYTES;
      for (let k = 0; k < 4; k++, o += 4) {
        mixRow(a, b, c, d, i, uuidWord(data, o));
      }
    }
  }

  /** Mixes one word per row (int32), or the two null words where null. */
  private words1(data: Int32Array, off: number, m: number, nulls: Uint8Array | undefined): void {
    const { a, b, c, d } = this;
    if (nulls) {
      let any = false;
      for (let i = 0; i < m; i++) if (nulls[off + i]) any = true;
      if (any) {
        // Rows with a value: one word; null rows: two words.
        for (let i = 0; i < m; i++) {
          if (nulls[off + i]) {
            mixRow(a, b, c, d, i, NULL_LO);
            mixRow(a, b, c, d, i, NULL_HI);
          } else mixRow(a, b, c, d, i, data[off + i]);
        }
        return;
      }
    }
    // mixRow, inlined on purpose: the hot path of int32 columns without nulls.
    for (let i = 0; i < m; i++) {
      const v = data[off + i];
      let x = Math.imul(a[i] ^ v, M0);
      a[i] = x ^ (x >>> 15);
      x = Math.imul(b[i] ^ v, M1);
      b[i] = x ^ (x >>> 15);
      x = Math.imul(c[i] ^ v, M2);
      c[i] = x ^ (x >>> 15);
      x = Math.imul(d[i] ^ v, M3);
      d[i] = x ^ (x >>> 15);
    }
  }

  /** Mixes the two words per row held in this.w. */
  private words2(m: number): void {
    const { a, b, c, d, w } = this;
    for (let i = 0; i < m; i++) {
      const v = w[2 * i];
      const u = w[2 * i + 1];
      let x = Math.imul(a[i] ^ v, M0);
      x ^= x >>> 15;
      x = Math.imul(x ^ u, M0);
      a[i] = x ^ (x >>> 15);
      x = Math.imul(b[i] ^ v, M1);
      x ^= x >>> 15;
      x = Math.imul(x ^ u, M1);
      b[i] = x ^ (x >>> 15);
      x = Math.imul(c[i] ^ v, M2);
      x ^= x >>> 15;
      x = Math.imul(x ^ u, M2);
      c[i] = x ^ (x >>> 15);
      x = Math.imul(d[i] ^ v, M3);
      x ^= x >>> 15;
      x = Math.imul(x ^ u, M3);
      d[i] = x ^ (x >>> 15);
    }
  }

  /** Adds another digest (object or its text form) into this one. */
  merge(o: TableDigest | string): void {
    const x = typeof o === 'string' ? TableDigest.from(o) : o;
    this.l0 = (this.l0 + x.l0) | 0;
    this.l1 = (this.l1 + x.l1) | 0;
    this.l2 = (this.l2 + x.l2) | 0;
    this.l3 = (this.l3 + x.l3) | 0;
    this.rows += x.rows;
  }

  toString(): string {
    const hex = (v: number) => (v >>> 0).toString(16).padStart(8, '0');
    return `sf1-${hex(this.l0)}${hex(this.l1)}${hex(this.l2)}${hex(this.l3)}`;
  }

  toJSON(): string {
    return this.toString();
  }

  static from(s: string): TableDigest {
    const m = /^sf1-([0-9a-f]{32})$/.exec(s);
    if (!m) throw new Error(`not a table digest: ${JSON.stringify(s)}`);
    const t = new TableDigest();
    t.l0 = parseInt(m[1].slice(0, 8), 16) | 0;
    t.l1 = parseInt(m[1].slice(8, 16), 16) | 0;
    t.l2 = parseInt(m[1].slice(16, 24), 16) | 0;
    t.l3 = parseInt(m[1].slice(24, 32), 16) | 0;
    return t;
  }

  /** The digest of no rows. */
  static readonly EMPTY = 'sf1-00000000000000000000000000000000';
}

/** Two words per row of a float64 column into out[o + i·stride], out[o + i·stride + 1]. */
function floatWords(data: Float64Array, decimals: number | undefined, off: number, m: number, nulls: Uint8Array | undefined, out: Int32Array, o: number, stride: number): void {
  if (decimals !== undefined) {
    const p = 10 ** decimals;
    for (let i = 0; i < m; i++) {
      const x = Math.round(data[off + i] * p);
      const q = o + i * stride;
      const lo = x | 0;
      if (lo === x) {
        out[q] = lo;
        out[q + 1] = x < 0 ? -1 : 0; // = floor(x / 2^32) for an int32
      } else if (x - x === 0 && Math.abs(x) <= Number.MAX_SAFE_INTEGER) {
        out[q] = lo;
        out[q + 1] = Math.floor(x / TWO32) | 0;
      } else bitsWords(data[off + i], out, q);
    }
  } else {
    for (let i = 0; i < m; i++) bitsWords(data[off + i], out, o + i * stride);
  }
  if (nulls) for (let i = 0; i < m; i++) if (nulls[off + i]) (out[o + i * stride] = NULL_LO), (out[o + i * stride + 1] = NULL_HI);
}

/** Two words per row of an int64 / timestamp column (64-bit two's complement: low, high) into out[o + i·stride], out[o + i·stride + 1]; a value that is not a safe integer throws. */
function int64Words(name: string, data: Float64Array, off: number, m: number, nulls: Uint8Array | undefined, out: Int32Array, o: number, stride: number): void {
  for (let i = 0; i < m; i++) {
    const q = o + i * stride;
    const x = data[off + i];
    if (nulls?.[off + i]) (out[q] = NULL_LO), (out[q + 1] = NULL_HI);
    else if (Number.isSafeInteger(x)) (out[q] = x | 0), (out[q + 1] = Math.floor(x / TWO32) | 0);
    else throw new Error(`digest: column ${name}: ${x} is not a safe integer`);
  }
}

/** The uuid bytes data[u, u + 4) as one word, read big-endian. */
function uuidWord(data: Uint8Array, u: number): number {
  return (data[u] << 24) | (data[u + 1] << 16) | (data[u + 2] << 8) | data[u + 3];
}

/** Two words per row of a string column (see hashString) into out[o + i·stride], out[o + i·stride + 1]. */
function stringWords(col: StringColumn, off: number, m: number, nulls: Uint8Array | undefined, out: Int32Array, o: number, stride: number): void {
  if (col.kind === 'dict') {
    const h = dictHashes(col.dictionary);
    const codes = col.codes;
    const size = col.dictionary.length;
    for (let i = 0; i < m; i++) {
      const k = codes[off + i];
      if (k >= size) {
        if (nulls?.[off + i]) continue;
        throw new Error(`digest: dictionary code ${k} out of range (${size})`);
      }
      out[o + i * stride] = h[2 * k];
      out[o + i * stride + 1] = h[2 * k + 1];
    }
  } else if (col.kind === 'plain') {
    const values = col.values;
    for (let i = 0; i < m; i++) {
      const s = values[off + i];
      if (typeof s === 'string') hashString(s, out, o + i * stride);
      else (out[o + i * stride] = NULL_LO), (out[o + i * stride + 1] = NULL_HI);
    }
  } else {
    const { bytes, offsets } = col;
    for (let i = 0; i < m; i++) hashUtf8(bytes, offsets[off + i], offsets[off + i + 1], out, o + i * stride);
  }
  if (nulls) for (let i = 0; i < m; i++) if (nulls[off + i]) (out[o + i * stride] = NULL_LO), (out[o + i * stride + 1] = NULL_HI);
}

const f64 = new Float64Array(1);
const u32v = new Int32Array(f64.buffer);

function bitsWords(v: number, w: Int32Array, o: number): void {
  if (v === 0) {
    w[o] = 0;
    w[o + 1] = 0;
  } else if (v !== v) {
    w[o] = 0;
    w[o + 1] = NAN_HI;
  } else {
    f64[0] = v;
    w[o] = u32v[0];
    w[o + 1] = u32v[1];
  }
}

function mixRow(a: Int32Array, b: Int32Array, c: Int32Array, d: Int32Array, i: number, v: number): void {
  let x = Math.imul(a[i] ^ v, M0);
  a[i] = x ^ (x >>> 15);
  x = Math.imul(b[i] ^ v, M1);
  b[i] = x ^ (x >>> 15);
  x = Math.imul(c[i] ^ v, M2);
  c[i] = x ^ (x >>> 15);
  x = Math.imul(d[i] ^ v, M3);
  d[i] = x ^ (x >>> 15);
}

/** Digest of rows [start, end) of a generator, in batches of `batchRows` (any size gives the same result). */
export function digestRange(gen: { schema: ColumnSchema[]; batch(s: number, e: number): Batch }, start: number, end: number, batchRows = 65536): TableDigest {
  const t = new TableDigest();
  for (let s = start; s < end; s += batchRows) t.add(gen.batch(s, Math.min(end, s + batchRows)), gen.schema);
  return t;
}
