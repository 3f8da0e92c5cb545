/**
 * Shared engine suite, for every kind — history stays bounded: a job of 5,200 tiny shards
 * continues as new every 1,000 shards, each run's history stays small, and the output is that
 * of a one-shard-per-table run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApi, type TestApi } from './support/api.js';
import { digestsOf, engineCases } from './support/engine-cases.js';
import { isDone, postJob, readManifest, tempDataDir, waitForJob } from './support/jobs.js';
import { uniqueTaskQueue } from './support/stack.js';
import { startTestWorker, type TestWorker } from './support/worker.js';

let api: TestApi;
let worker: TestWorker;
let dataDir: string;

before(async () => {
  const taskQueue = uniqueTaskQueue('history');
  dataDir = await tempDataDir();
  api = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: taskQueue, SHARDFLOW_DATA_DIR: dataDir } });
  worker = await startTestWorker({
    taskQueue,
    dataDir,
    env: { SHARDFLOW_SHARDS_PER_RUN: '1000', WORKER_MAX_CONCURRENT_ACTIVITIES: '32' },
  });
});
after(async () => {
  for (const c of engineCases) await c.cleanup?.(api);
  await worker?.stop();
  await api?.close();
});

const UNITS = 52_000;

/** The statuses of every run of a workflow, once visibility lists the completed one and none running (a state, not a time). */
async function settledRuns(client: TestApi['deps']['temporal']['client'], id: string, timeoutMs = 30_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const runs: string[] = [];
    for await (const w of client.workflow.list({ query: `WorkflowId = '${id}'` })) runs.push(w.status.name);
    if (runs.includes('COMPLETED') && !runs.includes('RUNNING')) return runs;
    if (Date.now() > deadline) throw new Error(`visibility never settled on a completed run of ${id}: ${JSON.stringify(runs)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

for (const c of engineCases) {
  describe(`kind ${c.kind}`, () => {
    test('5,200 shards: continue-as-new keeps each run small; same digests as one shard per table', async () => {
      const { body: spec, tables } = await c.job(api, UNITS, { seed: 5, multipleOf: 10 });
      const { status, body } = await postJob(api, { ...spec, partitioning: { shardRows: 10, maxParallelShards: 32 } });
      assert.equal(status, 202, JSON.stringify(body));
      const done = await waitForJob(api, body.id, isDone, 600_000);
      assert.equal(done.status, 'completed', JSON.stringify(done.error));
      assert.equal(done.result.rows, UNITS);
      assert.equal(done.progress.shards.total, 5_200);
      assert.equal(done.progress.shards.completed, 5_200);

      const client = api.deps.temporal.client;
      // The job row says completed a moment before the workflow's last task closes the run, and
      // visibility lags the run itself: wait for the run's result, then for visibility to show no run open.
      await client.workflow.getHandle(body.id).result();
      const runs = await settledRuns(client, body.id);
      // At least one continue-as-new per 1,000 shards; one more when Temporal suggests it earlier (a run
      // whose history grew with many small workflow tasks, as on a loaded machine), never unbounded.
      const cans = runs.filter((s) => s === 'CONTINUED_AS_NEW').length;
      assert.ok(cans >= 5 && cans <= 10, JSON.stringify(runs));
      assert.equal(runs.filter((s) => s === 'COMPLETED').length, 1);
      const last = await client.workflow.getHandle(body.id).fetchHistory();
      assert.ok(last.events!.length < 10_000, `last run has ${last.events!.length} events`);

      const one = await postJob(api, { ...spec, partitioning: { shardRows: Math.max(...tables.map((t) => t.rows)) } });
      const ref = await waitForJob(api, one.body.id, isDone);
      assert.equal(ref.status, 'completed');
      assert.deepEqual(digestsOf(await readManifest(dataDir, body.id)), digestsOf(await readManifest(dataDir, ref.id)));
    });
  });
}
