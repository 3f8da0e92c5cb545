/**
 * Pins the generated values: SHA-256 of every decoded row (strings, integers, float bits) and the
 * table digest, for each method. A faster generator or digest must leave these unchanged. Re-pinned
 * (deliberately) for issue 13: values are sampled from truncated normals instead of clamped.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { TableDigest } from '../src/data/digest.js';
import { stringAt, type Batch, type ColumnSchema, type StringColumn, type TableGenerator } from '../src/data/batch.js';
import { resolveTrialSpec, trialGenerator, type TrialSpec } from '../src/kinds/trial/lib.js';
import { PILOT_VITALS_CSV_PATH, pilotModelFromCsv } from '../src/kinds/trial/pilot.js';
import { kernelOptions, trialKernel } from '../src/kinds/trial/kernel.js';

const pilot = pilotModelFromCsv(readFileSync(PILOT_VITALS_CSV_PATH, 'utf8'));

/** SHA-256 over rows [start, end) (decoded values, in batches of batchRows) and their digest. */
function fingerprint(gen: TableGenerator, start: number, end: number, batchRows: number): { sha: string; digest: string } {
  const h = createHash('sha256');
  const d = new TableDigest();
  for (let s = start; s < end; s += batchRows) {
    const b = gen.batch(s, Math.min(end, s + batchRows));
    d.add(b, gen.schema);
    for (const c of b.columns) {
      if (c instanceof Int32Array || c instanceof Float64Array) {
        h.update(new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
        continue;
      }
      const sc = c as StringColumn;
      const vals = Array.from({ length: b.length }, (_, i) => stringAt(sc, i));
      h.update(vals.join('\n') + '\n');
    }
  }
  return { sha: createHash('sha256').update(h.digest()).digest('hex').slice(0, 32), digest: d.toString() };
}

const CASES: { name: string; spec: Partial<TrialSpec>; start: number; end: number; batch: number; sha: string; digest: string }[] = [
  { name: 'mvn 1M', spec: { method: 'mvn', nPerArm: 125_000, seed: 20240601 }, start: 0, end: 1_000_000, batch: 65_536, 
    sha: '49c4e1dc6492350f30db18d6743919d7', digest: 'sf1-68c21912aeb91eab937cc92db9775358' },
  { name: 'mvn odd batches', spec: { method: 'mvn', nPerArm: 125_000, seed: 20240601 }, start: 3, end: 200_003, batch: 7_919, 
    sha: 'a827957c75f15f620bb02757b8037820', digest: 'sf1-68c1a1918ecbe02766d5bb502e6a0742' },
  { name: 'mvn 100M tail, 8-digit IDs', spec: { method: 'mvn', nPerArm: 12_500_000, seed: 20240601 }, start: 99_800_001, end: 100_000_000, batch: 65_536, 
    sha: 'c8f7b88ad49cdda53e0f2d1b281e640f', digest: 'sf1-09a7765a68ec72cf692c88fd6a931207' },
  { name: 'mvn extreme effect, 3 visits', spec: { method: 'mvn', nPerArm: 40_000, seed: 2 ** 40 + 17, targetEffect: -60, visits: ['Baseline', 'Week 4', 'Week 12'] }, start: 0, end: 240_000, batch: 65_536, 
    sha: 'c7fd1f0e92a5a9f30449f702c8aa6b55', digest: 'sf1-38e83127ee4099f441a28f67688d0e41' },
  { name: 'bootstrap', spec: { method: 'bootstrap', nPerArm: 50_000, seed: 7 }, start: 0, end: 400_000, batch: 65_536, 
    sha: 'cd7ea2a4cd614782f409185aaaee4755', digest: 'sf1-a0f9573cd7de56c4cfbe1f01f7c3b756' },
  { name: 'rules', spec: { method: 'rules', nPerArm: 50_000, seed: 7 }, start: 0, end: 400_000, batch: 65_536, 
    sha: 'f7650030a042a17b465033a836f9e45f', digest: 'sf1-0aea050123a060173a3c2a6bcd70a143' },
];

for (const c of CASES) {
  test(`golden values: ${c.name}`, () => {
    const gen = trialGenerator(resolveTrialSpec(c.spec), pilot);
    const got = fingerprint(gen, c.start, c.end, c.batch);
    if (process.env.GOLDEN_PRINT) console.log(JSON.stringify({ name: c.name, ...got }));
    assert.deepEqual(got, { sha: c.sha, digest: c.digest });
  });
}

/** Digests of batches the trial generator never makes: nulls of every type, plain strings, raw floats. */
function mixedBatch(start: number, n: number): { batch: Batch; schema: ColumnSchema[] } {
  const schema: ColumnSchema[] = [
    { name: 'i', type: 'int32', nullable: true },
    { name: 'x', type: 'float64', decimals: 2, nullable: true },
    { name: 'y', type: 'float64', nullable: true },
    { name: 's', type: 'string', nullable: true },
    { name: 'd', type: 'string', nullable: true },
  ];
  const specials = [0, -0, NaN, Infinity, -Infinity, 1e300, -1e-300, 2 ** 53 + 2, 0.125];
  const i32 = new Int32Array(n);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const s: string[] = [];
  const codes = new Uint32Array(n);
  const nulls = [0, 1, 2, 3, 4].map(() => new Uint8Array(n));
  for (let k = 0; k < n; k++) {
    const r = start + k;
    i32[k] = Math.imul(r, 0x9e3779b1);
    x[k] = r % 97 === 0 ? specials[r % specials.length] : (r * 0.731) % 1000;
    y[k] = r % 13 === 0 ? specials[r % specials.length] : Math.sin(r) * 1e6;
    s.push(r % 11 === 0 ? '' : `v${r % 1000}é${'z'.repeat(r % 5)}`);
    codes[k] = r % 3;
    for (let c = 0; c < 5; c++) nulls[c][k] = (r * (c + 3)) % 17 === 0 ? 1 : 0;
  }
  const batch: Batch = {
    start,
    length: n,
    columns: [i32, x, y, { kind: 'plain', values: s }, { kind: 'dict', dictionary: ['a', 'bb', 'ccc'], codes }],
    nulls,
  };
  return { batch, schema };
}

test('golden digest: nulls of every type, plain strings, raw floats, specials; with and without nulls', () => {
  const withNulls = new TableDigest();
  const without = new TableDigest();
  for (const [start, n] of [[0, 3000], [3000, 1], [3001, 5003], [2 ** 40, 2100]]) {
    const { batch, schema } = mixedBatch(start, n);
    withNulls.add(batch, schema);
    without.add({ ...batch, nulls: undefined }, schema);
  }
  if (process.env.GOLDEN_PRINT) console.log(JSON.stringify({ withNulls: withNulls.toString(), without: without.toString() }));
  assert.deepEqual({ withNulls: withNulls.toString(), without: without.toString() }, { withNulls: 'sf1-f08c12fab97f3e90c64a4b0501e516e5', without: 'sf1-9ee25ea58ea4013b874dcce3358d0ce5' });
});

test('the WebAssembly kernel and the JS loops give identical rows (visits 1 and 52, rows past 2^32, clamping, odd batches)', () => {
  assert.ok(trialKernel(), 'WebAssembly SIMD loads on this Node');
  const many = Array.from({ length: 52 }, (_, i) => `V${i}`);
  const specs: { spec: Partial<TrialSpec>; ranges: [number, number][] }[] = [
    { spec: { method: 'mvn', nPerArm: 3000, seed: 1, visits: ['Baseline'] }, ranges: [[0, 6000], [17, 4117]] },
    { spec: { method: 'rules', nPerArm: 400, seed: 2, visits: many }, ranges: [[0, 41_600], [5, 9001]] },
    { spec: { method: 'mvn', nPerArm: 1e9, seed: 3 }, ranges: [[8e9 - 10_000, 8e9], [2 ** 32 - 4100, 2 ** 32 + 4100]] },
    { spec: { method: 'mvn', nPerArm: 5000, seed: 4, targetEffect: 80 }, ranges: [[0, 40_000]] },
    { spec: { method: 'bootstrap', nPerArm: 5000, seed: 5 }, ranges: [[3, 39_999]] },
  ];
  for (const { spec, ranges } of specs) {
    const gen = trialGenerator(resolveTrialSpec(spec), spec.method === 'rules' ? undefined : pilot);
    for (const [a, b] of ranges) {
      for (const step of [b - a, 4096, 997]) {
        const got: string[] = [];
        for (const on of [true, false]) {
          kernelOptions.enabled = on;
          try {
            got.push(fingerprint(gen, a, b, step).sha);
          } finally {
            kernelOptions.enabled = true;
          }
        }
        assert.equal(got[0], got[1], `${JSON.stringify(spec)} rows ${a}–${b} in batches of ${step}`);
      }
    }
  }
});

test('relational: table digests pinned for the bench spec and the engine suite\'s case spec (rows, keys, refs, names, emails, patterns, text, uuids, dates, timestamps, numbers, nulls)', async () => {
  const { createRelationalTables, DEFAULT_LIMITS, normalizeRelational } = await import('../src/kinds/relational/lib.js');
  const { RelationalSpecSchema } = await import('../src/kinds/relational/schema.js');
  const { benchSpec } = await import('../bench/relational-spec.js');
  const { relationalCaseSpec } = await import('./support/engine-cases.js');
  const digests = (body: unknown) =>
    createRelationalTables(normalizeRelational(RelationalSpecSchema.parse(body) as never, DEFAULT_LIMITS).resolved).tables.map((g) => {
      const d = new TableDigest();
      for (let s = 0; s < g.rows; s += 65_536) d.add(g.batch(s, Math.min(g.rows, s + 65_536)), g.schema);
      return `${g.table} ${g.rows} ${d.toString()}`;
    });
  // The bench spec's pins were computed by the code before batch recycling and the poisson table (49f4bcf).
  assert.deepEqual(digests(benchSpec(200_000)), [
    'products 10000 sf1-09763bcfffca6beb6fb599e5bb1bc1d1',
    'customers 20000 sf1-2ffd9915604bea7ae5271b49b40f1f15',
    'orders 59706 sf1-3c7cbbafdb2134e23bad044a17a15da2',
    'order_items 119513 sf1-96bc6add4b7a9303df22a5de6fdd9826',
  ]);
  assert.deepEqual(digests(relationalCaseSpec(9_000, 3)), [
    'customers 9000 sf1-fd31b7ce6ad0d3f06364083a479d3f6d',
    'orders 9000 sf1-ea9e88e2c3817bcc69802e2b0c842229',
  ]);
});
