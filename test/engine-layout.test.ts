/**
 * The layout of a job (where shards and parts begin and end) is fixed when it is first planned:
 * a job that failed on a worker with SHARDFLOW_PART_ROWS=50000 and is resumed on a worker with
 * the default keeps its parts of 50,000 rows — no part name is reused, every file in the
 * manifest is the file on disk, and the data is that of an undisturbed run.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { startTestApi, type TestApi } from './support/api.js';
import { control, isDone, postJob, readManifest, tempDataDir, waitForJob } from './support/jobs.js';
import { uniqueTaskQueue } from './support/stack.js';
import { startTestWorker } from './support/worker.js';

let api: TestApi;
let dataDir: string;
let taskQueue: string;

before(async () => {
  taskQueue = uniqueTaskQueue('layout');
  dataDir = await tempDataDir();
  api = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: taskQueue, SHARDFLOW_DATA_DIR: dataDir } });
});
after(async () => {
  await api?.close();
});

const job = { kind: 'trial', spec: { method: 'mvn', nPerArm: 125_000, seed: 7 }, partitioning: { shardRows: 200_000, maxParallelShards: 1 } }; // 1M rows, 5 shards

test('resumed on a worker with another SHARDFLOW_PART_ROWS: the first plan’s parts, every file intact', async () => {
  const small = await startTestWorker({
    taskQueue,
    dataDir,
    env: { SHARDFLOW_PART_ROWS: '50000' },
    faults: {
      beforeShard(task) {
        if (task.shard.index === 2) throw ApplicationFailure.nonRetryable('worker lost its disk (injected)', 'InjectedFault');
      },
    },
  });
  const { body } = await postJob(api, job);
  const failed = await waitForJob(api, body.id, isDone);
  await small.stop();
  assert.equal(failed.status, 'failed');
  assert.equal(failed.progress.shards.completed, 2);

  const big = await startTestWorker({ taskQueue, dataDir }); // default part size: 1,000,000 rows
  try {
    assert.equal((await control(api, body.id, 'resume')).status, 202);
    const done = await waitForJob(api, body.id, (j) => j.status === 'completed' || (j.status === 'failed' && j.error?.message !== failed.error.message));
    assert.equal(done.status, 'completed', JSON.stringify(done.error));
    const manifest = await readManifest(dataDir, body.id);
    const files = manifest.tables[0].files;
    assert.equal(files.length, 20, 'five shards of four parts of 50,000 rows');
    assert.ok(files.every((f: any) => f.rows === 50_000));
    assert.equal(new Set(files.map((f: any) => f.name)).size, 20);
    for (const f of files) {
      const bytes = await fs.readFile(path.join(dataDir, 'jobs', body.id, f.name));
      assert.equal(createHash('sha256').update(bytes).digest('hex'), f.sha256, `${f.name} is the file the manifest describes`);
    }
    const ref = await postJob(api, { ...job, partitioning: { shardRows: 1_000_000 } });
    const refDone = await waitForJob(api, ref.body.id, isDone);
    assert.equal(refDone.status, 'completed');
    assert.equal(manifest.tables[0].digest, (await readManifest(dataDir, ref.body.id)).tables[0].digest);
  } finally {
    await big.stop();
  }
});
