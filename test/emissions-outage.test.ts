/**
 * An emissions job survives a Postgres restart mid-run. This file starts its own Temporal and
 * Postgres (test/support/outage.ts) and stops Postgres while shards are calculating: the running
 * shards find it unreachable, wait (heartbeating their last commit, no attempt spent) and go on
 * from that commit once it is back. The job ends with exactly one result per activity, totals equal
 * to the sum of the results, and no shard attempt after the first.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import { createWorkerMetrics } from '../src/worker/metrics.js';
import { startTestApi, type TestApi } from './support/api.js';
import { committedUnits, isDone, postJob, tempDataDir, waitForJob } from './support/jobs.js';
import { pollUntil, startOutageStack, type OutageStack } from './support/outage.js';
import { parseProm, valueOf } from './support/prom.js';
import { uniqueTaskQueue } from './support/stack.js';
import { startTestWorker, type TestWorker } from './support/worker.js';

let stack: OutageStack;
let api: TestApi;
let worker: TestWorker;
let dataDir: string;
const metrics = createWorkerMetrics();
const org = `outage-${process.pid}`;
const N = 40_000;
/** USA, Ember via @tgwf/co2 0.19.0: 383.55 g CO2e/kWh; every activity is 1 kWh. */
const KG_EACH = 0.38355;

before(async () => {
  stack = await startOutageStack();
  dataDir = await tempDataDir();
  const queue = uniqueTaskQueue('emissions-outage');
  api = await startTestApi({ env: { ...stack.env, TEMPORAL_TASK_QUEUE: queue, SHARDFLOW_DATA_DIR: dataDir } });
  worker = await startTestWorker({ taskQueue: queue, dataDir, env: { ...stack.env, WORKER_THREADS: '2' }, observer: metrics.observer });
});

after(async () => {
  await stack?.postgres.start().catch(() => {});
  await worker?.stop();
  await api?.close();
  await stack?.stop();
});

const waits = async () => valueOf(parseProm(await metrics.registry.metrics()), 'shardflow_shard_postgres_waits_total', { kind: 'emissions' });

test('Postgres restarted mid-run: shards wait and go on from their last commit; one result per activity, no attempt spent', { timeout: 600_000 }, async (t) => {
  let body = '';
  for (let i = 0; i < N; i++) body += JSON.stringify({ type: 'electricity', orgId: org, period: '2025-06', kwh: 1, country: 'USA' }) + '\n';
  const res = await api.request('/v1/activities', { method: 'POST', headers: { 'Content-Type': 'application/x-ndjson' }, body });
  assert.equal(res.status, 201, await res.text());

  const { status, body: created } = await postJob(api, { kind: 'emissions', spec: { orgId: org, batchSize: 200 }, partitioning: { shardRows: 20_000, maxParallelShards: 2 } });
  assert.equal(status, 202, JSON.stringify(created));
  const seen = await waitForJob(api, created.id, (j) => committedUnits(dataDir, created.id) >= 1000 || isDone(j), 120_000);
  assert.equal(seen.status, 'running', 'the job finished before Postgres could be stopped');

  const handle = api.deps.temporal.client.workflow.getHandle(created.id);
  const before = committedUnits(dataDir, created.id);
  await stack.postgres.stop();
  const down = Date.now();
  try {
    // Both shards run into the outage and back off (1 s, 2 s, …): at least three waits in all.
    await pollUntil('shards waiting for Postgres', async () => ((await waits()) >= 3 ? true : undefined), 120_000, 100);
    const d = await handle.describe();
    const shards = (d.raw.pendingActivities ?? []).filter((a) => a.activityType?.name === 'runShard');
    assert.ok(shards.length >= 1, 'shards are still running while Postgres is down');
    assert.ok(shards.every((a) => (a.attempt ?? 1) === 1), `no attempt spent on the outage: ${JSON.stringify(shards.map((a) => a.attempt))}`);
  } finally {
    await stack.postgres.start();
  }
  t.diagnostic(`Postgres down ${Date.now() - down} ms with ${before} of ${N} units committed; ${await waits()} waits`);

  const done = await waitForJob(api, created.id, isDone, 300_000);
  assert.equal(done.status, 'completed', JSON.stringify(done.error));
  assert.equal(done.progress.done, N);

  const sql = postgres(stack.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const [r] = await sql`select count(*)::int as n, count(distinct activity_id)::int as d, sum(kg_co2e)::float8 as kg,
      count(distinct run_id)::int as runs from emission_results where org_id = ${org}`;
    assert.deepEqual({ n: r!.n, d: r!.d, runs: r!.runs }, { n: N, d: N, runs: 1 });
    const totals = done.result.summary.totals;
    assert.equal(totals.activities, N, 'no batch counted twice or skipped');
    assert.ok(Math.abs(totals.kgCo2e - r!.kg) < 1e-6 * r!.kg, `totals ${totals.kgCo2e} vs results ${r!.kg}`);
    assert.ok(Math.abs(r!.kg - N * KG_EACH) < 1e-6 * N, `results ${r!.kg} vs ${N} × ${KG_EACH}`);
  } finally {
    await sql.end({ timeout: 5 });
  }

  // Every shard ran in its first attempt: the outage was waited out, not retried.
  const history = await handle.fetchHistory();
  const scheduled = new Map<string, string>();
  for (const e of history.events!) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(String(e.eventId), s.activityType?.name ?? '');
  }
  const shardAttempts = history.events!.filter((e) => {
    const s = e.activityTaskStartedEventAttributes;
    return s && scheduled.get(String(s.scheduledEventId)) === 'runShard';
  }).map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
  assert.equal(shardAttempts.length, 2);
  assert.deepEqual(shardAttempts, [1, 1]);
});
