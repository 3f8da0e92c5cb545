import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteBuf } from '../src/encoders/bytes.js';
import { bitWidth, encodeHybrid } from '../src/encoders/rle.js';

/** Reference decoder of the Parquet RLE / bit-packed hybrid (no length prefix), values as numbers. */
function decodeHybrid(buf: Uint8Array, n: number, w: number): { values: number[]; rleRuns: number; packedRuns: number } {
  const values: number[] = [];
  let p = 0;
  let rleRuns = 0;
  let packedRuns = 0;
  const varint = () => {
    let x = 0;
    let mul = 1;
    for (;;) {
      const b = buf[p++];
      x += (b & 0x7f) * mul;
      if (b < 0x80) return x;
      mul *= 128;
    }
  };
  while (values.length < n) {
    assert.ok(p < buf.length, 'ran out of bytes');
    const h = varint();
    if (h % 2 === 0) {
      rleRuns++;
      let v = 0;
      for (let k = 0; k < Math.ceil(w / 8); k++) v += buf[p++] * 2 ** (8 * k);
      for (let k = 0; k < h / 2; k++) values.push(v);
    } else {
      packedRuns++;
      const count = ((h - 1) / 2) * 8;
      let bit = p * 8;
      for (let k = 0; k < count; k++) {
        let v = 0;
        for (let j = 0; j < w; j++, bit++) if (buf[bit >> 3] & (1 << (bit & 7))) v += 2 ** j;
        values.push(v);
      }
      p += ((h - 1) / 2) * w;
    }
  }
  assert.equal(p, buf.length, 'trailing bytes');
  return { values: values.slice(0, n), rleRuns, packedRuns };
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

describe('RLE / bit-packed hybrid', () => {
  it('bitWidth', () => {
    assert.deepEqual([0, 1, 2, 3, 255, 256, 65535, 65536, 2 ** 24 - 1, 2 ** 24, 2 ** 31, 2 ** 32 - 1].map(bitWidth), [1, 1, 2, 2, 8, 9, 16, 17, 24, 25, 32, 32]);
  });

  // Every width from 1 to 32, so the byte-wise path (w <= 24), the wide path (w > 24), and RLE
  // runs with 1 to 4 value bytes are all decoded back.
  for (let w = 1; w <= 32; w++) {
    it(`width ${w}: random values, runs and odd lengths decode back`, () => {
      const r = rng(w);
      const max = 2 ** w - 1;
      for (const n of [1, 7, 8, 9, 63, 64, 1000, 4099]) {
        const values: number[] = [];
        while (values.length < n) {
          const v = r() < 0.1 ? max : Math.floor(r() * (max + 1));
          const run = r() < 0.3 ? 1 + Math.floor(r() * 40) : 1;
          for (let k = 0; k < run && values.length < n; k++) values.push(v);
        }
        const out = new ByteBuf(16);
        encodeHybrid(out, Uint32Array.from(values), n, w);
        const got = decodeHybrid(out.view(), n, w);
        assert.deepEqual(got.values, values, `n=${n}`);
        if (n >= 1000) assert.ok(got.rleRuns > 0 && got.packedRuns > 0, `n=${n}: both run kinds used`);
      }
    });
  }

  it('a long run becomes an RLE run after the pending values are padded to a group of 8 from it', () => {
    const values = [1, 2, 3, ...Array(100).fill(70000), 4, 5];
    const out = new ByteBuf(16);
    encodeHybrid(out, values, values.length, 17);
    const got = decodeHybrid(out.view(), values.length, 17);
    assert.deepEqual(got.values, values);
    // [1, 2, 3 + five of the run] packed (1 + 17 bytes), RLE run of 95 (2 + 3), [4, 5] packed (1 + 17).
    assert.deepEqual([got.packedRuns, got.rleRuns, out.pos], [2, 1, 41]);
  });
});
