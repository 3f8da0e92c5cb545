/**
 * SIGTERM on a worker process in the middle of a shard: its running shards close their open part,
 * checkpoint and stop, the process exits 0, its JSON log lines name the job, tenant and shard,
 * and another worker resumes the shard where it stopped — exact rows, the digest of an
 * undisturbed run.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPayloadConverter } from '@temporalio/common';
import { startTestApi, stackMissing, type TestApi } from './support/api.js';
import { committedUnits, isDone, postJob, readManifest, tempDataDir, waitForJob } from './support/jobs.js';
import { uniqueTaskQueue } from './support/stack.js';
import { spawnWorkerProcess, type WorkerProcess } from './support/worker.js';

let api: TestApi;
let dataDir: string;
let taskQueue: string;
const workers: WorkerProcess[] = [];

before(async () => {
  if (stackMissing) return;
  taskQueue = uniqueTaskQueue('sigterm');
  dataDir = await tempDataDir();
  api = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: taskQueue, SHARDFLOW_DATA_DIR: dataDir } });
});
after(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await api?.close();
});

const PART_ROWS = 200_000;
const ROWS = 4_000_000;
const env = () => ({ TEMPORAL_TASK_QUEUE: taskQueue, SHARDFLOW_DATA_DIR: dataDir, SHARDFLOW_PART_ROWS: String(PART_ROWS), WORKER_THREADS: '2' });
const spec = { kind: 'trial', spec: { method: 'mvn', nPerArm: ROWS / 8, seed: 77 } };

test('SIGTERM mid-shard: shards checkpoint and stop, exit 0, and resume on another worker', { skip: stackMissing }, async () => {
  const first = await spawnWorkerProcess(env());
  workers.push(first);
  const { body } = await postJob(api, { ...spec, partitioning: { shardRows: ROWS / 2, maxParallelShards: 2 } });
  const seen = await waitForJob(api, body.id, (j) => committedUnits(dataDir, body.id) >= PART_ROWS || isDone(j), 60_000);
  assert.equal(seen.status, 'running', 'the job finished before the worker could be stopped');
  first.kill('SIGTERM');
  assert.equal(await first.exited, 0, `SIGTERM exits 0:\n${first.output().slice(-2000)}`);
  const lines = first
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  const stopped = lines.filter((l) => l.msg === 'shard stopped: the worker is shutting down');
  assert.ok(stopped.length >= 1, `a running shard stopped for the shutdown:\n${first.output().slice(-3000)}`);
  for (const l of [...stopped, ...lines.filter((x) => x.msg === 'shard started')]) {
    assert.equal(l.jobId, body.id);
    assert.equal(l.tenantId, 'local');
    assert.equal(typeof l.shard, 'number');
    assert.equal(l.kind, 'trial');
    assert.equal(l.taskToken, undefined, 'no task token in the logs');
  }
  const atStop = committedUnits(dataDir, body.id);
  assert.ok(atStop < ROWS && atStop % PART_ROWS === 0, `checkpointed whole parts: ${atStop}`);

  const second = await spawnWorkerProcess(env());
  workers.push(second);
  const done = await waitForJob(api, body.id, isDone, 180_000);
  assert.equal(done.status, 'completed', JSON.stringify(done.error));
  assert.equal(done.result.rows, ROWS);
  const history = await api.deps.temporal.client.workflow.getHandle(body.id).fetchHistory();
  const results = history
    .events!.filter((e) => e.activityTaskCompletedEventAttributes)
    .map((e) => defaultPayloadConverter.fromPayload<any>(e.activityTaskCompletedEventAttributes!.result!.payloads![0] as any))
    .filter((r) => r && typeof r.resumedUnits === 'number');
  assert.equal(results.length, 2);
  assert.ok(results.some((r) => r.resumedUnits > 0), `a shard resumed from its checkpoint: ${JSON.stringify(results)}`);

  const reference = await postJob(api, { ...spec, partitioning: { shardRows: ROWS, maxParallelShards: 1 } });
  const ref = await waitForJob(api, reference.body.id, isDone, 180_000);
  assert.equal((await readManifest(dataDir, body.id)).tables[0].digest, (await readManifest(dataDir, ref.id)).tables[0].digest);
  second.kill('SIGTERM');
  assert.equal(await second.exited, 0);
});
