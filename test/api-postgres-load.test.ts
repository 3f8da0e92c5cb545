/**
 * `output.postgres` end to end (real API, Temporal, worker and Postgres): a trial job loaded into
 * a schema holds exactly the rows of its Parquet files and lists schema.sql; the API refuses
 * reserved schemas, unknown targets and tables already there (creating nothing in the target),
 * `ifExists: "replace"` reloads into a named target; a kind with keys (ledger) gets its primary
 * keys, unique and foreign keys, with no orphans; a cancelled load is marked incomplete and its
 * resume loads the rest without reloading a part.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { dropLoadBookkeepingIfEmpty } from './support/postgres-load.js';
import { stackMissing, startTestApi, type TestApi } from './support/api.js';
import { control, isDone, postJob, readJobRows, readManifest, tempDataDir, waitForJob } from './support/jobs.js';
import { uniqueTaskQueue } from './support/stack.js';
import { startTestWorker, type TestWorker } from './support/worker.js';

let api: TestApi;
let worker: TestWorker;
let dataDir: string;
/** The service's own database (the default target) and a second database, the named target `other`. */
let own: postgres.Sql;
let other: postgres.Sql;
const OTHER_DB = `sf_load_target_${process.pid}`;
const tag = `${process.pid}`;
const S1 = `exp_load_a_${tag}`;
const S2 = `exp_load_b_${tag}`;
const S3 = `exp_load_c_${tag}`;
const S4 = `exp_load_d_${tag}`;
const S5 = `exp_load_e_${tag}`;
const S6 = `exp_load_f_${tag}`;
const SOURCE = `ledger_load_src_${tag}`;
/** Shard 1 of jobs whose id is in here waits for a cancel on its first attempt. */
const holdShard1 = new Set<string>();
/** Jobs this file started (their part markers are deleted at the end). */
const jobIds: string[] = [];

function otherUrl(): string {
  const u = new URL(process.env.DATABASE_URL!);
  u.pathname = `/${OTHER_DB}`;
  return u.toString();
}

before(async () => {
  if (stackMissing) return;
  own = postgres(process.env.DATABASE_URL!, { max: 2, onnotice: () => {} });
  await own.unsafe(`CREATE DATABASE ${OTHER_DB}`);
  other = postgres(otherUrl(), { max: 2, onnotice: () => {} });
  const q = uniqueTaskQueue('pgload');
  dataDir = await tempDataDir();
  const env = { TEMPORAL_TASK_QUEUE: q, SHARDFLOW_DATA_DIR: dataDir, SHARDFLOW_POSTGRES_TARGETS: JSON.stringify({ other: otherUrl() }) };
  api = await startTestApi({ env });
  worker = await startTestWorker({
    taskQueue: q,
    dataDir,
    env: { ...env, SHARDFLOW_PART_ROWS: '1000', WORKER_THREADS: '2' },
    faults: {
      async beforeShard(task, attempt, cancelled) {
        if (task.shard.index === 1 && attempt === 1 && holdShard1.delete(task.input.jobId)) {
          await new Promise((resolve) => cancelled.addEventListener('abort', resolve, { once: true }));
        }
      },
    },
  });
});

after(async () => {
  await worker?.stop();
  await api?.close();
  if (own) {
    for (const s of [S1, S2, S3, S4, S5, S6]) await own.unsafe(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await own`delete from shardflow_load.claims where schema_name = any(${[S1, S2, S3, S4, S5, S6]})`.catch(() => undefined);
    await own`delete from shardflow_load.parts where job_id = any(${jobIds})`.catch(() => undefined);
    await own.unsafe(`DROP TABLE IF EXISTS ${SOURCE}`);
    await dropLoadBookkeepingIfEmpty(own);
    await other?.end();
    await own.unsafe(`DROP DATABASE IF EXISTS ${OTHER_DB} WITH (FORCE)`);
    await own.end();
  }
});

const trialJob = (nPerArm: number, postgresOut?: Record<string, unknown>, seed = 7) => ({
  kind: 'trial',
  spec: { method: 'mvn', nPerArm, targetEffect: -5, seed },
  output: { format: 'parquet', ...(postgresOut ? { postgres: postgresOut } : {}) },
  partitioning: { shardRows: 2000, maxParallelShards: 2 },
});

/** Rows as comparable strings: Temperature rounded to its 1 decimal (the load prints it so). */
const rowKey = (r: Record<string, unknown>) =>
  [r.SubjectID, r.TreatmentArm, r.VisitName, r.SystolicBP, r.DiastolicBP, r.HeartRate, Number(r.Temperature).toFixed(1)].join('|');

async function post(body: unknown) {
  const r = await postJob(api, body);
  if (r.body?.id) jobIds.push(r.body.id);
  return r;
}

async function schemasIn(sql: postgres.Sql): Promise<string[]> {
  return (await sql`select nspname from pg_namespace order by 1`).map((r) => r.nspname as string);
}

test('a trial job loads into a schema: the rows of its Parquet files, schema.sql listed, claims complete', { skip: stackMissing }, async () => {
  const { status, body } = await post(trialJob(1000, { schema: S1 }));
  assert.equal(status, 202, JSON.stringify(body));
  const job = await waitForJob(api, body.id, isDone);
  assert.equal(job.status, 'completed', JSON.stringify(job.error));
  const rows = 8000;
  assert.equal(job.result.rows, rows);
  assert.deepEqual(job.result.load, { schema: S1, tables: [{ name: 'vitals', rows }], constraints: 0 });

  const [{ n }] = await own.unsafe(`select count(*)::int as n from ${S1}.vitals`);
  assert.equal(n, rows);
  const loaded = (await own.unsafe(`select * from ${S1}.vitals`)).map(rowKey).sort();
  const files = (await readJobRows(dataDir, body.id)).vitals!.map(rowKey).sort();
  assert.deepEqual(loaded, files, 'the table holds exactly the rows of the Parquet files');

  const manifest = await readManifest(dataDir, body.id);
  assert.deepEqual(manifest.load, job.result.load);
  const schemaFile = manifest.files.find((f: any) => f.name === 'schema.sql');
  assert.ok(schemaFile, 'schema.sql is in the manifest');
  assert.ok(job.result.files.some((f: any) => f.name === 'schema.sql'));
  const text = await fs.readFile(path.join(dataDir, 'jobs', body.id, 'schema.sql'), 'utf8');
  assert.equal(Buffer.byteLength(text), schemaFile.bytes);
  assert.match(text, new RegExp(`CREATE SCHEMA IF NOT EXISTS "${S1}";[\\s\\S]*CREATE TABLE "${S1}"."vitals" \\(\\n  "SubjectID" text NOT NULL,`));
  const cols = await own`select column_name, data_type from information_schema.columns where table_schema = ${S1} and table_name = 'vitals' order by ordinal_position`;
  assert.deepEqual(cols.map((c) => `${c.column_name}:${c.data_type}`), [
    'SubjectID:text', 'TreatmentArm:text', 'VisitName:text', 'SystolicBP:integer', 'DiastolicBP:integer', 'HeartRate:integer', 'Temperature:double precision',
  ]);
  const claims = await own`select table_name, job_id, status from shardflow_load.claims where schema_name = ${S1}`;
  assert.deepEqual([...claims], [{ table_name: 'vitals', job_id: body.id, status: 'complete' }]);
  const [{ parts, sum }] = await own`select count(*)::int as parts, sum(rows)::int as sum from shardflow_load.parts where job_id = ${body.id}`;
  assert.equal(parts, manifest.tables[0].files.length);
  assert.equal(sum, rows);

  // the same schema again: the table is there → 422 naming output.postgres.schema, nothing started
  const again = await post(trialJob(1000, { schema: S1 }));
  assert.equal(again.status, 422);
  assert.equal(again.body.errors[0].path, 'output.postgres.schema');
  assert.match(again.body.errors[0].message, new RegExp(`${S1}\\.vitals already exists.*ifExists.*"replace".*another schema`));
});

test('422s: reserved schemas, unknown targets, a table already in a named target; nothing is created there; replace reloads', { skip: stackMissing }, async () => {
  const before = await schemasIn(other);
  for (const schema of ['public', 'information_schema', 'pg_temp', 'pg_anything', 'shardflow', 'shardflow_load', 'shardflowx', 'drizzle']) {
    const r = await post(trialJob(10, { schema, target: 'other' }));
    assert.equal(r.status, 422, `${schema}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.errors[0].path, 'output.postgres.schema');
  }
  const unknown = await post(trialJob(10, { schema: S2, target: 'nope' }));
  assert.equal(unknown.status, 422);
  assert.equal(unknown.body.errors[0].path, 'output.postgres.target');
  assert.match(unknown.body.errors[0].message, /"nope".*configured: other/);
  assert.doesNotMatch(JSON.stringify(unknown.body), /postgres:\/\//, 'no URL in an answer');
  const badShape = await post(trialJob(10, { schema: S2, ifExists: 'append' }));
  assert.equal(badShape.status, 400);

  // a table of the job already in the target schema
  await other.unsafe(`CREATE SCHEMA ${S2}; CREATE TABLE ${S2}.vitals (x int); INSERT INTO ${S2}.vitals VALUES (1)`);
  const exists = await post(trialJob(10, { schema: S2, target: 'other' }));
  assert.equal(exists.status, 422);
  assert.equal(exists.body.errors[0].path, 'output.postgres.schema');
  assert.deepEqual(await schemasIn(other), [...before, S2].sort(), 'a refused request creates nothing in the target');

  // replace: dropped and loaded in the named target, not in the service's database
  const { status, body } = await post(trialJob(10, { schema: S2, target: 'other', ifExists: 'replace' }));
  assert.equal(status, 202, JSON.stringify(body));
  const job = await waitForJob(api, body.id, isDone);
  assert.equal(job.status, 'completed', JSON.stringify(job.error));
  assert.deepEqual(job.result.load, { target: 'other', schema: S2, tables: [{ name: 'vitals', rows: 80 }], constraints: 0 });
  const [{ n }] = await other.unsafe(`select count(*)::int as n from ${S2}.vitals`);
  assert.equal(n, 80);
  assert.ok(!(await schemasIn(own)).includes(S2));
  const manifest = await readManifest(dataDir, body.id);
  assert.doesNotMatch(JSON.stringify(manifest), /postgres:\/\//, 'no URL in the manifest');
});

test('ledger (a kind with keys): primary keys, unique and foreign keys present, no orphans; schema.sql without a load too', { skip: stackMissing }, async () => {
  await own.unsafe(`CREATE TABLE ${SOURCE} (id integer primary key); INSERT INTO ${SOURCE} SELECT generate_series(1, 1500)`);
  const spec = { seed: 3, source: SOURCE, entriesPerAccount: 3 };
  const { status, body } = await post({ kind: 'ledger', spec, output: { postgres: { schema: S3 } }, partitioning: { shardRows: 1000 } });
  assert.equal(status, 202, JSON.stringify(body));
  const job = await waitForJob(api, body.id, isDone);
  assert.equal(job.status, 'completed', JSON.stringify(job.error));
  assert.deepEqual(job.result.load, { schema: S3, tables: [{ name: 'accounts', rows: 1500 }, { name: 'entries', rows: 4500 }], constraints: 5 });
  const cons = await own`
    select table_name, constraint_name, constraint_type from information_schema.table_constraints
    where table_schema = ${S3} and constraint_type in ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY') order by 1, 2`;
  assert.deepEqual(cons.map((c) => `${c.table_name}.${c.constraint_name}:${c.constraint_type}`), [
    'accounts.accounts_name_key:UNIQUE',
    'accounts.accounts_pkey:PRIMARY KEY',
    'entries.entries_account_id_fkey:FOREIGN KEY',
    'entries.entries_pkey:PRIMARY KEY',
  ]);
  const [fk] = await own`
    select ccu.table_name as ref_table, ccu.column_name as ref_column from information_schema.constraint_column_usage ccu
    where ccu.constraint_schema = ${S3} and ccu.constraint_name = 'entries_account_id_fkey'`;
  assert.deepEqual({ ...fk }, { ref_table: 'accounts', ref_column: 'account_id' });
  const [{ orphans }] = await own.unsafe(
    `select count(*)::int as orphans from ${S3}.entries e left join ${S3}.accounts a on a.account_id = e.account_id where a.account_id is null`,
  );
  assert.equal(orphans, 0);
  const [idx] = await own`select count(*)::int as n from pg_indexes where schemaname = ${S3} and indexname = 'entries_account_id_idx'`;
  assert.equal(idx!.n, 1);
  const text = await fs.readFile(path.join(dataDir, 'jobs', body.id, 'schema.sql'), 'utf8');
  const order = ['CREATE SCHEMA', 'CREATE TABLE "' + S3 + '"."accounts"', 'CREATE TABLE "' + S3 + '"."entries"', 'accounts_pkey', 'accounts_name_key', 'entries_pkey', 'entries_account_id_fkey', 'entries_account_id_idx', 'ANALYZE'];
  const at = order.map((s) => text.indexOf(s));
  assert.ok(at.every((i, k) => i >= 0 && (k === 0 || i > at[k - 1]!)), `schema.sql in load order:\n${text}`);

  // no load: the kind's keys still give a schema.sql (unqualified names)
  const plain = await post({ kind: 'ledger', spec, partitioning: { shardRows: 1000 } });
  const done = await waitForJob(api, plain.body.id, isDone);
  assert.equal(done.status, 'completed');
  assert.equal(done.result.load, undefined);
  assert.ok(done.result.files.some((f: any) => f.name === 'schema.sql'));
  const plainText = await fs.readFile(path.join(dataDir, 'jobs', plain.body.id, 'schema.sql'), 'utf8');
  assert.match(plainText, /CREATE TABLE "accounts"/);
  assert.doesNotMatch(plainText, /CREATE SCHEMA/);
});

test('cancel mid-load: claims incomplete, tables commented; resume loads the rest and reloads no part', { skip: stackMissing }, async () => {
  const body0 = trialJob(1000, { schema: S4 }, 11);
  // one shard at a time: shard 0 completes (and loads), shard 1 waits for the cancel
  const { status, body } = await post({ ...body0, partitioning: { shardRows: 2000, maxParallelShards: 1 } });
  assert.equal(status, 202, JSON.stringify(body));
  holdShard1.add(body.id);
  await waitForJob(api, body.id, (j) => j.progress?.shards?.completed >= 1 || isDone(j));
  assert.equal((await control(api, body.id, 'cancel')).status, 202);
  const cancelled = await waitForJob(api, body.id, isDone);
  assert.equal(cancelled.status, 'cancelled');
  const claims = await own`select status from shardflow_load.claims where schema_name = ${S4} and table_name = 'vitals'`;
  assert.deepEqual(claims.map((c) => c.status), ['incomplete']);
  const [{ c }] = await own`select obj_description(${`${S4}.vitals`}::regclass) as c`;
  assert.equal(c, `shardflow job ${body.id} incomplete`);
  const loadedBefore = await own`select part, loaded_at from shardflow_load.parts where job_id = ${body.id} order by part`;
  const [{ n: partial }] = await own.unsafe(`select count(*)::int as n from ${S4}.vitals`);
  assert.ok(partial >= 2000 && partial < 8000, `shard 0 loaded before the cancel: ${partial}`);

  assert.equal((await control(api, body.id, 'resume')).status, 202);
  const done = await waitForJob(api, body.id, (j) => j.status === 'completed' || j.status === 'failed');
  assert.equal(done.status, 'completed', JSON.stringify(done.error));
  const [{ n, d }] = await own.unsafe(`select count(*)::int as n, count(distinct ("SubjectID", "VisitName"))::int as d from ${S4}.vitals`);
  assert.equal(n, 8000);
  assert.equal(d, 8000, 'no row twice');
  const loadedAfter = await own`select part, loaded_at from shardflow_load.parts where job_id = ${body.id} order by part`;
  assert.equal(loadedAfter.length, 8);
  for (const p of loadedBefore) {
    assert.deepEqual(loadedAfter.find((q) => q.part === p.part)?.loaded_at, p.loaded_at, `part ${p.part} was not loaded again`);
  }
  const after = await own`select status from shardflow_load.claims where schema_name = ${S4}`;
  assert.deepEqual(after.map((x) => x.status), ['complete']);
});

test('DELETE: a completed load keeps its tables (unclaimed); a cancelled one has its tables dropped; claims, markers, files and row go', { skip: stackMissing }, async () => {
  const regclass = async (q: string) => (await own`select to_regclass(${q}) is not null as ok`)[0]!.ok as boolean;
  // completed
  const { body } = await post(trialJob(500, { schema: S5 }));
  assert.equal((await waitForJob(api, body.id, isDone)).status, 'completed');
  const del = await api.request(`/v1/jobs/${body.id}`, { method: 'DELETE' });
  assert.equal(del.status, 204);
  assert.equal(await del.text(), '');
  assert.equal((await api.request(`/v1/jobs/${body.id}`)).status, 404);
  assert.equal(await fs.access(path.join(dataDir, 'jobs', body.id)).then(() => true, () => false), false, 'the job folder is gone');
  assert.ok(await regclass(`${S5}.vitals`), 'a completely loaded table stays');
  const [{ n }] = await own.unsafe(`select count(*)::int as n from ${S5}.vitals`);
  assert.equal(n, 4000);
  assert.equal((await own`select count(*)::int as n from shardflow_load.claims where job_id = ${body.id}`)[0]!.n, 0);
  assert.equal((await own`select count(*)::int as n from shardflow_load.parts where job_id = ${body.id}`)[0]!.n, 0);
  // unclaimed: another job may replace it (and without replace it is refused as an existing table)
  const refused = await post(trialJob(500, { schema: S5 }));
  assert.equal(refused.status, 422);
  assert.match(refused.body.errors[0].message, /already exists/);
  const replaced = await post(trialJob(500, { schema: S5, ifExists: 'replace' }));
  assert.equal(replaced.status, 202);
  assert.equal((await waitForJob(api, replaced.body.id, isDone)).status, 'completed');

  // cancelled mid-load: DELETE drops what it half-loaded
  const c = await post({ ...trialJob(1000, { schema: S6 }, 12), partitioning: { shardRows: 2000, maxParallelShards: 1 } });
  holdShard1.add(c.body.id);
  await waitForJob(api, c.body.id, (j) => j.progress?.shards?.completed >= 1 || isDone(j));
  assert.ok(await regclass(`${S6}.vitals`));
  const d2 = await api.request(`/v1/jobs/${c.body.id}`, { method: 'DELETE' });
  assert.equal(d2.status, 204, await d2.clone().text());
  assert.equal(await regclass(`${S6}.vitals`), false, 'the half-loaded table is dropped');
  assert.equal((await own`select count(*)::int as n from shardflow_load.claims where job_id = ${c.body.id}`)[0]!.n, 0);
  assert.equal((await own`select count(*)::int as n from shardflow_load.parts where job_id = ${c.body.id}`)[0]!.n, 0);
  assert.equal((await api.request(`/v1/jobs/${c.body.id}`, { method: 'DELETE' })).status, 404);
});
