/**
 * Page compression levels reach the codec: zstd through @mongodb-js/zstd's native binding (its
 * 1.2.2 wrapper dropped the level, so every level gave level 3's bytes), gzip through zlib.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { decompress } from '@mongodb-js/zstd';
import { DEFAULT_LEVEL, compressPage } from '../src/encoders/compress.js';

// Text-like bytes: words from a small list in a pseudo-random order (levels differ on these).
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'];
let x = 12345;
const page = Buffer.from(Array.from({ length: 60_000 }, () => WORDS[(x = (Math.imul(x, 1103515245) + 12345) >>> 0) % WORDS.length]! + String(x % 97)).join(' '));

describe('page compression levels', () => {
  it('zstd: levels 1, 3 and 19 give different bytes, each decompressing to the page; the default is level 1', async () => {
    const sizes = new Map<number, number>();
    for (const level of [1, 3, 19]) {
      const z = await compressPage('zstd', page, level);
      assert.deepEqual(await decompress(z), page);
      sizes.set(level, z.length);
    }
    assert.ok(sizes.get(19)! < sizes.get(3)! && sizes.get(3)! < sizes.get(1)!, JSON.stringify([...sizes]));
    assert.equal(DEFAULT_LEVEL.zstd, 1);
    assert.deepEqual(await compressPage('zstd', page), await compressPage('zstd', page, 1));
  });

  it('gzip: level 1 and 9 differ; the default is level 4', async () => {
    const g1 = await compressPage('gzip', page, 1);
    const g9 = await compressPage('gzip', page, 9);
    assert.deepEqual(gunzipSync(g1), page);
    assert.ok(g9.length < g1.length);
    assert.deepEqual(await compressPage('gzip', page), await compressPage('gzip', page, DEFAULT_LEVEL.gzip));
  });
});
