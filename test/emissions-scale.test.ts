/**
 * 100,000 activities of the three types, ingested as NDJSON (COPY), calculated by one emissions
 * job over several shards and many batches: one result per activity, no duplicates, the job's
 * totals and the summary equal the sum of the results; a worker killed mid-job (the shard's
 * activity retried on another attempt) still leaves exactly one result per activity; a second run
 * has nothing to do.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import { stackMissing, startTestApi, type TestApi } from './support/api.js';
import { committedUnits, control, isDone, postJob, tempDataDir, waitForJob } from './support/jobs.js';
import { uniqueTaskQueue } from './support/stack.js';
import { startTestWorker, type TestWorker } from './support/worker.js';

let api: TestApi;
let worker: TestWorker;
let sql: postgres.Sql;
let dataDir: string;
const org = `scale-${process.pid}-${Date.now().toString(36)}`;
const N = 100_000;
const failedOnce = new Set<number>();

before(async () => {
  if (stackMissing) return;
  const q = uniqueTaskQueue('emissions-scale');
  dataDir = await tempDataDir();
  api = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: q, SHARDFLOW_DATA_DIR: dataDir, SHARDFLOW_MAX_CSV_BYTES: String(64 << 20) } });
  worker = await startTestWorker({
    taskQueue: q,
    dataDir,
    env: { WORKER_THREADS: '2' },
    faults: {
      // Shard 1's first attempt waits until shard 0 has committed work, then fails: its retry resumes.
      beforeShard(task, attempt) {
        if (task.input.spec.orgId === org && task.shard.index === 1 && attempt === 1 && !failedOnce.has(1)) {
          failedOnce.add(1);
          throw new Error('injected: shard 1 fails once');
        }
      },
    },
  });
  sql = postgres(process.env.DATABASE_URL!, { max: 2, onnotice: () => {} });
});

after(async () => {
  await worker?.stop();
  await api?.close();
  await sql?.end({ timeout: 5 });
});

const AIRPORTS = ['LHR', 'JFK', 'CDG', 'FRA', 'EDI', 'SIN', 'SFO', 'MAN'];
const CABINS = ['economy', 'premium_economy', 'business', 'first', 'average'];
const NAICS = ['541511', '541512', '561320', '111110', '562212'];
const COUNTRIES = ['DEU', 'FRA', 'GBR', 'USA', 'ZZZ'];

function activity(i: number): Record<string, unknown> {
  const month = `2025-${String((i % 12) + 1).padStart(2, '0')}`;
  switch (i % 3) {
    case 0:
      return { type: 'electricity', orgId: org, period: month, kwh: (i % 997) + 1, country: COUNTRIES[i % 5] };
    case 1:
      return { type: 'goods_services', orgId: org, period: month, amount: (i % 5000) + 0.5, currency: i % 2 ? 'USD' : 'EUR', category: NAICS[i % 5] };
    default: {
      const o = AIRPORTS[i % 8]!;
      const d = AIRPORTS[(i + 3) % 8]!;
      return { type: 'air_travel', orgId: org, date: `${month}-1${i % 10}`, origin: o, destination: d, cabinClass: CABINS[i % 5], passengers: (i % 3) + 1, roundTrip: i % 2 === 0 };
    }
  }
}

test('100K activities: results = activities, no duplicates, totals and summary = sum of results', { skip: stackMissing, timeout: 600_000 }, async () => {
  let body = '';
  for (let i = 0; i < N; i++) body += JSON.stringify(activity(i)) + '\n';
  const t0 = Date.now();
  const res = await api.request('/v1/activities', { method: 'POST', headers: { 'Content-Type': 'application/x-ndjson' }, body });
  const ingest = (await res.json()) as any;
  assert.equal(res.status, 201, JSON.stringify(ingest).slice(0, 500));
  assert.equal(ingest.inserted, N);
  const ingestSeconds = (Date.now() - t0) / 1000;

  const t1 = Date.now();
  const { status, body: created } = await postJob(api, { kind: 'emissions', spec: { orgId: org, batchSize: 5000 }, partitioning: { shardRows: 25_000, maxParallelShards: 2 } });
  assert.equal(status, 202, JSON.stringify(created));
  assert.equal(created.estimate.rows, N);
  const job = await waitForJob(api, created.id, isDone, 540_000);
  assert.equal(job.status, 'completed', JSON.stringify(job).slice(0, 1500));
  const jobSeconds = (Date.now() - t1) / 1000;
  assert.ok(failedOnce.has(1), 'the injected shard failure happened');
  assert.equal(job.progress.done, N);
  assert.equal(job.progress.shards.total, 4);

  const [r] = await sql`select count(*)::int as n, count(distinct activity_id)::int as d, sum(kg_co2e)::float8 as kg,
    count(*) filter (where run_id = ${job.id})::int as mine from emission_results where org_id = ${org}`;
  assert.equal(r!.n, N, 'one result per activity');
  assert.equal(r!.d, N, 'no duplicates');
  assert.equal(r!.mine, N);
  const totals = job.result.summary.totals;
  assert.equal(totals.activities, N);
  assert.ok(Math.abs(totals.kgCo2e - r!.kg) < 1e-6 * r!.kg, `job total ${totals.kgCo2e} vs results ${r!.kg}`);

  const sum = (await (await api.request(`/v1/emissions/summary?orgId=${org}&groupBy=month`)).json()) as any;
  assert.equal(sum.groups.length, 12);
  assert.equal(sum.groups.reduce((n: number, g: any) => n + g.activities, 0), N);
  assert.ok(Math.abs(sum.totalTonnesCo2e - r!.kg / 1000) < 1e-6 * (r!.kg / 1000));

  // A second run: nothing pending, nothing written.
  const again = await postJob(api, { kind: 'emissions', spec: { orgId: org } });
  const j2 = await waitForJob(api, again.body.id, isDone, 120_000);
  assert.equal(j2.status, 'completed');
  assert.equal(j2.progress.total, 0);
  const [r2] = await sql`select count(*)::int as n from emission_results where org_id = ${org}`;
  assert.equal(r2!.n, N);
  console.log(`# 100K: ingest ${ingestSeconds.toFixed(1)} s, job ${jobSeconds.toFixed(1)} s`);
});

test('pause mid-job: shards stop at a batch boundary; the totals so far show on the job; resume finishes with one result per activity', { skip: stackMissing, timeout: 300_000 }, async () => {
  const o = `${org}-pause`;
  const n = 40_000;
  let body = '';
  for (let i = 0; i < n; i++) body += JSON.stringify({ type: 'electricity', orgId: o, period: '2025-10', kwh: 1, country: 'USA' }) + '\n';
  assert.equal((await api.request('/v1/activities', { method: 'POST', headers: { 'Content-Type': 'application/x-ndjson' }, body })).status, 201);
  const { body: created } = await postJob(api, { kind: 'emissions', spec: { orgId: o, batchSize: 100 }, partitioning: { shardRows: 2_000, maxParallelShards: 2 } });
  // Once a shard has completed, its totals are the job's so far.
  const running = await waitForJob(api, created.id, (j) => j.progress?.shards.completed >= 1 || isDone(j), 60_000);
  assert.equal(running.status, 'running', 'the job finished before a read while it ran');
  assert.ok(running.progress.totals?.activities > 0, JSON.stringify(running.progress));
  const paused = await control(api, created.id, 'pause');
  assert.equal(paused.status, 202);
  const still = await waitForJob(api, created.id, (j) => (j.status === 'paused' && j.progress.shards.running === 0) || isDone(j), 60_000);
  assert.equal(still.status, 'paused', 'the job finished before it could be paused');
  const [mid] = await sql`select count(*)::int as n from emission_results where org_id = ${o}`;
  assert.ok(mid!.n < n, `paused with ${mid!.n} of ${n} done`);
  // Paused: the completed shards' totals (USA 383.55 g/kWh × 1 kWh each); a stopped shard's batches join when it completes.
  const t = still.progress.totals;
  assert.ok(t.activities >= running.progress.totals.activities && t.activities <= mid!.n, JSON.stringify(t));
  assert.ok(Math.abs(t.kgCo2e - t.activities * 0.38355) < 1e-6 * t.activities, JSON.stringify(t));
  assert.equal(t['activities.electricity'], t.activities);
  assert.equal((await control(api, created.id, 'resume')).status, 202);
  const done = await waitForJob(api, created.id, isDone, 120_000);
  assert.equal(done.status, 'completed');
  const [r] = await sql`select count(*)::int as n, count(distinct activity_id)::int as d from emission_results where org_id = ${o}`;
  assert.deepEqual(r, { n, d: n });
  assert.equal(done.result.summary.totals.activities, n);
  // USA: 383.55 g/kWh, 20,000 × 1 kWh.
  assert.ok(Math.abs(done.result.summary.totals.kgCo2e - n * 0.38355) < 1e-6 * n);
});
