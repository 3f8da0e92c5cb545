/**
 * The relational kind's generator and checks, without a server: exact row counts, every parent's
 * drawn children, unique columns unique, refs valid, values independent of how rows are asked
 * for and of other columns, and every refused spec naming its field.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stringAt, UUID_BYTES, type Batch, type StringColumn, type TableGenerator } from '../src/data/batch.js';
import { digestRange, TableDigest } from '../src/data/digest.js';
import { benchSpec } from '../bench/relational-spec.js';
import { SpecError } from '../src/engine/kind.js';
import { RelationalSpecSchema } from '../src/kinds/relational/schema.js';
import { childCounter } from '../src/kinds/relational/layout.js';
import { createPoisson, createZipf, poissonFromTable, poissonTable } from '../src/kinds/relational/dist.js';
import { createPermutation, createRelationalTables, DEFAULT_LIMITS, normalizeRelational, type RelationalSpecBody } from '../src/kinds/relational/lib.js';
import { normalizeRelationalAsync } from '../src/kinds/relational/normalize.js';
import { RANDOM_PARENTS_MAX } from '../src/kinds/relational/layout.js';
import { relationalCaseSpec } from './support/engine-cases.js';

const normalize = (body: unknown, limits = DEFAULT_LIMITS) => normalizeRelational(RelationalSpecSchema.parse(body) as RelationalSpecBody, limits);

/** Column `name` of the whole table as JS values (null for NULL; uuid as hex). */
function columnValues(gen: TableGenerator, name: string): unknown[] {
  const c = gen.schema.findIndex((s) => s.name === name);
  assert.ok(c >= 0, `no column ${name}`);
  const out: unknown[] = [];
  for (let s = 0; s < gen.rows; s += 50_000) {
    const b: Batch = gen.batch(s, Math.min(gen.rows, s + 50_000));
    const col = b.columns[c]!;
    for (let i = 0; i < b.length; i++) {
      if (b.nulls?.[c]?.[i]) out.push(null);
      else if (gen.schema[c]!.type === 'uuid') out.push(Buffer.from((col as Uint8Array).subarray(i * UUID_BYTES, (i + 1) * UUID_BYTES)).toString('hex'));
      else if ('kind' in col) out.push(stringAt(col as StringColumn, i));
      else out.push((col as any)[i]);
    }
  }
  return out;
}

const nonNull = (xs: unknown[]) => xs.filter((x) => x !== null);

test('permutation: a bijection of [0, n) for awkward sizes', () => {
  for (const n of [1, 2, 3, 7, 1000, 1023, 1024, 1025, 65_537]) {
    const p = createPermutation(n, 99);
    const seen = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const y = p.apply(i);
      assert.ok(y >= 0 && y < n && !seen[y], `n=${n}: ${i} → ${y}`);
      seen[y] = 1;
    }
  }
});

test('zipf draws: P(k) ∝ k^−s, from the alias table (≤ 2^20 keys) and from rejection-inversion (more)', () => {
  let st = 12345;
  const u = () => ((st = (st * 48271) % 2147483647) + 0.5) / 2147483647;
  for (const n of [1000, (1 << 20) + 1]) {
    const z = createZipf(n, 1.3);
    let h = 0;
    for (let k = 1; k <= n; k++) h += k ** -1.3;
    const draws = 400_000;
    const seen = new Map<number, number>();
    for (let i = 0; i < draws; i++) {
      const k = z.sample(u);
      assert.ok(Number.isInteger(k) && k >= 1 && k <= n);
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    for (const k of [1, 2, 10]) {
      const p = k ** -1.3 / h;
      const got = (seen.get(k) ?? 0) / draws;
      assert.ok(Math.abs(got - p) < 4 * Math.sqrt((p * (1 - p)) / draws) + 1e-4, `n=${n} k=${k}: ${got} vs ${p}`);
    }
  }
});

test('poisson below λ 10: the table of running sums draws exactly what the inversion loop draws', () => {
  for (const lambda of [0.001, 0.5, 1, 2, 3, 7.3, 9.999]) {
    const F = poissonTable(lambda);
    const loop = createPoisson(lambda);
    const us: number[] = [0.5 / 4294967296, (4294967296 - 0.5) / 4294967296];
    // Each running sum itself and the doubles either side of it: where the two could disagree.
    const step = (x: number, d: bigint) => {
      const b = new Float64Array([x]);
      new BigInt64Array(b.buffer)[0]! += d;
      return b[0]!;
    };
    for (const f of F) us.push(f, step(f, 1n), step(f, -1n));
    for (let x = 0; x < 200_000; x++) us.push(((Math.imul(x + 1, 2654435761) >>> 0) + 0.5) / 4294967296);
    // Every u a draw can take: uniformFromU32's range, (0.5 / 2^32, (2^32 − 0.5) / 2^32).
    const max = (4294967296 - 0.5) / 4294967296;
    for (const u of us) if (u > 0 && u <= max) assert.equal(poissonFromTable(F, u), loop.sample(() => u), `λ ${lambda}, u ${u}`);
  }
});

test('perParent: exact totals, every parent gets exactly its drawn children, in parent order', () => {
  for (const distribution of [{ poisson: 2.5 }, { poisson: 40 }, { uniform: { min: 0, max: 4 } }, { zipf: { s: 1.5, max: 20 } }, { fixed: 2 }]) {
    const n = normalize({
      seed: 5,
      tables: [
        { name: 'p', rows: 5000, columns: [{ name: 'id', type: 'id', start: 10 }] },
        { name: 'c', rows: { perParent: 'p', distribution }, columns: [{ name: 'id', type: 'id' }, { name: 'p_id', type: 'ref', table: 'p' }] },
      ],
    });
    const { tables } = createRelationalTables(n.resolved);
    const child = tables[1]!;
    const counts = new Map<number, number>();
    for (const v of columnValues(child, 'p_id') as number[]) counts.set(v, (counts.get(v) ?? 0) + 1);
    const draw = childCounter(5, 'c', distribution as any);
    let total = 0;
    for (let p = 0; p < 5000; p++) {
      const want = draw(p);
      total += want;
      assert.equal(counts.get(10 + p) ?? 0, want, `${JSON.stringify(distribution)}: parent ${p}`);
    }
    assert.equal(child.rows, total);
    assert.equal(n.units, 5000 + total);
    const refs = columnValues(child, 'p_id') as number[];
    assert.ok(refs.every((v, i) => i === 0 || v >= refs[i - 1]!), 'children are laid out in parent order');
  }
});

test('unique columns are unique; refs are keys of their table; nulls near their rate', () => {
  const n = normalize(relationalCaseSpec(20_000, 11));
  const { tables } = createRelationalTables(n.resolved);
  const [customers, orders] = tables as [TableGenerator, TableGenerator];
  assert.equal(customers.rows, 20_000);
  assert.equal(orders.rows, 20_000);
  for (const [t, col] of [[customers, 'email'], [customers, 'code'], [customers, 'external_id'], [customers, 'id'], [orders, 'ordinal'], [orders, 'id']] as const) {
    const vs = nonNull(columnValues(t, col));
    assert.equal(new Set(vs).size, vs.length, `${t.table}.${col} unique`);
  }
  const emails = columnValues(customers, 'email') as string[];
  const first = columnValues(customers, 'first_name') as string[];
  assert.ok(emails.every((e, i) => e.startsWith(`${first[i]!.toLowerCase()}.`) && /@example\.(com|org|net)$/.test(e)), 'emails follow the row’s name, reserved domains');
  assert.ok((columnValues(customers, 'code') as string[]).every((c) => /^C-\d{6}-[A-Z]{2}$/.test(c)));
  assert.ok((columnValues(customers, 'external_id') as string[]).every((u) => /^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$/.test(u)), 'uuid v4');
  for (const col of ['customer_id', 'referrer_id']) {
    assert.ok(nonNull(columnValues(orders, col)).every((v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 20_000), `${col} in range`);
  }
  const referrers = columnValues(orders, 'referrer_id');
  const nullShare = referrers.filter((v) => v === null).length / referrers.length;
  assert.ok(Math.abs(nullShare - 0.3) < 0.02, `referrer nulls ${nullShare}`);
  // zipf s = 1.2: key 1 is drawn far more often than key 100.
  const freq = (k: number) => referrers.filter((v) => v === k).length;
  assert.ok(freq(1) > 20 * Math.max(1, freq(100)), `zipf skew ${freq(1)} vs ${freq(100)}`);
  const ids = columnValues(orders, 'id') as number[];
  assert.deepEqual([ids[0], ids.at(-1)], [1000, 1000 + 20_000 - 1]);
  const amounts = columnValues(orders, 'amount') as number[];
  assert.ok(amounts.every((a) => a > 0 && Math.round(a * 100) / 100 === a), 'lognormal, 2 decimals');
});

test('values depend on (seed, table, column, row) only: any batch size, any other columns', () => {
  const spec = relationalCaseSpec(9_000, 3);
  const a = createRelationalTables(normalize(spec).resolved).tables;
  for (const t of a) assert.equal(digestRange(t, 0, t.rows, 65_536).toString(), digestRange(t, 0, t.rows, 997).toString(), t.table);
  const wider = structuredClone(spec) as any;
  wider.tables[0].columns.splice(2, 0, { name: 'extra', type: 'int' });
  wider.tables.unshift({ name: 'other', rows: 10, columns: [{ name: 'id', type: 'id' }] });
  const b = createRelationalTables(normalize(wider).resolved).tables;
  for (const col of ['email', 'code', 'signed_up']) assert.deepEqual(columnValues(b[1]!, col), columnValues(a[0]!, col), col);
  assert.deepEqual(columnValues(b[2]!, 'referrer_id'), columnValues(a[1]!, 'referrer_id'));
});

test('recycled batches (the engine passes the batch before last) hold the same values as fresh ones', () => {
  const tables = [...createRelationalTables(normalize(relationalCaseSpec(9_000, 4)).resolved).tables, ...createRelationalTables(normalize(benchSpec(30_000)).resolved).tables];
  let reused = 0;
  for (const t of tables) {
    let spare: Batch | undefined;
    let last: Batch | undefined;
    for (let s = 0; s < t.rows; s += 1000) {
      const e = Math.min(t.rows, s + 1000);
      const before = spare?.columns.slice();
      const b = t.batch(s, e, spare);
      if (before) reused += b.columns.filter((c, j) => c === before[j] || (!ArrayBuffer.isView(c) && !ArrayBuffer.isView(before[j]) && (c as any).offsets === (before[j] as any).offsets)).length;
      const fresh = t.batch(s, e);
      const d = (x: Batch) => { const g = new TableDigest(); g.add(x, t.schema); return g.toString(); };
      assert.equal(d(b), d(fresh), `${t.table} rows ${s}–${e}`);
      spare = last;
      last = b;
    }
  }
  assert.ok(reused > 100, `columns refilled in place: ${reused}`);
});

test('the seed is recorded; the same seed gives the same data', () => {
  const n = normalize({ tables: [{ name: 't', rows: 10, columns: [{ name: 'x', type: 'int' }] }] });
  assert.ok(Number.isSafeInteger((n.spec as any).seed));
  const again = normalize(n.spec);
  assert.deepEqual(again.spec, n.spec, 'the stored spec is valid input and normalizes to itself');
  const full = normalize(relationalCaseSpec(100, 9));
  assert.deepEqual(normalize(full.spec).spec, full.spec);
  const [t1] = createRelationalTables(n.resolved).tables;
  const [t2] = createRelationalTables(again.resolved).tables;
  assert.deepEqual(columnValues(t1!, 'x'), columnValues(t2!, 'x'));
});

const table = (name: string, columns: unknown[], rows: unknown = 10) => ({ name, rows, columns });
const id = { name: 'id', type: 'id' };

/** [what, spec, status, path] for refused specs. */
const REFUSED: Array<[string, unknown, 400 | 422, string]> = [
  ['unknown ref table', { tables: [table('a', [id]), table('b', [id, { name: 'a_id', type: 'ref', table: 'nope' }])] }, 422, 'spec.tables.1.columns.1.table'],
  ['ref cycle', { tables: [table('a', [id, { name: 'b_id', type: 'ref', table: 'b' }]), table('b', [id, { name: 'a_id', type: 'ref', table: 'a' }])] }, 422, 'spec.tables.1.columns.1.table'],
  ['self ref', { tables: [table('a', [id, { name: 'a_id', type: 'ref', table: 'a' }])] }, 422, 'spec.tables.0.columns.1.table'],
  ['duplicate table', { tables: [table('a', [id]), table('a', [id])] }, 422, 'spec.tables.1.name'],
  ['duplicate column', { tables: [table('a', [id, { name: 'id', type: 'int' }])] }, 422, 'spec.tables.0.columns.1.name'],
  ['two id columns', { tables: [table('a', [id, { name: 'id2', type: 'id' }])] }, 422, 'spec.tables.0.columns.1.type'],
  ['weights sum to zero', { tables: [table('a', [{ name: 'c', type: 'choice', values: ['x', 'y'], weights: [0, 0] }])] }, 422, 'spec.tables.0.columns.0.weights'],
  ['weights length', { tables: [table('a', [{ name: 'c', type: 'choice', values: ['x', 'y'], weights: [1] }])] }, 422, 'spec.tables.0.columns.0.weights'],
  ['negative weight', { tables: [table('a', [{ name: 'c', type: 'choice', values: ['x'], weights: [-1] }])] }, 400, 'spec.tables.0.columns.0.weights.0'],
  ['min > max', { tables: [table('a', [{ name: 'n', type: 'int', min: 5, max: 1 }])] }, 422, 'spec.tables.0.columns.0.min'],
  ['date min > max', { tables: [table('a', [{ name: 'd', type: 'date', min: '2024-02-01', max: '2024-01-01' }])] }, 422, 'spec.tables.0.columns.0.min'],
  ['not a date', { tables: [table('a', [{ name: 'd', type: 'date', min: '2024-02-30' }])] }, 422, 'spec.tables.0.columns.0.min'],
  ['uniform children min > max', { tables: [table('a', [id]), table('b', [{ name: 'a_id', type: 'ref', table: 'a' }], { perParent: 'a', distribution: { uniform: { min: 3, max: 1 } } })] }, 422, 'spec.tables.1.rows.distribution.uniform.min'],
  ['1,000 unique values from a range of 10', { tables: [table('a', [{ name: 'n', type: 'int', min: 1, max: 10, unique: true }], 1000)] }, 422, 'spec.tables.0.columns.0.unique'],
  ['unique pattern without room', { tables: [table('a', [{ name: 'p', type: 'pattern', pattern: 'X-#', unique: true }], 11)] }, 422, 'spec.tables.0.columns.0.unique'],
  ['unique on a type that cannot', { tables: [table('a', [{ name: 'f', type: 'float', unique: true }])] }, 422, 'spec.tables.0.columns.0.unique'],
  ['a distribution on the ref that holds the parent', { tables: [table('a', [id]), table('b', [{ name: 'a_id', type: 'ref', table: 'a', distribution: 'uniform' }], { perParent: 'a', distribution: { fixed: 1 } })] }, 422, 'spec.tables.1.columns.0.distribution'],
  ['s = 1 on a uniform ref', { tables: [table('a', [id]), table('b', [{ name: 'a_id', type: 'ref', table: 'a', s: 1 }])] }, 422, 'spec.tables.1.columns.0.s'],
  ['rows neither a count nor perParent', { tables: [table('a', [id], '1000')] }, 400, 'spec.tables.0.rows'],
  ['perParent without a distribution', { tables: [table('a', [id]), table('b', [{ name: 'a_id', type: 'ref', table: 'a' }], { perParent: 'a' })] }, 400, 'spec.tables.1.rows'],
  ['unsupported type', { tables: [table('a', [{ name: 'f', type: 'money' }])] }, 400, 'spec.tables.0.columns.0.type'],
  ['unknown option', { tables: [table('a', [{ name: 'f', type: 'int', step: 2 }])] }, 400, 'spec.tables.0.columns.0'],
  ['upper-case identifier', { tables: [table('Customers', [id])] }, 400, 'spec.tables.0.name'],
  ['quote in identifier', { tables: [table('a', [{ name: 'x"; drop table y; --', type: 'int' }])] }, 400, 'spec.tables.0.columns.0.name'],
  ['64-byte identifier', { tables: [table('a'.repeat(64), [id])] }, 400, 'spec.tables.0.name'],
  ['ref to a table without id', { tables: [table('a', [{ name: 'x', type: 'int' }]), table('b', [{ name: 'a_id', type: 'ref', table: 'a' }])] }, 422, 'spec.tables.1.columns.0.table'],
  ['perParent without its ref', { tables: [table('a', [id]), table('b', [{ name: 'x', type: 'int' }], { perParent: 'a', distribution: { fixed: 1 } })] }, 422, 'spec.tables.1.rows.perParent'],
  ['perParent unknown table', { tables: [table('b', [{ name: 'x', type: 'int' }], { perParent: 'zz', distribution: { fixed: 1 } })] }, 422, 'spec.tables.0.rows.perParent'],
  ['s on a uniform ref', { tables: [table('a', [id]), table('b', [{ name: 'a_id', type: 'ref', table: 'a', s: 2 }])] }, 422, 'spec.tables.1.columns.0.s'],
  ['ref to an empty table', { tables: [table('a', [id], 0), table('b', [{ name: 'a_id', type: 'ref', table: 'a' }])] }, 422, 'spec.tables.1.columns.0.table'],
];

for (const [what, spec, status, path] of REFUSED) {
  test(`refused: ${what} → ${status} at ${path}`, () => {
    const parsed = RelationalSpecSchema.safeParse(spec);
    if (status === 400) {
      assert.equal(parsed.success, false, 'the shape refuses it');
      const paths = parsed.error!.issues.map((i) => ['spec', ...i.path].join('.'));
      assert.ok(paths.some((p) => p === path || p.startsWith(`${path}.`)), `paths ${paths.join(', ')}`);
      return;
    }
    assert.equal(parsed.success, true, parsed.success ? '' : JSON.stringify(parsed.error.issues));
    assert.throws(
      () => normalizeRelational(parsed.data as RelationalSpecBody, DEFAULT_LIMITS),
      (err: unknown) => err instanceof SpecError && err.status === 422 && err.errors.some((e) => e.path === path) && err.errors.every((e) => e.message.length > 0),
    );
  });
}

test('refused: a typo in a perParent table\'s parent ref is one error, at the ref, not a knock-on about the layout', () => {
  const spec = { tables: [table('customers', [id]), table('orders', [id, { name: 'customer_id', type: 'ref', table: 'customer' }], { perParent: 'customers', distribution: { poisson: 2 } })] };
  assert.throws(
    () => normalize(spec),
    (e: any) => e.status === 422 && e.errors.length === 1 && e.errors[0].path === 'spec.tables.1.columns.1.table',
  );
  const parsed = RelationalSpecSchema.safeParse({ tables: [table('a', [id], { perParent: 'x' })] });
  assert.ok(!parsed.success && parsed.error.issues.some((i) => /perParent/.test(i.message)), 'the rows error says what rows can be');
});

test('refused: more tables or columns than this server allows → 422 naming them', () => {
  const limits = { maxTables: 2, maxColumns: 3 };
  const three = { tables: [table('a', [id]), table('b', [id]), table('c', [id])] };
  assert.throws(() => normalize(three, limits), (e: any) => e.status === 422 && e.errors[0].path === 'spec.tables');
  const wide = { tables: [table('a', [id, { name: 'b', type: 'int' }, { name: 'c', type: 'int' }, { name: 'd', type: 'int' }])] };
  assert.throws(() => normalize(wide, limits), (e: any) => e.status === 422 && e.errors[0].path === 'spec.tables.0.columns');
});

test('perParent draws: refused past RANDOM_PARENTS_MAX parents (before drawing); the async layout lets the event loop run', async () => {
  const spec = (parents: number, distribution: unknown) => ({
    seed: 1,
    tables: [table('p', [id], parents), table('c', [{ name: 'p_id', type: 'ref', table: 'p' }], { perParent: 'p', distribution })],
  });
  assert.throws(
    () => normalize(spec(RANDOM_PARENTS_MAX + 1, { poisson: 0.001 })),
    (e: any) => e instanceof SpecError && e.status === 422 && e.errors[0].path === 'spec.tables.1.rows' && /fixed/.test(e.errors[0].message),
  );
  assert.equal(normalize(spec(RANDOM_PARENTS_MAX + 1, { fixed: 0 })).units, RANDOM_PARENTS_MAX + 1, 'fixed needs no draws');
  let ticks = 0;
  const timer = setInterval(() => ticks++, 0);
  try {
    const n = await normalizeRelationalAsync(RelationalSpecSchema.parse(spec(3_000_000, { poisson: 1 })) as RelationalSpecBody, DEFAULT_LIMITS);
    assert.ok(ticks > 0, 'timers ran while the children were drawn');
    assert.equal(n.units, normalize(n.spec).units);
  } finally {
    clearInterval(timer);
  }
});

test('fuzz: random specs either normalize or are refused with a SpecError naming fields (never another error)', () => {
  let st = 987654321;
  const rnd = (n: number) => (st = (Math.imul(st, 1103515245) + 12345) >>> 0) % n;
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;
  const names = ['a', 'b', 'c', 'd', 'zz'];
  const column = (k: number): Record<string, unknown> => {
    const type = pick(['id', 'int', 'float', 'normal', 'lognormal', 'choice', 'bool', 'date', 'timestamp', 'uuid', 'pattern', 'firstName', 'lastName', 'email', 'text', 'ref']);
    const c: Record<string, unknown> = { name: `c${k % 4}`, type };
    if (type !== 'id' && rnd(3) === 0) c.nullRate = pick([0, 0.5, 1]);
    if (type !== 'id' && rnd(4) === 0) c.unique = true;
    if (type === 'int') Object.assign(c, rnd(2) ? { min: rnd(20), max: rnd(20) } : {});
    if (type === 'choice') Object.assign(c, { values: ['x', 'y'], ...(rnd(2) ? { weights: pick([[0, 0], [1], [1, 2]]) } : {}) });
    if (type === 'date' && rnd(2)) Object.assign(c, { min: pick(['2024-01-01', '2024-02-30']), max: '2024-01-10' });
    if (type === 'pattern') c.pattern = pick(['#', 'A-##', '??-*', 'x']);
    if (type === 'text' && rnd(2)) Object.assign(c, { minWords: rnd(5), maxWords: rnd(5) });
    if (type === 'ref') Object.assign(c, { table: pick(names), ...(rnd(2) ? { distribution: pick(['uniform', 'zipf', 'sequential']) } : {}), ...(rnd(3) === 0 ? { s: 1.5 } : {}) });
    return c;
  };
  let accepted = 0;
  for (let iter = 0; iter < 600; iter++) {
    const tables = Array.from({ length: 1 + rnd(4) }, (_, t) => ({
      name: names[rnd(5)]!,
      rows: rnd(3) === 0 ? { perParent: pick(names), distribution: pick([{ fixed: rnd(3) }, { poisson: 1 }, { uniform: { min: rnd(3), max: rnd(3) } }, { zipf: { s: 1, max: 3 } }]) } : rnd(50),
      columns: Array.from({ length: 1 + rnd(5) }, (_, k) => column(k + t)),
    }));
    const parsed = RelationalSpecSchema.safeParse({ seed: iter, tables });
    if (!parsed.success) continue;
    try {
      const n = normalizeRelational(parsed.data as RelationalSpecBody, DEFAULT_LIMITS);
      accepted++;
      for (const g of createRelationalTables(n.resolved).tables) if (g.rows > 0) g.batch(0, g.rows);
    } catch (err) {
      assert.ok(err instanceof SpecError, `iteration ${iter}: ${(err as Error).stack}\n${JSON.stringify(tables)}`);
      assert.ok(err.errors.length > 0 && err.errors.every((e) => e.path.startsWith('spec.') && e.message.length > 0));
    }
  }
  assert.ok(accepted > 20, `${accepted} random specs were accepted (the fuzzer reaches the generator)`);
});
