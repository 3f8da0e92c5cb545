/**
 * Retention (SHARDFLOW_RETENTION_DAYS) against a real Temporal, Postgres, worker and API: the
 * configuration; the `expireJobs` activity on its own (keyset batches, resuming after its
 * heartbeat cursor, finishing off a half-removed job, passing over one it cannot remove, never a
 * running job); the schedule `shardflow-retention` triggered over real jobs backdated in Postgres
 * (their folders, rows and load claims go, a completed load's table stays, a recent and a running
 * job are untouched, a second run is a no-op); the API process creating the schedule at start and
 * deleting it when the variable is unset.
 *
 * Every expired job here finished before 2001 (backdated), and every cutoff is at most 2001, so
 * a session pointed at a database with real jobs (DATABASE_URL given) loses none of them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { ConfigError, loadConfig } from '../src/config.js';
import { resolveTemporalBinary } from '../src/dev/temporal-binary.js';
import { createDb } from '../src/db/client.js';
import { RETENTION_SCHEDULE_ID, syncRetentionSchedule } from '../src/api/retention.js';
import { createPostgresTargets } from '../src/destinations/index.js';
import { createRetentionActivities, type ExpireJobsResult, type ExpireProgress } from '../src/engine/retention.js';
import type { retentionWorkflow } from '../src/workflows/retention.js';
import { dropLoadBookkeepingIfEmpty } from './support/postgres-load.js';
import { stackMissing, startTestApi, type TestApi } from './support/api.js';
import { control, isDone, postJob, tempDataDir, waitForJob } from './support/jobs.js';
import { uniqueTaskQueue } from './support/stack.js';
import { startTestWorker, type TestWorker } from './support/worker.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
const DAY_MS = 24 * 3600 * 1000;
/** Retention that reaches back to `iso` exactly (as of now): only jobs finished before it go. */
const daysUntil = (iso: string) => (Date.now() - Date.parse(iso)) / DAY_MS;

let api: TestApi;
let worker: TestWorker;
let sql: postgres.Sql;
let dataDir: string;
let taskQueue: string;
let client: Client;
/** Shards from index 1 on of the jobs with these seeds wait until released (or cancelled). */
const held = new Map<number, Array<() => void>>();
const release = (seed: number) => {
  for (const r of held.get(seed) ?? []) r();
  held.delete(seed);
};
const S = `retention_load_${process.pid}`;

before(async () => {
  if (stackMissing) return;
  sql = postgres(process.env.DATABASE_URL!, { max: 2, onnotice: () => {} });
  taskQueue = uniqueTaskQueue('retention');
  dataDir = await tempDataDir();
  api = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: taskQueue, SHARDFLOW_DATA_DIR: dataDir } });
  client = api.deps.temporal.client;
  worker = await startTestWorker({
    taskQueue,
    dataDir,
    env: { WORKER_THREADS: '2' },
    faults: {
      beforeShard(task, _attempt, cancelled) {
        const waiting = held.get(task.input.spec.seed as number);
        if (task.shard.index < 1 || !waiting) return;
        return new Promise<void>((resolve) => {
          waiting.push(resolve);
          cancelled.addEventListener('abort', () => resolve(), { once: true });
        });
      },
    },
  });
});

after(async () => {
  for (const seed of [...held.keys()]) release(seed);
  await client?.schedule.getHandle(RETENTION_SCHEDULE_ID).delete().catch(() => {});
  await worker?.stop();
  await api?.close();
  if (sql) {
    await sql.unsafe(`DROP SCHEMA IF EXISTS ${S} CASCADE`);
    await dropLoadBookkeepingIfEmpty(sql);
    await sql.end();
  }
});

const exists = (p: string) => fs.access(p).then(() => true, () => false);
const folder = (id: string, dir = dataDir) => path.join(dir, 'jobs', id);
const rowOf = async (id: string) => (await sql`select status, finished_at from jobs where id = ${id}`)[0];
const backdate = (id: string, iso: string) => sql`update jobs set finished_at = ${new Date(iso)} where id = ${id}`;

const trialJob = (nPerArm: number, extra: { postgres?: Record<string, unknown>; seed?: number } = {}) => ({
  kind: 'trial',
  spec: { method: 'mvn', nPerArm, targetEffect: -5, seed: extra.seed ?? 5 },
  output: { format: 'parquet', ...(extra.postgres ? { postgres: extra.postgres } : {}) },
  partitioning: { shardRows: 2000, maxParallelShards: 1 },
});

async function started(body: unknown): Promise<string> {
  const r = await postJob(api, body);
  assert.equal(r.status, 202, JSON.stringify(r.body));
  return r.body.id as string;
}

async function completed(body: unknown): Promise<string> {
  const id = await started(body);
  const job = await waitForJob(api, id, isDone);
  assert.equal(job.status, 'completed', JSON.stringify(job.error));
  return id;
}

/** A job of `seed` whose shard 1 is held: running, with shard 0 complete. */
async function heldJob(seed: number): Promise<string> {
  held.set(seed, []);
  const id = await started(trialJob(500, { seed }));
  const job = await waitForJob(api, id, (j) => j.progress?.shards?.completed >= 1 || isDone(j));
  assert.equal(job.status, 'running');
  return id;
}

/** The workflow the schedule starts on a trigger, awaited to its end. */
async function triggerAndAwait(): Promise<ExpireJobsResult> {
  const handle = client.schedule.getHandle(RETENTION_SCHEDULE_ID);
  const before = (await handle.describe()).info.numActionsTaken;
  await handle.trigger();
  const deadline = Date.now() + 30_000;
  for (;;) {
    const d = await handle.describe();
    const action = d.info.numActionsTaken > before ? (d.info.runningActions[0] ?? d.info.recentActions.at(-1)?.action) : undefined;
    if (action) return client.workflow.getHandle(action.workflow.workflowId, action.workflow.firstExecutionRunId).result();
    if (Date.now() > deadline) throw new Error(`the schedule took no action within 30 s: ${JSON.stringify(d.info)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ------------------------------------------------------------------------------------------------

test('SHARDFLOW_RETENTION_DAYS: unset keeps jobs forever; a positive number of days, fractions allowed; 0, negatives and words refused', () => {
  assert.equal(loadConfig({}).retention.days, undefined);
  assert.equal(loadConfig({ SHARDFLOW_RETENTION_DAYS: '' }).retention.days, undefined);
  assert.equal(loadConfig({ SHARDFLOW_RETENTION_DAYS: '7' }).retention.days, 7);
  assert.equal(loadConfig({ SHARDFLOW_RETENTION_DAYS: '0.5' }).retention.days, 0.5);
  for (const bad of ['0', '-1', 'week', '100000']) {
    assert.throws(
      () => loadConfig({ SHARDFLOW_RETENTION_DAYS: bad }),
      (err: unknown) => err instanceof ConfigError && err.variable === 'SHARDFLOW_RETENTION_DAYS',
      bad,
    );
  }
});

test('expireJobs: keyset batches, resumes after its heartbeat cursor, finishes off a half-removed job, passes over one it cannot remove, never a running one', { skip: stackMissing }, async () => {
  const dir = await tempDataDir('shardflow-retention-');
  const tag = randomBytes(3).toString('hex');
  const cutoff = '1991-01-01T00:00:00.000Z';
  const at = (i: number) => new Date(Date.parse('1990-01-01T00:00:00Z') + i * 1000);
  // a–g in finished_at order
  const jobs = {
    a: { status: 'completed', i: 0, folder: true }, // before the cursor of the earlier attempt
    b: { status: 'failed', i: 1, folder: true },
    c: { status: 'cancelled', i: 2, folder: false }, // half-removed: its folder went, its row did not
    d: { status: 'completed', i: 3, folder: true, target: 'gone' }, // its load target is no longer configured
    e: { status: 'completed', i: 4, folder: true },
    f: { status: 'running', i: 5, folder: true }, // whatever its finished_at says
    g: { status: 'completed', i: 400 * 24 * 3600, folder: true }, // after the cutoff
  };
  const id = (k: string) => `job-rt${tag}${k}`;
  for (const [k, j] of Object.entries(jobs)) {
    const output = { format: 'parquet', compression: 'zstd', ...('target' in j ? { postgres: { schema: 'nowhere', target: j.target, ifExists: 'fail' } } : {}) };
    await sql`
      insert into jobs (id, tenant_id, kind, status, spec, output, partitioning, finished_at)
      values (${id(k)}, 'local', 'trial', ${j.status}, ${sql.json({})}, ${sql.json(output)}, ${sql.json({ shardRows: 1000 })}, ${at(j.i)})`;
    if (j.folder) {
      await fs.mkdir(path.join(folder(id(k), dir), 'vitals'), { recursive: true });
      await fs.writeFile(path.join(folder(id(k), dir), 'vitals', 'part-00000.parquet'), 'x');
    }
  }
  // The worker's kind of client: drizzle's (which turns postgres.js's Date handling off).
  const db = createDb(process.env.DATABASE_URL!, { max: 2, applicationName: 'shardflow-retention-test' });
  const targets = createPostgresTargets({ defaultUrl: process.env.DATABASE_URL, defaultSql: db.sql, named: {} });
  let counted = 0;
  const { expireJobs } = createRetentionActivities({ sql: db.sql, dataDir: dir, postgres: targets, onExpired: (n) => (counted += n) });
  const logger = new DefaultLogger('ERROR');
  try {
    // An earlier attempt dealt with a (and then died): this one starts after it.
    const details: ExpireProgress = { cutoff, cursor: { finishedAt: at(0).toISOString(), id: id('a') }, expired: 1, failed: 0 };
    const env = new MockActivityEnvironment({ heartbeatDetails: details }, { logger });
    const beats: ExpireProgress[] = [];
    env.on('heartbeat', (d: ExpireProgress) => beats.push(structuredClone(d)));
    const first = await env.run(expireJobs, { cutoff, batchSize: 2 });
    assert.deepEqual(first, { cutoff, expired: 4, failed: 1 }, 'a (counted by the earlier attempt), b, c, e removed; d failed');
    assert.equal(counted, 3, 'onExpired: once per job this attempt removed');
    assert.deepEqual(beats.at(-1)?.cursor, { finishedAt: at(4).toISOString(), id: id('e') }, 'the last heartbeat names the last job dealt with');
    assert.deepEqual(beats.map((b) => b.cursor?.id), [id('b'), id('c'), id('d'), id('e')]);

    for (const k of ['b', 'c', 'e']) {
      assert.equal(await rowOf(id(k)), undefined, `${k}: row gone`);
      assert.equal(await exists(folder(id(k), dir)), false, `${k}: folder gone`);
    }
    assert.ok(await rowOf(id('a')), 'a: before the cursor, not looked at again by this attempt');
    assert.ok(await exists(folder(id('a'), dir)));
    assert.ok(await rowOf(id('d')), 'd: failed before anything was removed');
    assert.ok(await exists(folder(id('d'), dir)));
    for (const k of ['f', 'g']) {
      assert.ok(await rowOf(id(k)), `${k}: row kept`);
      assert.ok(await exists(folder(id(k), dir)), `${k}: folder kept`);
    }

    // A fresh run (no details): a goes, d fails again, nothing else is there to remove.
    const second = await new MockActivityEnvironment(undefined, { logger }).run(expireJobs, { cutoff, batchSize: 2 });
    assert.deepEqual(second, { cutoff, expired: 1, failed: 1 });
    assert.equal(await rowOf(id('a')), undefined);
    assert.equal(await exists(folder(id('a'), dir)), false);
  } finally {
    await sql`delete from jobs where id like ${`job-rt${tag}%`}`;
    await targets.close();
    await db.close();
  }
});

test('the schedule shardflow-retention: created with SKIP overlap and hourly, triggered, removes what DELETE removes from old finished jobs only; a second run is a no-op', { skip: stackMissing }, async () => {
  // Finished long ago: a completed job, a completed Postgres load, a cancelled job.
  const oldDone = await completed(trialJob(500));
  const oldLoad = await completed(trialJob(500, { postgres: { schema: S }, seed: 6 }));
  const oldCancelled = await heldJob(8);
  assert.equal((await control(api, oldCancelled, 'cancel')).status, 202);
  assert.equal((await waitForJob(api, oldCancelled, isDone)).status, 'cancelled');
  release(8);
  await backdate(oldDone, '2000-01-01T00:00:00Z');
  await backdate(oldLoad, '2000-01-02T00:00:00Z');
  await backdate(oldCancelled, '2000-01-03T00:00:00Z');
  // Kept: one that finished just now, and one still running (with an old finished_at, say from an earlier run).
  const recent = await completed(trialJob(500, { seed: 9 }));
  const running = await heldJob(10);
  await backdate(running, '2000-01-04T00:00:00Z');
  assert.equal((await rowOf(running)).status, 'running');
  for (const id of [oldDone, oldLoad, oldCancelled, recent, running]) assert.ok(await exists(folder(id)), id);
  assert.equal((await sql`select count(*)::int as n from shardflow_load.claims where job_id = ${oldLoad}`)[0]!.n, 1);

  const days = daysUntil('2001-01-01T00:00:00Z');
  const config = { retention: { days }, temporal: api.deps.config.temporal };
  assert.match(await syncRetentionSchedule(client, { ...config, retention: {} }), /^(deleted|absent)$/);
  assert.equal(await syncRetentionSchedule(client, config), 'created');
  const d = await client.schedule.getHandle(RETENTION_SCHEDULE_ID).describe();
  assert.equal(d.policies.overlap, 'SKIP');
  assert.equal(d.spec.intervals?.[0]?.every, 3600_000);
  assert.equal(d.action.workflowType, 'retentionWorkflow');
  assert.equal(d.action.taskQueue, taskQueue);
  assert.deepEqual(d.action.args, [{ retentionDays: days }]);

  const result = await triggerAndAwait();
  assert.equal(result.expired, 3, JSON.stringify(result));
  assert.equal(result.failed, 0);

  for (const id of [oldDone, oldLoad, oldCancelled]) {
    assert.equal(await rowOf(id), undefined, `${id}: row gone`);
    assert.equal(await exists(folder(id)), false, `${id}: folder gone`);
    assert.equal((await api.request(`/v1/jobs/${id}`)).status, 404);
  }
  // As DELETE: a completely loaded table stays (unclaimed); claims and part markers go.
  assert.equal((await sql.unsafe(`select count(*)::int as n from ${S}.vitals`))[0]!.n, 4000);
  assert.equal((await sql`select count(*)::int as n from shardflow_load.claims where job_id = ${oldLoad}`)[0]!.n, 0);
  assert.equal((await sql`select count(*)::int as n from shardflow_load.parts where job_id = ${oldLoad}`)[0]!.n, 0);
  // Untouched.
  assert.equal((await rowOf(recent)).status, 'completed');
  assert.ok(await exists(path.join(folder(recent), 'manifest.json')));
  assert.equal((await rowOf(running)).status, 'running');
  assert.ok(await exists(folder(running)));

  // A second run finds nothing.
  const again = await client.workflow.execute<typeof retentionWorkflow>('retentionWorkflow', { taskQueue, workflowId: `retention-test-${randomBytes(4).toString('hex')}`, args: [{ retentionDays: days }] });
  assert.deepEqual({ expired: again.expired, failed: again.failed }, { expired: 0, failed: 0 });

  // Idempotent sync: the same settings update it in place; another value replaces the workflow's input.
  assert.equal(await syncRetentionSchedule(client, config), 'updated');
  assert.equal(await syncRetentionSchedule(client, { ...config, retention: { days: 30 } }), 'updated');
  assert.deepEqual((await client.schedule.getHandle(RETENTION_SCHEDULE_ID).describe()).action.args, [{ retentionDays: 30 }]);
  // An operator's pause outlasts an update.
  await client.schedule.getHandle(RETENTION_SCHEDULE_ID).pause('disk maintenance');
  assert.equal(await syncRetentionSchedule(client, config), 'updated');
  const paused = await client.schedule.getHandle(RETENTION_SCHEDULE_ID).describe();
  assert.equal(paused.state.paused, true);
  assert.equal(paused.state.note, 'disk maintenance');
  assert.equal(await syncRetentionSchedule(client, { ...config, retention: {} }), 'deleted');
  await assert.rejects(client.schedule.getHandle(RETENTION_SCHEDULE_ID).describe(), ScheduleNotFoundError);

  // DELETE (the same removal) of the running job and of the recent one.
  await sql`update jobs set finished_at = null where id = ${running}`;
  for (const id of [running, recent]) {
    const del = await api.request(`/v1/jobs/${id}`, { method: 'DELETE' });
    assert.equal(del.status, 204, await del.clone().text());
    assert.equal(await rowOf(id), undefined);
    assert.equal(await exists(folder(id)), false);
  }
  release(10);
});

/** Runs `src/api/main.ts` until it logs about the retention schedule; then stops it. The log line. */
async function apiStartLine(env: Record<string, string>): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/api/main.ts'], {
    cwd: root,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', TEMPORAL_TASK_QUEUE: taskQueue, SHARDFLOW_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let out = '';
  try {
    return await new Promise((resolve, reject) => {
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        for (const line of out.split('\n')) {
          if (!line.includes(RETENTION_SCHEDULE_ID)) continue;
          try {
            resolve(JSON.parse(line));
          } catch {
            // a partial line: more comes
          }
        }
      });
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
      void exited.then(() => reject(new Error(`the API exited before logging about the retention schedule:\n${out.slice(-2000)}`)));
      setTimeout(() => reject(new Error(`no log line about the retention schedule within 60 s:\n${out.slice(-2000)}`)), 60_000).unref();
    });
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

test('the API at start creates the schedule when SHARDFLOW_RETENTION_DAYS is set, and deletes it when unset', { skip: stackMissing }, async () => {
  await syncRetentionSchedule(client, { retention: {}, temporal: api.deps.config.temporal });
  const on = await apiStartLine({ SHARDFLOW_RETENTION_DAYS: '3' });
  assert.equal(on.change, 'created', JSON.stringify(on));
  const d = await client.schedule.getHandle(RETENTION_SCHEDULE_ID).describe();
  assert.deepEqual(d.action.args, [{ retentionDays: 3 }]);
  assert.equal(d.action.taskQueue, taskQueue);
  assert.equal((await apiStartLine({ SHARDFLOW_RETENTION_DAYS: '3' })).change, 'updated');
  // What an operator sees with the temporal CLI (README, Operations).
  const temporal = await resolveTemporalBinary({ allowBuild: false });
  const { stdout } = await run(temporal, ['schedule', 'describe', '--schedule-id', RETENTION_SCHEDULE_ID, '--output', 'json', '--address', process.env.TEMPORAL_ADDRESS!, '--namespace', api.deps.config.temporal.namespace]);
  assert.match(stdout, /retentionWorkflow/);
  assert.match(stdout, new RegExp(taskQueue));

  const off = await apiStartLine({ SHARDFLOW_RETENTION_DAYS: '' });
  assert.match(String(off.msg), /retention off/);
  await assert.rejects(client.schedule.getHandle(RETENTION_SCHEDULE_ID).describe(), ScheduleNotFoundError);
});
