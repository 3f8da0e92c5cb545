/**
 * An emissions job survives a SIGKILLed worker: a new worker resumes the shards from their
 * checkpoints (the cursor in the heartbeat/shard record), and the job ends with exactly one result
 * per activity, no duplicates, and totals equal to the sum of the results (a batch redone after
 * the kill is neither skipped nor counted twice).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPayloadConverter } from '@temporalio/common';
import postgres from 'postgres';
import { stackMissing, startTestApi, type TestApi } from './support/api.js';
import { committedUnits, getJob, isDone, postJob, tempDataDir, waitForJob } from './support/jobs.js';
import { uniqueTaskQueue } from './support/stack.js';
import { spawnWorkerProcess, type WorkerProcess } from './support/worker.js';

let api: TestApi;
let sql: postgres.Sql;
let taskQueue: string;
let dataDir: string;
const workers: WorkerProcess[] = [];
const org = `kill-${process.pid}-${Date.now().toString(36)}`;
const N = 60_000;

before(async () => {
  if (stackMissing) return;
  taskQueue = uniqueTaskQueue('emissions-kill');
  dataDir = await tempDataDir();
  api = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: taskQueue, SHARDFLOW_DATA_DIR: dataDir } });
  sql = postgres(process.env.DATABASE_URL!, { max: 2, onnotice: () => {} });
});

after(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await api?.close();
  await sql?.end({ timeout: 5 });
});

const workerEnv = () => ({ TEMPORAL_TASK_QUEUE: taskQueue, SHARDFLOW_DATA_DIR: dataDir, WORKER_THREADS: '2' });

test('SIGKILL mid-job, new worker: one result per activity, totals = sum of results, resumed from the checkpoint', { skip: stackMissing, timeout: 600_000 }, async () => {
  let body = '';
  for (let i = 0; i < N; i++) {
    body += JSON.stringify(
      i % 2
        ? { type: 'electricity', orgId: org, period: '2025-02', kwh: (i % 100) + 1, country: i % 4 === 1 ? 'DEU' : 'GBR' }
        : { type: 'air_travel', orgId: org, date: '2025-02-03', origin: 'LHR', destination: i % 4 ? 'JFK' : 'CDG', cabinClass: 'economy', passengers: 1, roundTrip: false },
    ) + '\n';
  }
  const res = await api.request('/v1/activities', { method: 'POST', headers: { 'Content-Type': 'application/x-ndjson' }, body });
  assert.equal(res.status, 201);

  const first = await spawnWorkerProcess(workerEnv());
  workers.push(first);
  const { body: created } = await postJob(api, { kind: 'emissions', spec: { orgId: org, batchSize: 500 }, partitioning: { shardRows: 30_000, maxParallelShards: 2 } });
  const seen = await waitForJob(api, created.id, (j) => committedUnits(dataDir, created.id) >= 1000 || isDone(j), 120_000);
  assert.equal(seen.status, 'running', 'the job finished before the worker could be killed');
  first.kill('SIGKILL');
  assert.equal(await first.exited, 'SIGKILL');
  assert.ok((await getJob(api, created.id)).progress.done < N);

  const second = await spawnWorkerProcess(workerEnv());
  workers.push(second);
  const done = await waitForJob(api, created.id, isDone, 300_000);
  assert.equal(done.status, 'completed', JSON.stringify(done.error));
  assert.equal(done.progress.done, N);

  const [r] = await sql`select count(*)::int as n, count(distinct activity_id)::int as d, sum(kg_co2e)::float8 as kg
    from emission_results where org_id = ${org}`;
  assert.equal(r!.n, N);
  assert.equal(r!.d, N);
  const totals = done.result.summary.totals;
  assert.equal(totals.activities, N, 'no batch counted twice or skipped');
  assert.ok(Math.abs(totals.kgCo2e - r!.kg) < 1e-6 * r!.kg, `totals ${totals.kgCo2e} vs results ${r!.kg}`);

  const history = await api.deps.temporal.client.workflow.getHandle(created.id).fetchHistory();
  const results = history
    .events!.filter((e) => e.activityTaskCompletedEventAttributes)
    .map((e) => defaultPayloadConverter.fromPayload<any>(e.activityTaskCompletedEventAttributes!.result!.payloads![0] as any))
    .filter((x) => x && typeof x.resumedUnits === 'number');
  assert.ok(results.some((x) => x.resumedUnits > 0), `no shard resumed: ${JSON.stringify(results)}`);
  second.kill('SIGTERM');
  assert.equal(await second.exited, 0);
});
