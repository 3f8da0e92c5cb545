/**
 * Figures the docs state about the code are the code's: the Parquet row group size, the default
 * shard size and the shardRows range; and README.md and docs/ link only to files of this
 * repository (a fresh clone has them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ROW_GROUP_ROWS } from '../src/encoders/parquet.js';
import { defaultShardRows } from '../src/api/jobs/validate.js';
import { SHARD_ROWS_MAX, SHARD_ROWS_MIN } from '../src/api/jobs/schema.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const read = (p: string) => fs.readFileSync(path.join(root, p), 'utf8');
/** `131,072` → 131072; `4M` → 4000000; `500K` → 500000. */
const num = (s: string) => Number(s.replace(/,/g, '').replace(/K$/, '000').replace(/M$/, '000000'));

test('docs/PARQUET.md and docs/BENCHMARKS.md state the row group size of src/encoders/parquet.ts', () => {
  const parquet = /`DEFAULT_ROW_GROUP_ROWS` = ([\d,]+) rows/.exec(read('docs/PARQUET.md'));
  assert.ok(parquet, 'PARQUET.md names DEFAULT_ROW_GROUP_ROWS');
  assert.equal(num(parquet[1]!), DEFAULT_ROW_GROUP_ROWS);
  const bench = /Parquet row groups of ([\d,]+) rows/.exec(read('docs/BENCHMARKS.md'));
  assert.ok(bench, 'BENCHMARKS.md states the row group size of its runs');
  assert.equal(num(bench[1]!), DEFAULT_ROW_GROUP_ROWS);
});

test('docs/BENCHMARKS.md and README.md state the default shard size: its floor, ceiling and divisor', () => {
  const bench = /`defaultShardRows\(rows\) = min\((\d+[KM]), max\((\d+[KM]),\s*⌈rows\/(\d+)⌉\)\)`/.exec(read('docs/BENCHMARKS.md'));
  assert.ok(bench, 'BENCHMARKS.md gives defaultShardRows');
  const readme = /default: total\/(\d+) clamped to ([\d,]+) – ([\d,]+)\)/.exec(read('README.md'));
  assert.ok(readme, 'README.md gives the default shardRows');
  for (const [ceiling, floor, divisor] of [
    [bench[1]!, bench[2]!, bench[3]!],
    [readme[3]!, readme[2]!, readme[1]!],
  ].map((xs) => xs.map(num))) {
    assert.equal(defaultShardRows(1), floor, 'the floor');
    assert.equal(defaultShardRows(1e12), ceiling, 'the ceiling');
    const between = Math.round((floor! + ceiling!) / 2);
    assert.equal(defaultShardRows(between * divisor!), between, 'total / divisor in between');
  }
});

test('README.md states the shardRows range of the API', () => {
  const m = /`shardRows` \(([\d,]+) – ([\d,]+);/.exec(read('README.md'));
  assert.ok(m);
  assert.deepEqual([num(m[1]!), num(m[2]!)], [SHARD_ROWS_MIN, SHARD_ROWS_MAX]);
});

test('README.md and docs/ link only to files inside the repository', () => {
  const pages = ['README.md', ...fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  for (const page of pages) {
    const text = read(page);
    assert.doesNotMatch(text, /\.\.\/shared\//, `${page} points at ../shared/, which is not in the repository`);
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!.split('#')[0]!;
      if (!target || /^[a-z]+:/i.test(target)) continue;
      const full = path.resolve(root, path.dirname(page), target);
      assert.ok(full.startsWith(root + path.sep), `${page}: ${m[1]} leaves the repository`);
      assert.ok(fs.existsSync(full), `${page}: ${m[1]} does not exist`);
    }
  }
});

test('docs/PARQUET.md and docs/BENCHMARKS.md state the default zstd page level of src/encoders/compress.ts', async () => {
  const { DEFAULT_LEVEL } = await import('../src/encoders/compress.js');
  const parquet = /codecs: zstd \(level (\d+)/.exec(read('docs/PARQUET.md'));
  assert.ok(parquet, 'PARQUET.md states the zstd level');
  assert.equal(Number(parquet[1]), DEFAULT_LEVEL.zstd);
  const bench = /131,072 rows, zstd level (\d+)/.exec(read('docs/BENCHMARKS.md'));
  assert.ok(bench, 'BENCHMARKS.md states the zstd level of its runs');
  assert.equal(Number(bench[1]), DEFAULT_LEVEL.zstd);
});
