/**
 * The relational kind end to end, against a real Temporal and a real Postgres: a three-table spec
 * (customers → orders → order_items: perParent sizing, a zipf ref, unique emails and uuids, nulls)
 * generated and loaded — exact counts, zero orphans, unique columns unique, the constraints in
 * information_schema, the Parquet files equal to the tables, the same digests for another shard
 * size; a worker killed mid-load; refused specs that create nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { childCounter } from '../src/kinds/relational/layout.js';
import { setupLoad } from '../src/engine/load.js';
import { computeLayouts, type RelationalSpec } from '../src/kinds/relational/lib.js';
import { startTestApi, type TestApi } from './support/api.js';
import { readParquetMetadata, readParquetRows } from './support/parquet.js';
import { digestsOf } from './support/engine-cases.js';
import { getJob, isDone, postJob, readJobRows, readManifest, tempDataDir, waitForJob } from './support/jobs.js';
import { uniqueTaskQueue } from './support/stack.js';
import { spawnWorkerProcess, startTestWorker, type TestWorker, type WorkerProcess } from './support/worker.js';

let api: TestApi;
let worker: TestWorker;
let dataDir: string;
let taskQueue: string;
const schemas: string[] = [];
const spawned: WorkerProcess[] = [];

const PART_ROWS = 4000;

before(async () => {
  taskQueue = uniqueTaskQueue('relational-pg');
  dataDir = await tempDataDir();
  api = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: taskQueue, SHARDFLOW_DATA_DIR: dataDir } });
});
after(async () => {
  for (const w of spawned) w.kill('SIGKILL');
  await worker?.stop();
  const sql = api?.deps.db.sql;
  for (const s of schemas) await sql?.unsafe(`drop schema if exists "${s}" cascade`);
  await api?.close();
});

const schemaName = (what: string) => {
  const s = `test_rel_${what}_${process.pid}`;
  schemas.push(s);
  return s;
};

function threeTables(customers: number, seed: number) {
  return {
    seed,
    tables: [
      {
        name: 'customers',
        rows: customers,
        columns: [
          { name: 'id', type: 'id' },
          { name: 'first_name', type: 'firstName' },
          { name: 'last_name', type: 'lastName' },
          { name: 'email', type: 'email', unique: true },
          { name: 'signed_up', type: 'date', min: '2021-01-01', max: '2024-12-31' },
          { name: 'tier', type: 'choice', values: ['free', 'pro', 'team'], weights: [7, 2, 1], nullRate: 0.1 },
        ],
      },
      {
        name: 'orders',
        rows: { perParent: 'customers', distribution: { poisson: 3 } },
        columns: [
          { name: 'id', type: 'id' },
          { name: 'customer_id', type: 'ref', table: 'customers' },
          { name: 'placed_at', type: 'timestamp', min: '2024-01-01T00:00:00Z', max: '2024-12-31T23:59:59Z' },
          { name: 'total', type: 'lognormal', mu: 3.5, sigma: 0.6, decimals: 2 },
          { name: 'coupon', type: 'pattern', pattern: 'CPN-####', nullRate: 0.3 },
          { name: 'express', type: 'bool', probability: 0.2 },
        ],
      },
      {
        name: 'order_items',
        rows: { perParent: 'orders', distribution: { uniform: { min: 1, max: 3 } } },
        columns: [
          { name: 'id', type: 'id', start: 100000 },
          { name: 'order_id', type: 'ref', table: 'orders' },
          { name: 'recommended_by', type: 'ref', table: 'customers', distribution: 'zipf', s: 1.1, nullRate: 0.4 },
          { name: 'line_uuid', type: 'uuid', unique: true },
          { name: 'quantity', type: 'int', min: 1, max: 5 },
          { name: 'weight_kg', type: 'normal', mean: 2, sd: 0.5, decimals: 3 },
          { name: 'note', type: 'text', minWords: 1, maxWords: 5, nullRate: 0.5 },
        ],
      },
    ],
  };
}

async function runJob(body: object, partitioning: Record<string, number>) {
  const started = await postJob(api, { kind: 'relational', ...body, partitioning });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const job = await waitForJob(api, started.body.id, isDone, 180_000);
  assert.equal(job.status, 'completed', JSON.stringify(job.error));
  return { job, manifest: await readManifest(dataDir, job.id) };
}

const count = async (sql: string) => Number((await api.deps.db.sql.unsafe(sql))[0]!.n);

/** Row counts per table in the schema, exact. */
async function tableCounts(schema: string, names: string[]): Promise<Record<string, number>> {
  return Object.fromEntries(await Promise.all(names.map(async (t) => [t, await count(`select count(*) as n from "${schema}"."${t}"`)])));
}

async function constraints(schema: string): Promise<string[]> {
  const rows = await api.deps.db.sql`
    select tc.table_name, tc.constraint_type, string_agg(k.column_name, ',' order by k.ordinal_position) as cols
    from information_schema.table_constraints tc
    join information_schema.key_column_usage k on k.constraint_name = tc.constraint_name and k.table_schema = tc.table_schema
    where tc.table_schema = ${schema} and tc.constraint_type in ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')
    group by tc.table_name, tc.constraint_type, tc.constraint_name order by 1, 2, 3`;
  return rows.map((r) => `${r.table_name} ${r.constraint_type} (${r.cols})`);
}

const EXPECTED_CONSTRAINTS = [
  'customers PRIMARY KEY (id)',
  'customers UNIQUE (email)',
  'order_items FOREIGN KEY (order_id)',
  'order_items FOREIGN KEY (recommended_by)',
  'order_items PRIMARY KEY (id)',
  'order_items UNIQUE (line_uuid)',
  'orders FOREIGN KEY (customer_id)',
  'orders PRIMARY KEY (id)',
];

async function orphans(schema: string): Promise<number> {
  const q = (child: string, col: string, parent: string) =>
    count(`select count(*) as n from "${schema}"."${child}" c left join "${schema}"."${parent}" p on p.id = c."${col}" where c."${col}" is not null and p.id is null`);
  return (await q('orders', 'customer_id', 'customers')) + (await q('order_items', 'order_id', 'orders')) + (await q('order_items', 'recommended_by', 'customers'));
}

/** A Parquet value as the JSON Postgres gives for the same column (row_to_json, UTC). */
function canonical(type: string, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'int64':
    case 'int32':
    case 'float64':
      return Number(v);
    case 'date':
      return new Date(Number(v) * 86_400_000).toISOString().slice(0, 10);
    case 'timestamp':
      return Number(v) / 1000; // ms
    default:
      return v;
  }
}

function canonicalPg(type: string, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  return type === 'timestamp' ? Date.parse(v as string) : v;
}

describe('relational → Postgres', () => {
  test('three tables loaded: exact counts, no orphans, unique columns, constraints, Parquet equal to the tables, digests independent of shard size', async () => {
    worker = await startTestWorker({ taskQueue, dataDir, env: { SHARDFLOW_PART_ROWS: String(PART_ROWS) } });
    const schema = schemaName('load');
    const spec = threeTables(3000, 77);
    const { job, manifest } = await runJob({ spec, output: { format: 'parquet', postgres: { schema } } }, { shardRows: 5000, maxParallelShards: 4 });

    // exact counts: the plan's (the perParent draws), the manifest's and Postgres's
    const planned = computeLayouts(manifest.spec as RelationalSpec).rows;
    const names = ['customers', 'orders', 'order_items'];
    assert.deepEqual(manifest.tables.map((t: any) => t.rows), planned);
    assert.deepEqual(await tableCounts(schema, names), Object.fromEntries(names.map((n, i) => [n, planned[i]])));
    assert.equal(job.result.rows, planned.reduce((a, b) => a + b, 0));
    assert.ok(planned[1]! > 3000 * 2.5 && planned[2]! > planned[1]! * 1.5, `perParent sizes ${planned}`);

    assert.equal(await orphans(schema), 0);
    assert.deepEqual(await constraints(schema), EXPECTED_CONSTRAINTS);
    for (const [t, c] of [['customers', 'email'], ['order_items', 'line_uuid']]) {
      assert.equal(await count(`select count(*) - count(distinct "${c}") as n from "${schema}"."${t}"`), 0, `${t}.${c} unique`);
    }
    const nulls = await count(`select count(*) filter (where coupon is null) as n from "${schema}".orders`);
    assert.ok(nulls > planned[1]! * 0.2 && nulls < planned[1]! * 0.4, `coupon nulls ${nulls}`);
    // every customer has exactly the orders drawn for it (customers with none are absent)
    const draw = childCounter(77, 'orders', { poisson: 3 });
    const perCustomer = await api.deps.db.sql.unsafe(`select customer_id::int as c, count(*)::int as n from "${schema}".orders group by 1`);
    const got = new Map(perCustomer.map((r: any) => [r.c, r.n]));
    for (let p = 0; p < 3000; p++) assert.equal(got.get(p + 1) ?? 0, draw(p), `orders of customer ${p + 1}`);

    // the Parquet files hold exactly the rows of the tables
    const parquet = await readJobRows(dataDir, job.id);
    const sql = api.deps.db.sql;
    for (const t of manifest.tables) {
      const pg = await sql.begin(async (tx) => {
        await tx`set local time zone 'UTC'`;
        return tx.unsafe(`select row_to_json(t) as r from "${schema}"."${t.name}" t order by id`);
      });
      const fromPg = pg.map((row: any) => t.columns.map((c: any) => canonicalPg(c.type, row.r[c.name])));
      const fromParquet = parquet[t.name]!.map((row) => t.columns.map((c: any) => canonical(c.type, row[c.name])));
      assert.equal(fromParquet.length, fromPg.length, t.name);
      assert.deepEqual(fromParquet, fromPg, `${t.name}: Parquet = Postgres`);
    }

    // schema.sql: the DDL the load used
    assert.ok(manifest.files.some((f: any) => f.name === 'schema.sql'), JSON.stringify(manifest.files));
    const ddl = await readFile(path.join(dataDir, 'jobs', job.id, 'schema.sql'), 'utf8');
    for (const needle of ['CREATE TABLE', 'FOREIGN KEY', 'PRIMARY KEY', 'UNIQUE', schema]) assert.ok(ddl.includes(needle), `schema.sql has ${needle}`);

    // the same spec in other shards (Parquet only): the same content digests
    const again = await runJob({ spec: manifest.spec, output: { format: 'parquet' } }, { shardRows: 3331, maxParallelShards: 2 });
    assert.deepEqual(digestsOf(again.manifest), digestsOf(manifest));
    await worker.stop();
    worker = undefined as never;
  });

  test('a table of no rows: one empty part with its schema, an empty table in Postgres, the empty digest', async () => {
    worker = await startTestWorker({ taskQueue, dataDir });
    const schema = schemaName('empty');
    const spec = {
      seed: 3,
      tables: [
        { name: 'nobody', rows: 0, columns: [{ name: 'id', type: 'id' }, { name: 'label', type: 'text' }] },
        { name: 'events', rows: 50, columns: [{ name: 'id', type: 'id' }, { name: 'nobody_id', type: 'ref', table: 'nobody', nullRate: 1 }] },
      ],
    };
    const { manifest } = await runJob({ spec, output: { format: 'parquet', postgres: { schema } } }, { shardRows: 1000, maxParallelShards: 2 });
    const empty = manifest.tables.find((t: any) => t.name === 'nobody');
    assert.equal(empty.rows, 0);
    assert.deepEqual(empty.files.map((f: any) => [f.name, f.rows]), [['nobody/part-00000.parquet', 0]]);
    assert.equal(empty.digest, 'sf1-00000000000000000000000000000000');
    const file = path.join(dataDir, 'jobs', manifest.jobId, 'nobody/part-00000.parquet');
    assert.deepEqual(await readParquetRows(file), []);
    const meta = await readParquetMetadata(file);
    assert.deepEqual(meta.schema.slice(1).map((e: any) => e.name), ['id', 'label']);
    assert.deepEqual(await tableCounts(schema, ['nobody', 'events']), { nobody: 0, events: 50 });
    assert.equal(await count(`select count(*) - count(nobody_id) as n from "${schema}".events`), 50, 'every ref is null');
    await worker.stop();
    worker = undefined as never;
  });

  test('worker killed mid-load, a new one started: counts still exact, constraints added', async () => {
    const schema = schemaName('kill');
    const env = { TEMPORAL_TASK_QUEUE: taskQueue, SHARDFLOW_DATA_DIR: dataDir, SHARDFLOW_PART_ROWS: '20000', WORKER_THREADS: '2' };
    const first = await spawnWorkerProcess(env);
    spawned.push(first);
    const started = await postJob(api, {
      kind: 'relational',
      spec: threeTables(60_000, 5),
      output: { format: 'parquet', postgres: { schema } },
      partitioning: { shardRows: 100_000, maxParallelShards: 2 },
    });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const id = started.body.id;
    // Two shards of parts of 20,000 run at once: past 60,000 rows done, at least one part is loaded.
    const seen = await waitForJob(api, id, (j) => j.progress?.done >= 60_000 || isDone(j), 90_000);
    assert.equal(seen.status, 'running', 'the job finished before the worker could be killed');
    first.kill('SIGKILL');
    assert.equal(await first.exited, 'SIGKILL');
    const atKill = Object.values(await tableCounts(schema, ['customers', 'orders', 'order_items'])).reduce((a, b) => a + b, 0);
    assert.ok(atKill >= 20_000 && atKill < started.body.estimate.rows, `killed mid-load: ${atKill} of ${started.body.estimate.rows} rows loaded`);

    const second = await spawnWorkerProcess(env);
    spawned.push(second);
    const done = await waitForJob(api, id, isDone, 240_000);
    assert.equal(done.status, 'completed', JSON.stringify(done.error) + second.output().slice(-2000));
    const manifest = await readManifest(dataDir, id);
    const planned = computeLayouts(manifest.spec as RelationalSpec).rows;
    assert.deepEqual(await tableCounts(schema, ['customers', 'orders', 'order_items']), { customers: planned[0], orders: planned[1], order_items: planned[2] });
    assert.deepEqual(await constraints(schema), EXPECTED_CONSTRAINTS);
    assert.equal(await orphans(schema), 0);
    second.kill('SIGTERM');
    await second.exited;
  });

  test('refused specs: the error names the field; no job, nothing created in Postgres', async () => {
    const schema = schemaName('refused');
    const listed = async (): Promise<number> => ((await (await api.request('/v1/jobs?kind=relational&limit=500')).json()) as any).items.length;
    const before = await listed();
    const base = threeTables(100, 1);
    const variants: Array<[number, string, (s: any) => void]> = [
      [422, 'spec.tables.1.columns.1.table', (s) => (s.tables[1].columns[1].table = 'nope')],
      [422, 'spec.tables.0.columns.3.unique', (s) => s.tables[0].columns.splice(3, 1, { name: 'code', type: 'int', min: 1, max: 10, unique: true })],
      [422, 'spec.tables.0.columns.5.weights', (s) => (s.tables[0].columns[5].weights = [0, 0, 0])],
      [422, 'spec.tables.1.rows.perParent', (s) => s.tables[0].columns.push({ name: 'favourite_item', type: 'ref', table: 'order_items' })],
      [400, 'spec.tables.2.name', (s) => (s.tables[2].name = 'Order Items')],
      [400, 'spec.tables.1.columns.2.type', (s) => (s.tables[1].columns[2].type = 'datetime')],
    ];
    for (const [status, at, change] of variants) {
      const spec = structuredClone(base);
      change(spec);
      const res = await postJob(api, { kind: 'relational', spec, output: { format: 'parquet', postgres: { schema } } });
      assert.equal(res.status, status, `${at}: ${JSON.stringify(res.body)}`);
      assert.ok(res.body.errors.some((e: any) => e.path === at || e.path.startsWith(`${at}.`)), `${at}: ${JSON.stringify(res.body.errors)}`);
    }
    assert.equal(await listed(), before, 'no job was created');
    assert.equal(await count(`select count(*) as n from information_schema.schemata where schema_name = '${schema}'`), 0, 'no schema was created');

    // Tables another job is loading: a 422 at submission, even with replace (not a job that fails at its plan).
    const busy = schemaName('busy');
    const tables = [{ name: 'customers', rows: 1, columns: [{ name: 'id', type: 'int64' as const }] }];
    const other = { jobId: 'job-other-loader', tenantId: 'local', kind: 'relational', spec: {}, output: { format: 'parquet' as const, compression: 'zstd' as const, postgres: { schema: busy } }, partitioning: { shardRows: 10, maxParallelShards: 1 } };
    await setupLoad(api.deps.db.sql, other, tables);
    try {
      for (const ifExists of [undefined, 'replace']) {
        const res = await postJob(api, { kind: 'relational', spec: base, output: { format: 'parquet', postgres: { schema: busy, ...(ifExists ? { ifExists } : {}) } } });
        assert.equal(res.status, 422, JSON.stringify(res.body));
        assert.equal(res.body.errors[0].path, 'output.postgres.schema');
        assert.match(res.body.errors[0].message, /customers \(job job-other-loader\) is being loaded by another job/);
      }
    } finally {
      await api.deps.db.sql`delete from shardflow_load.claims where job_id = 'job-other-loader'`;
    }
  });
});
