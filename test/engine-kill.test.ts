/**
 * Shared engine suite, for every kind: SIGKILL the worker process in the middle of a shard, start
 * a new one: the job completes with exactly the expected rows and the digests of an undisturbed
 * run, and a retried shard resumed from its checkpoint (parts closed before the kill are not
 * written again).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { startTestApi, type TestApi } from './support/api.js';
import { digestsOf, engineCases, engineCasesForMillions, expectedParts } from './support/engine-cases.js';
import { committedUnits, getJob, isDone, postJob, readManifest, tempDataDir, tempFilesUnder, waitForJob } from './support/jobs.js';
import { uniqueTaskQueue } from './support/stack.js';
import { spawnWorkerProcess, type WorkerProcess } from './support/worker.js';

let api: TestApi;
let dataDir: string;
let taskQueue: string;
const workers: WorkerProcess[] = [];

before(async () => {
  taskQueue = uniqueTaskQueue('kill');
  dataDir = await tempDataDir();
  api = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: taskQueue, SHARDFLOW_DATA_DIR: dataDir } });
});
after(async () => {
  for (const w of workers) w.kill('SIGKILL');
  for (const c of engineCases) await c.cleanup?.(api);
  await api?.close();
});

const PART_ROWS = 200_000;
const workerEnv = () => ({
  TEMPORAL_TASK_QUEUE: taskQueue,
  SHARDFLOW_DATA_DIR: dataDir,
  SHARDFLOW_PART_ROWS: String(PART_ROWS),
  WORKER_THREADS: '2',
});
const UNITS = 8_000_000;
const partitioning = { shardRows: 4_000_000, maxParallelShards: 2 };

for (const c of engineCasesForMillions) {
  describe(`kind ${c.kind}`, () => {
    test('SIGKILL mid-shard, new worker: exact rows, same digests, resumed from the checkpoint', async () => {
      const { body: spec, tables } = await c.job(api, UNITS, { seed: 4242, multipleOf: PART_ROWS });
      const first = await spawnWorkerProcess(workerEnv());
      workers.push(first);
      const { body } = await postJob(api, { ...spec, partitioning });
      // a part has been committed in some shard (its record on disk says so: progress.done also
      // counts rows of parts still open, which a retry cannot reuse), and the job is far from done
      const seen = await waitForJob(api, body.id, (j) => committedUnits(dataDir, body.id) >= PART_ROWS || isDone(j), 60_000);
      assert.equal(seen.status, 'running', 'the job finished before the worker could be killed');
      first.kill('SIGKILL');
      assert.equal(await first.exited, 'SIGKILL');
      assert.ok((await getJob(api, body.id)).progress.done < UNITS);

      const second = await spawnWorkerProcess(workerEnv());
      workers.push(second);
      const done = await waitForJob(api, body.id, isDone, 180_000).catch(async (err) => {
        const d = await api.deps.temporal.client.workflow.getHandle(body.id).describe();
        const pending = d.raw.pendingActivities?.map((p) => ({ state: p.state, attempt: p.attempt, lastFailure: p.lastFailure?.message, worker: p.lastWorkerIdentity }));
        throw new Error(`${err.message.slice(-600)}\npending: ${JSON.stringify(pending)}\n--- second worker ---\n${second.output().slice(-3000)}`);
      });
      assert.equal(done.status, 'completed', JSON.stringify(done.error));
      assert.equal(done.result.rows, UNITS);
      const manifest = await readManifest(dataDir, body.id);
      for (const t of tables) {
        const m = manifest.tables.find((x: any) => x.name === t.name);
        assert.equal(m.rows, t.rows);
        assert.equal(m.files.length, expectedParts(t.rows, partitioning.shardRows, PART_ROWS));
        assert.equal(m.files.reduce((n: number, f: any) => n + f.rows, 0), t.rows);
      }
      assert.deepEqual(await tempFilesUnder(path.join(dataDir, 'jobs', body.id)), []);

      // a retried shard reused the parts its killed attempt had closed
      const history = await api.deps.temporal.client.workflow.getHandle(body.id).fetchHistory();
      const results = history
        .events!.filter((e) => e.activityTaskCompletedEventAttributes)
        .map((e) => defaultPayloadConverter.fromPayload<any>(e.activityTaskCompletedEventAttributes!.result!.payloads![0] as any))
        .filter((r) => r && typeof r.resumedUnits === 'number');
      assert.equal(results.length, tables.reduce((n, t) => n + Math.ceil(t.rows / partitioning.shardRows), 0));
      assert.ok(results.some((r) => r.resumedUnits > 0), `no shard resumed: ${JSON.stringify(results)}`);

      // and the data is exactly that of an undisturbed run
      const reference = await postJob(api, { ...spec, partitioning: { shardRows: UNITS, maxParallelShards: 1 } });
      const ref = await waitForJob(api, reference.body.id, isDone, 180_000);
      assert.equal(ref.status, 'completed');
      assert.deepEqual(digestsOf(manifest), digestsOf(await readManifest(dataDir, ref.id)));
      second.kill('SIGTERM');
      assert.equal(await second.exited, 0, 'SIGTERM drains the worker and exits 0');
    });
  });
}
