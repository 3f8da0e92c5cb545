/**
 * The job workflow alone, with fake activities on a real Temporal server (TestWorkflowEnvironment
 * on the test stack's dev server): continue-as-new carries the state, a pause that lands while a
 * run drains survives the new run, and a failed job started again runs only what had not completed.
 * Cheap: no shard threads, no files.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import type { JobActivities } from '../src/engine/activities.js';
import { addToRanges, type Ranges } from '../src/engine/ranges.js';
import type { JobInput, JobPlan, JobResultSummary, ShardResult, ShardTask } from '../src/engine/types.js';
import { jobWorkflow, pauseSignal, progressQuery, resumeSignal } from '../src/workflows/job.js';
import { uniqueTaskQueue } from './support/stack.js';
import { workflowBundle } from './support/worker.js';

let env: TestWorkflowEnvironment;
before(async () => {
  // test/support/worker.ts installs the test Runtime (SDK lines at WARN and up) when it loads.
  env = await TestWorkflowEnvironment.createFromExistingServer({ address: process.env.TEMPORAL_ADDRESS });
});
after(async () => {
  await env?.teardown();
});

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Fake activities over `shards` shards of 10 units; `shard(i)` decides what each run does. */
function fakes(shards: number, shardsPerRun: number, shard: (task: ShardTask) => Promise<void> | void) {
  const done = new Set<number>();
  const runs: number[] = [];
  const statuses: Array<{ status: string; error?: { type: string; message: string } }> = [];
  const finalized: JobPlan[] = [];
  const activities: Omit<JobActivities, 'runShard' | 'echo' | 'expireJobs'> & { runShard(t: ShardTask): Promise<ShardResult> } = {
    async planJob(): Promise<JobPlan> {
      let completed: Ranges = [];
      for (const i of done) completed = addToRanges(completed, i);
      return {
        unit: 'rows',
        total: shards * 10,
        shardCount: shards,
        segments: [{ table: 't', start: 0, end: shards * 10, shardSize: 10, partSize: 10, units: shards * 10 }],
        tables: [{ name: 't', rows: shards * 10, columns: [] }],
        completed,
        completedUnits: done.size * 10,
        totals: {},
        shardsPerRun,
      };
    },
    async runShard(task) {
      runs.push(task.shard.index);
      await shard(task);
      done.add(task.shard.index);
      return { shardIndex: task.shard.index, units: task.shard.end - task.shard.start, bytes: 0, files: 0, resumedUnits: 0, totals: { shards: 1 } };
    },
    async finalizeJob(_input, plan): Promise<JobResultSummary> {
      finalized.push(plan);
      return { rows: plan.completedUnits, shards: plan.shardCount, files: 0, bytes: 0, manifest: 'manifest.json', tables: [] };
    },
    async cleanupJob() {
      return 0;
    },
    async releaseLoad() {},
    async forgetJobKey() {},
    async recordStatus(_id, status, error) {
      statuses.push({ status, error });
    },
  };
  return { activities, done, runs, statuses, finalized };
}

async function withWorker<T>(taskQueue: string, activities: object, fn: () => Promise<T>): Promise<T> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
    // cancellation reaches an activity with its next heartbeat
    defaultHeartbeatThrottleInterval: '50 milliseconds',
    maxHeartbeatThrottleInterval: '50 milliseconds',
  });
  return worker.runUntil(fn());
}

const input = (jobId: string, maxParallelShards: number): JobInput => ({
  jobId,
  tenantId: 'test',
  kind: 'fake',
  spec: {},
  output: { format: 'parquet', compression: 'zstd' },
  partitioning: { shardRows: 10, maxParallelShards },
});

/** Waits on a shard activity until released, heartbeating; a cancel ends it. */
async function held(release: Promise<void>): Promise<void> {
  const ctx = Context.current();
  const beat = setInterval(() => ctx.heartbeat(), 20);
  try {
    await Promise.race([release, ctx.cancelled]);
  } finally {
    clearInterval(beat);
  }
}

/** Runs of a workflow id, newest first, walked back through the history (visibility lags). */
async function runsOf(workflowId: string): Promise<number> {
  let runs = 0;
  let runId: string | undefined = (await env.client.workflow.getHandle(workflowId).describe()).runId;
  while (runId) {
    runs++;
    const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
    runId = history.events![0]!.workflowExecutionStartedEventAttributes!.continuedExecutionRunId || undefined;
  }
  return runs;
}

test('continue-as-new every 3 shards, one at a time: 3 runs, every shard once, totals and units carried', async () => {
  const taskQueue = uniqueTaskQueue('wf-can');
  const f = fakes(8, 3, () => undefined);
  const id = `job-wfcan${Date.now().toString(36)}`;
  const result = await withWorker(taskQueue, f.activities, () =>
    env.client.workflow.execute(jobWorkflow, { taskQueue, workflowId: id, args: [input(id, 1)] }),
  );
  assert.deepEqual([...f.runs].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(f.finalized.length, 1);
  assert.deepEqual(f.finalized[0]!.completed, [[0, 7]]);
  assert.equal(f.finalized[0]!.completedUnits, 80);
  assert.deepEqual(f.finalized[0]!.totals, { shards: 8 }, 'totals add up across runs');
  assert.equal(result.rows, 80);
  assert.equal(await runsOf(id), 3, 'ceil(8 / 3) runs');
});

test('a pause that lands while a run drains for continue-as-new holds in the new run; resume finishes', async () => {
  const taskQueue = uniqueTaskQueue('wf-pause');
  const started = new Map<number, ReturnType<typeof deferred>>();
  const release = new Map<number, ReturnType<typeof deferred>>();
  for (let i = 0; i < 6; i++) started.set(i, deferred()), release.set(i, deferred());
  const attempts = new Map<number, number>();
  const f = fakes(6, 2, async (task) => {
    const i = task.shard.index;
    attempts.set(i, (attempts.get(i) ?? 0) + 1);
    started.get(i)!.resolve();
    if (attempts.get(i) === 1) await held(release.get(i)!.promise);
  });
  const id = `job-wfpause${Date.now().toString(36)}`;
  await withWorker(taskQueue, f.activities, async () => {
    const handle = await env.client.workflow.start(jobWorkflow, { taskQueue, workflowId: id, args: [input(id, 2)] });
    await Promise.all([started.get(0)!.promise, started.get(1)!.promise]);
    release.get(0)!.resolve();
    await started.get(2)!.promise; // shard 0 done, 2 running beside 1
    release.get(1)!.resolve();
    // the run has completed its 2 shards and drains: shard 2 still runs, nothing new starts
    for (;;) {
      const p = await handle.query(progressQuery);
      if (p.shards.completed === 2) {
        assert.deepEqual(p.runningShards, [2]);
        assert.equal(p.runs, 0);
        break;
      }
    }
    await handle.signal(pauseSignal); // lands during the drain: shard 2 is stopped, to run again later
    // the new run starts paused and starts nothing
    for (;;) {
      const p = await handle.query(progressQuery);
      if (p.runs === 1 && p.paused && p.shards.running === 0) {
        assert.equal(p.shards.completed, 2);
        assert.equal(p.done, 20);
        break;
      }
    }
    assert.deepEqual([...f.done].sort(), [0, 1]);
    for (const r of release.values()) r.resolve();
    await handle.signal(resumeSignal);
    await handle.result();
  });
  assert.deepEqual([...f.done].sort(), [0, 1, 2, 3, 4, 5]);
  assert.equal(attempts.get(2), 2, 'shard 2 ran again after the pause');
  assert.deepEqual(f.statuses.map((s) => s.status), ['paused', 'running']);
  assert.equal(f.finalized[0]!.completedUnits, 60);
});

test('a failed shard fails the job with its cause; started again, only the shards not completed run', async () => {
  const taskQueue = uniqueTaskQueue('wf-fail');
  let failing = true;
  const f = fakes(5, 100, (task) => {
    if (failing && task.shard.index === 2) throw ApplicationFailure.nonRetryable('disk on fire (injected)', 'InjectedFault');
  });
  const id = `job-wffail${Date.now().toString(36)}`;
  await withWorker(taskQueue, f.activities, async () => {
    await assert.rejects(
      env.client.workflow.execute(jobWorkflow, { taskQueue, workflowId: id, args: [input(id, 1)] }),
      (err: unknown) => err instanceof WorkflowFailedError && /disk on fire/.test(String(err.cause?.message)),
    );
    assert.deepEqual(f.statuses.at(-1), { status: 'failed', error: { type: 'InjectedFault', message: 'disk on fire (injected)' } });
    assert.deepEqual(f.runs, [0, 1, 2]);
    failing = false;
    f.runs.length = 0;
    await env.client.workflow.execute(jobWorkflow, { taskQueue, workflowId: id, args: [input(id, 1)], workflowIdReusePolicy: 'ALLOW_DUPLICATE' });
  });
  assert.deepEqual(f.runs, [2, 3, 4], 'shards 0 and 1 were not run again');
  assert.equal(f.finalized[0]!.completedUnits, 50);
});
