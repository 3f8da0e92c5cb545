/**
 * Progress never goes backwards, also while no worker can answer the workflow's progress query:
 * reads then show the last counts the workflow gave (kept in Postgres), and after one unanswered
 * query they answer at once instead of waiting for the query's timeout again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { stackMissing, startTestApi, type TestApi } from './support/api.js';
import { shardGate } from './support/gate.js';
import { getJob, postJob, tempDataDir, waitForJob } from './support/jobs.js';
import { uniqueTaskQueue } from './support/stack.js';
import { startTestWorker, type TestWorker } from './support/worker.js';

let api: TestApi;
let worker: TestWorker | undefined;
const gate = shardGate(2);
let jobId: string | undefined;

before(async () => {
  if (stackMissing) return;
  const taskQueue = uniqueTaskQueue('progress');
  const dataDir = await tempDataDir();
  api = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: taskQueue, SHARDFLOW_DATA_DIR: dataDir } });
  worker = await startTestWorker({ taskQueue, dataDir, faults: { beforeShard: gate.beforeShard } });
});
after(async () => {
  gate.open();
  await worker?.stop();
  if (jobId) await api.deps.temporal.client.workflow.getHandle(jobId).terminate('test over').catch(() => {});
  await api?.close();
});

test('with the worker gone, reads keep the last shard counts and done, and answer without waiting', { skip: stackMissing }, async () => {
  const r = await postJob(api, { kind: 'trial', spec: { method: 'mvn', nPerArm: 1000, seed: 2 }, partitioning: { shardRows: 1000, maxParallelShards: 1 } });
  assert.equal(r.status, 202);
  jobId = r.body.id;
  const good = await waitForJob(api, r.body.id, (j) => j.progress?.shards.completed === 2 && j.progress.shards.running === 1);
  assert.equal(good.progress.shards.total, 8);
  await worker!.stop(); // nothing answers the progress query from now on
  worker = undefined;

  const reads = [];
  for (let i = 0; i < 4; i++) {
    const t0 = Date.now();
    const j = await getJob(api, r.body.id);
    reads.push({ ms: Date.now() - t0, j });
  }
  for (const { j } of reads) {
    assert.equal(j.status, 'running');
    assert.deepEqual(j.progress.shards, good.progress.shards, 'the last counts the workflow gave, not zeros');
    assert.ok(j.progress.done >= good.progress.done, `done ${j.progress.done} < ${good.progress.done}`);
    assert.equal(j.progress.total, good.progress.total);
  }
  // The first read may wait for the query's timeout; the next ones do not ask again.
  for (const { ms } of reads.slice(1)) assert.ok(ms < 1500, `reads after an unanswered query took ${reads.map((x) => x.ms)} ms`);
});
