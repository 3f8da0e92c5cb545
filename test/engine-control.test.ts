/**
 * Shared engine suite, for every kind — control of a running job, from the API and from the
 * `temporal` CLI: pause stops progress and resume completes it; cancel goes through `cancelling`
 * to `cancelled` with no temp files; a failed job resumed later reuses every shard that had
 * completed. Shards are held at a gate, so states are reached, not timed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { resolveTemporalBinary } from '../src/dev/temporal-binary.js';
import type { ShardTask } from '../src/engine/types.js';
import { startTestApi, type TestApi } from './support/api.js';
import { digestsOf, engineCases, type CaseJob, type EngineCase } from './support/engine-cases.js';
import { shardGate } from './support/gate.js';
import { control, getJob, isDone, postJob, readManifest, tempDataDir, tempFilesUnder, waitForJob } from './support/jobs.js';
import { uniqueTaskQueue } from './support/stack.js';
import { startTestWorker, type TestWorker } from './support/worker.js';

const run = promisify(execFile);
let api: TestApi;
let worker: TestWorker;
let dataDir: string;
let temporal: string;
let hook: ((task: ShardTask, attempt: number, cancelled: AbortSignal) => void | Promise<void>) | undefined;

before(async () => {
  const taskQueue = uniqueTaskQueue('control');
  dataDir = await tempDataDir();
  temporal = await resolveTemporalBinary({ allowBuild: false });
  api = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: taskQueue, SHARDFLOW_DATA_DIR: dataDir } });
  worker = await startTestWorker({
    taskQueue,
    dataDir,
    env: { SHARDFLOW_PART_ROWS: '2000' },
    faults: { beforeShard: (task, attempt, cancelled) => hook?.(task, attempt, cancelled) },
  });
});
after(async () => {
  hook = undefined;
  for (const c of engineCases) await c.cleanup?.(api);
  await worker?.stop();
  await api?.close();
});

// 40,000 rows in 10 shards of 4,000 for every kind
const UNITS = 40_000;
const SHARD = 4000;
const partitioning = { shardRows: SHARD, maxParallelShards: 1 };

const cli = async (...args: string[]) => {
  const { stdout } = await run(temporal, [...args, '--address', process.env.TEMPORAL_ADDRESS!, '--namespace', 'default']);
  return stdout;
};

for (const c of engineCases) describe(`kind ${c.kind}`, () => suite(c));

function suite(c: EngineCase) {
  let made: CaseJob | undefined;
  const caseJob = async () => (made ??= await c.job(api, UNITS, { seed: 99, multipleOf: SHARD }));
  const job = async () => ({ ...(await caseJob()).body, partitioning });

  let referenceDigests: Record<string, string> | undefined;
  async function reference(): Promise<Record<string, string>> {
    if (referenceDigests) return referenceDigests;
    hook = undefined;
    const started = await postJob(api, { ...(await caseJob()).body, partitioning: { shardRows: UNITS } });
    const done = await waitForJob(api, started.body.id, isDone);
    assert.equal(done.status, 'completed');
    return (referenceDigests = digestsOf(await readManifest(dataDir, done.id)));
  }

  test('pause from the API stops progress; resume completes with the same digest', async () => {
    const digest = await reference();
    const gate = shardGate(3);
    hook = gate.beforeShard;
    const { body } = await postJob(api, await job());
    // shards 0-2 complete, shard 3 waits at the gate
    await waitForJob(api, body.id, (j) => j.progress?.shards.completed === 3 && j.progress.shards.running === 1);

    const paused = await control(api, body.id, 'pause');
    assert.equal(paused.status, 202);
    assert.equal(paused.body.status, 'paused');
    assert.equal(paused.body.progress.ratePerSecond, null, 'a paused job has no rate');
    assert.equal(paused.body.progress.etaSeconds, null);
    const still = await waitForJob(api, body.id, (j) => j.status === 'paused' && j.progress.shards.running === 0);
    assert.equal(still.progress.done, 3 * SHARD);
    // a paused job stays where it is: nothing starts while the gate is opened
    gate.open();
    const startedWhilePaused = gate.started.length;
    for (let i = 0; i < 10; i++) {
      const j = await getJob(api, body.id);
      assert.equal(j.status, 'paused');
      assert.equal(j.progress.done, 3 * SHARD);
      assert.equal(j.progress.shards.completed, 3);
    }
    assert.equal(gate.started.length, startedWhilePaused);
    assert.equal((await control(api, body.id, 'pause')).status, 202, 'pausing a paused job is a no-op');

    const resumed = await control(api, body.id, 'resume');
    assert.equal(resumed.status, 202);
    const done = await waitForJob(api, body.id, isDone);
    assert.equal(done.status, 'completed');
    assert.equal(done.result.rows, UNITS);
    assert.deepEqual(digestsOf(await readManifest(dataDir, body.id)), digest);
  });

  test('pause, query, resume and list from the temporal CLI', async () => {
    const gate = shardGate(2);
    hook = gate.beforeShard;
    const { body } = await postJob(api, await job());
    await waitForJob(api, body.id, (j) => j.progress?.shards.completed === 2 && j.progress.shards.running === 1);

    await cli('workflow', 'signal', '--workflow-id', body.id, '--name', 'pause');
    const paused = await waitForJob(api, body.id, (j) => j.status === 'paused' && j.progress.shards.running === 0);
    assert.equal(paused.progress.shards.completed, 2);
    const query = JSON.parse(await cli('workflow', 'query', '--workflow-id', body.id, '--type', 'progress', '--output', 'json'));
    const progress = query.queryResult?.[0] ?? query.queryResult ?? query;
    assert.equal(progress.paused, true);
    assert.equal(progress.done, 2 * SHARD);
    assert.equal(progress.total, UNITS);

    // search attributes: the job can be found by kind and tenant
    const listed = await cli('workflow', 'list', '--query', `ShardflowKind='${c.kind}' AND ShardflowTenant='local' AND WorkflowId='${body.id}'`, '--output', 'json');
    assert.match(listed, new RegExp(body.id));

    gate.open();
    await cli('workflow', 'signal', '--workflow-id', body.id, '--name', 'resume');
    const done = await waitForJob(api, body.id, isDone);
    assert.equal(done.status, 'completed');
    assert.deepEqual(digestsOf(await readManifest(dataDir, body.id)), await reference());
    const described = JSON.parse(await cli('workflow', 'describe', '--workflow-id', body.id, '--output', 'json'));
    const sa = JSON.stringify(described);
    assert.match(sa, /ShardflowRowsDone/);
    assert.match(sa, new RegExp(String(UNITS)));
  });

  for (const via of ['api', 'temporal CLI'] as const) {
    test(`cancel from the ${via}: status cancelled, no temp files left`, async () => {
      const gate = shardGate(1);
      hook = gate.beforeShard;
      const { body } = await postJob(api, await job());
      await waitForJob(api, body.id, (j) => j.progress?.shards.completed === 1 && j.progress.shards.running === 1);
      // what a writer killed mid-part leaves behind
      const stray = path.join(dataDir, 'jobs', body.id, (await caseJob()).tables[0]!.name, '.part-00007.parquet.tmp-1-deadbeef');
      await fs.writeFile(stray, 'partial');
      if (via === 'api') {
        const cancelling = await control(api, body.id, 'cancel');
        assert.equal(cancelling.status, 202);
        assert.equal(cancelling.body.status, 'cancelling', 'the answer says what is happening');
      } else await cli('workflow', 'cancel', '--workflow-id', body.id);
      const done = await waitForJob(api, body.id, isDone);
      assert.equal(done.status, 'cancelled');
      assert.deepEqual(await tempFilesUnder(path.join(dataDir, 'jobs', body.id)), []);
      const again = await control(api, body.id, 'cancel');
      assert.equal(again.status, 409);
      gate.open();
    });
  }

  test('a failed job resumed reuses every completed shard', async () => {
    const runs: number[][] = [[], []];
    let phase = 0;
    hook = (task) => {
      runs[phase]!.push(task.shard.index);
      if (phase === 0 && task.shard.index === 4) throw ApplicationFailure.nonRetryable('disk on fire (injected)', 'InjectedFault');
    };
    const { body } = await postJob(api, await job());
    const failed = await waitForJob(api, body.id, isDone);
    assert.equal(failed.status, 'failed');
    assert.match(failed.error.message, /disk on fire/);
    assert.deepEqual(runs[0], [0, 1, 2, 3, 4]);

    phase = 1;
    const resumed = await control(api, body.id, 'resume');
    assert.equal(resumed.status, 202);
    assert.equal(resumed.body.status, 'running');
    const done = await waitForJob(api, body.id, (j) => j.status === 'completed' || (j.status === 'failed' && j.finishedAt !== failed.finishedAt && j.error?.message !== failed.error.message));
    assert.equal(done.status, 'completed', JSON.stringify(done.error));
    assert.deepEqual(runs[1], [4, 5, 6, 7, 8, 9], 'shards 0-3 were not generated again');
    assert.equal(done.result.rows, UNITS);
    assert.deepEqual(digestsOf(await readManifest(dataDir, body.id)), await reference());
  });
}
