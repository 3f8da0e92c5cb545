/**
 * The Postgres load survives SIGKILL: a worker process killed while its shards are loading parts,
 * a new worker: the table has exactly the planned rows, no row twice, one marker per part, and
 * the worker's output never shows a connection string.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import { startTestApi, type TestApi } from './support/api.js';
import { getJob, isDone, postJob, readManifest, tempDataDir, waitForJob } from './support/jobs.js';
import { dropLoadBookkeepingIfEmpty } from './support/postgres-load.js';
import { stackMissing, uniqueTaskQueue } from './support/stack.js';
import { spawnWorkerProcess, type WorkerProcess } from './support/worker.js';

let api: TestApi;
let dataDir: string;
let taskQueue: string;
let sql: postgres.Sql;
let jobId: string | undefined;
const workers: WorkerProcess[] = [];
const SCHEMA = `exp_load_kill_${process.pid}`;
const PART_ROWS = 50_000;
const ROWS = 800_000;

before(async () => {
  if (stackMissing) return;
  taskQueue = uniqueTaskQueue('pgkill');
  dataDir = await tempDataDir();
  sql = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
  api = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: taskQueue, SHARDFLOW_DATA_DIR: dataDir } });
});
after(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await api?.close();
  if (sql) {
    await sql.unsafe(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await sql`delete from shardflow_load.claims where schema_name = ${SCHEMA}`.catch(() => undefined);
    if (jobId) await sql`delete from shardflow_load.parts where job_id = ${jobId}`.catch(() => undefined);
    await dropLoadBookkeepingIfEmpty(sql);
    await sql.end();
  }
});

const workerEnv = () => ({ TEMPORAL_TASK_QUEUE: taskQueue, SHARDFLOW_DATA_DIR: dataDir, SHARDFLOW_PART_ROWS: String(PART_ROWS), WORKER_THREADS: '2' });

test('SIGKILL mid-load, new worker: exact count, no row twice, one marker per part', { skip: stackMissing }, async () => {
  const first = await spawnWorkerProcess(workerEnv());
  workers.push(first);
  const { status, body } = await postJob(api, {
    kind: 'trial',
    spec: { method: 'mvn', nPerArm: ROWS / 8, targetEffect: -5, seed: 99 },
    output: { postgres: { schema: SCHEMA } },
    partitioning: { shardRows: 400_000, maxParallelShards: 2 },
  });
  assert.equal(status, 202, JSON.stringify(body));
  jobId = body.id;
  // a part has been loaded and committed in some shard, and the job is far from done
  const seen = await waitForJob(api, body.id, (j) => j.progress?.done >= PART_ROWS || isDone(j), 120_000);
  assert.equal(seen.status, 'running', 'the job finished before the worker could be killed');
  first.kill('SIGKILL');
  assert.equal(await first.exited, 'SIGKILL');
  assert.ok((await getJob(api, body.id)).progress.done < ROWS);
  const [{ markers }] = await sql`select count(*)::int as markers from shardflow_load.parts where job_id = ${body.id}`;
  assert.ok(markers >= 1 && markers < ROWS / PART_ROWS, `parts loaded before the kill: ${markers}`);

  const second = await spawnWorkerProcess(workerEnv());
  workers.push(second);
  const done = await waitForJob(api, body.id, isDone, 300_000);
  assert.equal(done.status, 'completed', JSON.stringify(done.error));
  const [{ n, d }] = await sql.unsafe(`select count(*)::int as n, count(distinct ("SubjectID", "VisitName"))::int as d from ${SCHEMA}.vitals`);
  assert.equal(n, ROWS);
  assert.equal(d, ROWS, 'no row twice');
  const parts = await sql`select part, rows from shardflow_load.parts where job_id = ${body.id} order by part`;
  assert.deepEqual(parts.map((p) => p.part), Array.from({ length: ROWS / PART_ROWS }, (_, i) => i));
  assert.ok(parts.every((p) => Number(p.rows) === PART_ROWS));
  const manifest = await readManifest(dataDir, body.id);
  assert.equal(manifest.load.tables[0].rows, ROWS);
  second.kill('SIGTERM');
  assert.equal(await second.exited, 0, 'SIGTERM drains the worker (and its threads close their clients) and exits 0');
  for (const w of [first, second]) assert.doesNotMatch(w.output(), /postgres(ql)?:\/\/|:postgres@/, 'no connection string in the worker output');
});
