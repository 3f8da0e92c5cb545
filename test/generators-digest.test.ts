import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TableDigest, digestRange } from '../src/data/digest.js';
import { createTrialTable, resolveTrialSpec, rulesModel } from '../src/kinds/trial/lib.js';
import type { Batch, ColumnSchema } from '../src/data/batch.js';

function rulesGen(seed: number, nPerArm = 1000) {
  const spec = resolveTrialSpec({ method: 'rules', nPerArm, seed });
  return createTrialTable(spec, rulesModel(spec.visits, spec.arms));
}

test('the digest does not depend on partitioning or merge order', () => {
  const gen = rulesGen(11);
  const whole = digestRange(gen, 0, gen.rows, gen.rows).toString();
  assert.match(whole, /^sf1-[0-9a-f]{32}$/);
  for (const size of [1, 7, 919, 4096]) assert.equal(digestRange(gen, 0, gen.rows, size).toString(), whole, `batch size ${size}`);
  // Shards digested separately, merged in another order, partly through text.
  const cuts = [0, 1234, 1235, 5000, 7777, gen.rows];
  const parts = cuts.slice(1).map((end, i) => digestRange(gen, cuts[i], end, 333));
  const merged = new TableDigest();
  parts.reverse().forEach((p, i) => merged.merge(i % 2 ? p.toString() : p));
  assert.equal(merged.toString(), whole);
  assert.equal(TableDigest.from(whole).toString(), whole);
  assert.equal(new TableDigest().toString(), TableDigest.EMPTY);
});

test('the digest changes with the seed, a single value, or a moved row', () => {
  const a = rulesGen(11);
  const b = rulesGen(12);
  assert.notEqual(digestRange(a, 0, a.rows).toString(), digestRange(b, 0, b.rows).toString());

  const schema: ColumnSchema[] = [
    { name: 'id', type: 'int32' },
    { name: 'x', type: 'float64', decimals: 1 },
    { name: 'y', type: 'float64' },
    { name: 's', type: 'string' },
  ];
  const mk = (ids: number[], xs: number[], ys: number[], ss: string[], nulls?: Batch['nulls']): Batch => ({
    start: 0,
    length: ids.length,
    columns: [Int32Array.from(ids), Float64Array.from(xs), Float64Array.from(ys), { kind: 'plain', values: ss }],
    nulls,
  });
  const d = (b: Batch) => {
    const t = new TableDigest();
    t.add(b, schema);
    return t.toString();
  };
  const base = d(mk([1, 2], [36.7, 36.8], [0.5, 1e300], ['a', 'b']));
  assert.notEqual(d(mk([1, 3], [36.7, 36.8], [0.5, 1e300], ['a', 'b'])), base);
  assert.notEqual(d(mk([1, 2], [36.7, 36.9], [0.5, 1e300], ['a', 'b'])), base);
  assert.notEqual(d(mk([1, 2], [36.7, 36.8], [0.5, 1e300], ['a', 'c'])), base);
  assert.notEqual(d(mk([2, 1], [36.8, 36.7], [1e300, 0.5], ['b', 'a'])), base, 'swapped rows differ (row index is hashed)');
  // Decimals: values equal after rounding to the declared decimals hash equally; −0 equals 0.
  assert.equal(d(mk([1, 2], [36.7000000001, 36.8], [0.5, 1e300], ['a', 'b'])), base);
  assert.equal(d(mk([0], [0], [-0], [''])), d(mk([0], [0], [0], [''])));
  // Nulls are distinct from every value, including 0 and the empty string.
  const nulls = [new Uint8Array([1]), new Uint8Array([1]), new Uint8Array([1]), new Uint8Array([1])];
  assert.notEqual(d(mk([0], [0], [0], [''], nulls)), d(mk([0], [0], [0], [''])));
  for (let c = 0; c < 4; c++) {
    const one = [0, 1, 2, 3].map((k) => (k === c ? new Uint8Array([1]) : undefined));
    assert.notEqual(d(mk([0], [0], [0], [''], one)), d(mk([0], [0], [0], [''])), `null in column ${c}`);
  }
  // Dictionary and plain string columns with the same values hash the same.
  const dictBatch: Batch = {
    start: 0,
    length: 2,
    columns: [Int32Array.from([1, 2]), Float64Array.from([36.7, 36.8]), Float64Array.from([0.5, 1e300]), { kind: 'dict', dictionary: ['b', 'a'], codes: Uint32Array.from([1, 0]) }],
  };
  assert.equal(d(dictBatch), base);
});

test('WebAssembly and JS row mixing give the same digest, also for wide tables (memory grows) and int32 nulls', () => {
  const gen = rulesGen(5, 3000);
  const wide: ColumnSchema[] = Array.from({ length: 150 }, (_, c) => ({ name: `c${c}`, type: c % 3 === 0 ? 'int32' : c % 3 === 1 ? 'float64' : 'string', nullable: true }));
  const wideBatch = (start: number, n: number, nulls: boolean): Batch => ({
    start,
    length: n,
    columns: wide.map((s, c) =>
      s.type === 'int32' ? Int32Array.from({ length: n }, (_, i) => i * c) : s.type === 'float64' ? Float64Array.from({ length: n }, (_, i) => i / (c + 1)) : { kind: 'plain', values: Array.from({ length: n }, (_, i) => `${c}:${i % 7}`) },
    ),
    nulls: nulls ? wide.map((_, c) => Uint8Array.from({ length: n }, (_, i) => ((i + c) % 11 === 0 ? 1 : 0))) : undefined,
  });
  const run = (wasm: boolean) => {
    TableDigest.wasm = wasm;
    try {
      const w = new TableDigest();
      w.add(wideBatch(0, 5000, false), wide);
      w.add(wideBatch(5000, 3000, true), wide);
      return [digestRange(gen, 0, gen.rows, 4099).toString(), w.toString()];
    } finally {
      TableDigest.wasm = true;
    }
  };
  assert.ok(TableDigest.wasmAvailable(), 'WebAssembly SIMD loads on this Node');
  assert.deepEqual(run(true), run(false));
});
