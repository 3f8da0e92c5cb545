/**
 * Issue 12: a Postgres outage while a job finalizes. This file starts its own Temporal and
 * Postgres (test/support/outage.ts) and stops Postgres while a job's last shard is held, so the
 * job reaches finalize (manifest written, status record refused) with the database down.
 *
 * - The bookkeeping retry policy the workflow schedules by default: no attempt cap, backoff up to
 *   a minute, a schedule-to-close of hours.
 * - With the backoff cut to 1 s (SHARDFLOW_BOOKKEEPING_RETRY_MAX_INTERVAL_SECONDS), finalize
 *   retries past the 10 attempts that used to fail the job, and the job completes once Postgres
 *   is back, with the rows and digest of an undisturbed run.
 * - A shard that fails for good while Postgres is down, with a budget of seconds
 *   (SHARDFLOW_BOOKKEEPING_RETRY_SECONDS) that the outage outlasts: the failure cannot be recorded
 *   then, yet once Postgres is back the job's error says what failed (the shard's own error), not
 *   "workflow failed".
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { startTestApi, type TestApi } from './support/api.js';
import { isDone, postJob, readManifest, tempDataDir, waitForJob } from './support/jobs.js';
import { pollUntil, startOutageStack, type OutageStack } from './support/outage.js';
import { uniqueTaskQueue } from './support/stack.js';
import { startTestWorker, type TestWorker } from './support/worker.js';

let stack: OutageStack;
let worker: TestWorker;
let dataDir: string;
let queue: string;
const apis: TestApi[] = [];
/** Shards of jobs with these seeds wait until their gate opens. */
const gates = new Map<number, { open: () => void; opened: Promise<void>; reached: Promise<void>; arrive: () => void; fail?: boolean }>();

function gate(seed: number, fail = false) {
  let open!: () => void;
  let arrive!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const reached = new Promise<void>((r) => (arrive = r));
  const g = { open, opened, reached, arrive, fail };
  gates.set(seed, g);
  return g;
}

before(async () => {
  stack = await startOutageStack();
  dataDir = await tempDataDir();
  queue = uniqueTaskQueue('outage-engine');
  worker = await startTestWorker({
    taskQueue: queue,
    dataDir,
    env: stack.env,
    faults: {
      async beforeShard(task) {
        const g = gates.get(task.input.spec.seed as number);
        if (!g) return;
        g.arrive();
        await g.opened;
        if (g.fail) throw ApplicationFailure.nonRetryable('injected: this shard cannot be written', 'InjectedFault');
      },
    },
  });
});

after(async () => {
  for (const g of gates.values()) g.open();
  await stack?.postgres.start().catch(() => {});
  await worker?.stop();
  for (const a of apis) await a.close();
  await stack?.stop();
});

async function apiWith(env: Record<string, string> = {}): Promise<TestApi> {
  const a = await startTestApi({ env: { ...stack.env, TEMPORAL_TASK_QUEUE: queue, SHARDFLOW_DATA_DIR: dataDir, ...env } });
  apis.push(a);
  return a;
}

const trial = (seed: number) => ({ kind: 'trial', spec: { method: 'mvn', nPerArm: 200, seed } });

/** The pending finalizeJob activity's attempt (0 while none is pending). */
async function finalizeAttempt(a: TestApi, id: string): Promise<{ attempt: number; lastFailure?: string }> {
  const d = await a.deps.temporal.client.workflow.getHandle(id).describe();
  const p = (d.raw.pendingActivities ?? []).find((x) => x.activityType?.name === 'finalizeJob');
  return { attempt: p?.attempt ?? 0, lastFailure: p?.lastFailure?.message ?? undefined };
}

/** A job whose only shard is held; resolves once the shard has reached the gate. */
async function heldJob(a: TestApi, seed: number, fail = false) {
  const g = gate(seed, fail);
  const { status, body } = await postJob(a, trial(seed));
  assert.equal(status, 202, JSON.stringify(body));
  await g.reached;
  return { id: body.id as string, release: g.open };
}

test('by default the bookkeeping activities retry for hours: no attempt cap, backoff capped at 1 min', async () => {
  const a = await apiWith();
  const { status, body } = await postJob(a, trial(1));
  assert.equal(status, 202, JSON.stringify(body));
  const done = await waitForJob(a, body.id, isDone);
  assert.equal(done.status, 'completed', JSON.stringify(done.error));
  const history = await a.deps.temporal.client.workflow.getHandle(body.id).fetchHistory();
  const scheduled = new Map<string, any>();
  for (const e of history.events ?? []) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s?.activityType?.name) scheduled.set(s.activityType.name, s);
  }
  const seconds = (d: any) => Number(d?.seconds ?? 0);
  for (const [name, budget] of [
    ['planJob', 6 * 3600],
    ['finalizeJob', 30 * 3600],
  ] as const) {
    const s = scheduled.get(name);
    assert.ok(s, `${name} was scheduled`);
    assert.equal(s.retryPolicy.maximumAttempts ?? 0, 0, `${name}: no attempt cap`);
    assert.equal(seconds(s.retryPolicy.maximumInterval), 60, `${name}: backoff capped at a minute`);
    assert.equal(seconds(s.scheduleToCloseTimeout), budget, `${name}: bounded by a schedule-to-close of ${budget / 3600} h`);
  }
});

test('Postgres down during finalize for longer than the old 10 attempts: the job completes once it is back', async (t) => {
  const a = await apiWith({ SHARDFLOW_BOOKKEEPING_RETRY_MAX_INTERVAL_SECONDS: '1' });
  // The undisturbed run of the same spec, for the rows and the digest.
  const ref = await postJob(a, trial(21));
  const reference = await waitForJob(a, ref.body.id, isDone);
  assert.equal(reference.status, 'completed');

  const { id, release } = await heldJob(a, 21 + 1000);
  const down = Date.now();
  await stack.postgres.stop();
  let reached;
  try {
    release();
    // Past the 10 attempts after which the job used to fail.
    reached = await pollUntil('finalizeJob attempt 12', async () => {
      const f = await finalizeAttempt(a, id);
      return f.attempt >= 12 ? f : undefined;
    }, 120_000, 250);
    assert.match(reached.lastFailure ?? '', /Postgres is unreachable \((ECONNREFUSED|CONNECTION_\w+|ECONNRESET)\)/);
    assert.doesNotMatch(reached.lastFailure ?? '', /127\.0\.0\.1|postgres:\/\//, 'the recorded failure names no address');
  } finally {
    await stack.postgres.start();
  }
  const outage = Date.now() - down;
  const done = await waitForJob(a, id, isDone, 60_000);
  t.diagnostic(`Postgres down ${outage} ms; finalize reached attempt ${reached.attempt}; completed ${Date.now() - down - outage} ms after Postgres was back`);
  assert.equal(done.status, 'completed', JSON.stringify(done.error));
  assert.equal(done.error, null);
  const [m, r] = [await readManifest(dataDir, id), await readManifest(dataDir, reference.id)];
  assert.equal(done.result.rows, reference.result.rows);
  assert.equal(m.rows, r.rows);
  // Same spec but another seed: compare the shape, not the digest.
  assert.deepEqual(m.tables.map((x: any) => [x.name, x.rows]), r.tables.map((x: any) => [x.name, x.rows]));
});

test('a failure while Postgres is down for longer than the budget: its real cause is the job\'s error once Postgres is back', async (t) => {
  const a = await apiWith({ SHARDFLOW_BOOKKEEPING_RETRY_SECONDS: '6', SHARDFLOW_BOOKKEEPING_RETRY_MAX_INTERVAL_SECONDS: '1' });
  const { id, release } = await heldJob(a, 31, true);
  await stack.postgres.stop();
  try {
    release();
    // The shard fails; recording that is refused for 6 s; the workflow closes failed all the same.
    await pollUntil('the workflow failed', async () => {
      const d = await a.deps.temporal.client.workflow.getHandle(id).describe();
      return d.status.name === 'FAILED' ? true : undefined;
    }, 60_000, 250);
  } finally {
    await stack.postgres.start();
  }
  const failed = await waitForJob(a, id, isDone, 30_000);
  t.diagnostic(`failed job's error: ${JSON.stringify(failed.error)}`);
  assert.equal(failed.status, 'failed');
  assert.deepEqual(failed.error, { type: 'InjectedFault', message: 'injected: this shard cannot be written' });
  // Recorded in the row too: a read without Temporal answers the same.
  const [row] = await a.deps.db.sql`select status, error from jobs where id = ${id}`;
  assert.equal(row!.status, 'failed');
  assert.deepEqual(row!.error, failed.error);
});
