/**
 * Event-driven emissions (SHARDFLOW_EMISSIONS_AUTO=on; real API, Temporal, worker and Postgres):
 * an ingest signals-with-start the tenant's calculator workflow, which calculates the new pending
 * activities within seconds, exactly once. A burst of ingests gives one result per activity; the
 * workflow continues as new after SHARDFLOW_EMISSIONS_AUTO_ITERATIONS calculations (2 here) and
 * keeps working; a job over the same activities afterwards writes no second result.
 * Every wait is for a state in the database or Temporal, with a deadline.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { createApiKey } from '../src/db/api-keys.js';
import { calculatorStateQuery, emissionsCalculatorId } from '../src/workflows/emissions-calculator.js';
import { stackMissing, startTestApi, type TestApi } from './support/api.js';
import { isDone, postJob, tempDataDir } from './support/jobs.js';
import { uniqueTaskQueue } from './support/stack.js';
import { startTestWorker, type TestWorker } from './support/worker.js';

let api: TestApi;
let worker: TestWorker;
let sql: postgres.Sql;
const ITERATIONS = 2;

before(async () => {
  if (stackMissing) return;
  const q = uniqueTaskQueue('emissions-events');
  const dataDir = await tempDataDir();
  api = await startTestApi({
    env: { TEMPORAL_TASK_QUEUE: q, SHARDFLOW_DATA_DIR: dataDir, SHARDFLOW_AUTH: 'required', SHARDFLOW_EMISSIONS_AUTO: 'on', SHARDFLOW_EMISSIONS_AUTO_ITERATIONS: String(ITERATIONS) },
  });
  worker = await startTestWorker({ taskQueue: q, dataDir, env: { WORKER_THREADS: '1' } });
  sql = postgres(process.env.DATABASE_URL!, { max: 2, onnotice: () => {} });
});

after(async () => {
  // The tenants' calculators wait for the next signal: end them (they would idle out after an hour).
  for (const t of tenants) await api?.deps.temporal.client.workflow.getHandle(emissionsCalculatorId(t)).terminate('test over').catch(() => undefined);
  await worker?.stop();
  await api?.close();
  await sql?.end({ timeout: 5 });
});

const tenants: string[] = [];

/** A fresh tenant (its own calculator workflow) and its Authorization header. */
async function tenant(): Promise<{ id: string; headers: Record<string, string> }> {
  const id = `t-events-${randomUUID().slice(0, 8)}`;
  tenants.push(id);
  const key = await createApiKey(api.deps.db.db, { name: id, tenantId: id });
  return { id, headers: { Authorization: `Bearer ${key.secret}` } };
}

const elec = (org: string, kwh: number) => ({ type: 'electricity', orgId: org, period: '2025-03', kwh, country: 'DEU' });
const spend = (org: string, amount: number) => ({ type: 'goods_services', orgId: org, period: '2025-04', amount, currency: 'USD', category: '541511' });
const air = (org: string) => ({ type: 'air_travel', orgId: org, date: '2025-03-14', origin: 'LHR', destination: 'JFK', cabinClass: 'business', passengers: 1, roundTrip: true });

async function ingest(headers: Record<string, string>, acts: unknown[]): Promise<void> {
  const res = await api.request('/v1/activities', { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify(acts) });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  assert.equal((body as any).inserted, acts.length);
}

/** Polls until every activity of the tenant has a result (a state), or fails after the deadline. */
async function untilCalculated(tenantId: string, expected: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [r] = await sql<{ acts: number; done: number }[]>`
      select (select count(*)::int from activities where tenant_id = ${tenantId}) as acts,
        (select count(distinct activity_id)::int from emission_results where tenant_id = ${tenantId}) as done`;
    if (r!.acts === expected && r!.done === expected) return;
    if (Date.now() > deadline) assert.fail(`tenant ${tenantId}: ${r!.done} of ${r!.acts} activities calculated (expected ${expected}) after ${timeoutMs / 1000} s`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

async function assertOneResultEach(tenantId: string): Promise<void> {
  const dup = await sql`select activity_id, count(*)::int as n from emission_results where tenant_id = ${tenantId} group by activity_id, factor_set having count(*) <> 1`;
  assert.equal(dup.length, 0, `one result per activity and factor set: ${JSON.stringify([...dup])}`);
  const [missing] = await sql<{ n: number }[]>`
    select count(*)::int as n from activities a where a.tenant_id = ${tenantId}
      and not exists (select 1 from emission_results r where r.activity_id = a.id)`;
  assert.equal(missing!.n, 0, 'every activity has a result');
}

const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) <= 1e-6 * Math.max(1, Math.abs(expected)), `${what}: ${actual} ≠ ${expected}`);

test('an ingest → its activities are calculated by the tenant calculator, once each; a job afterwards adds nothing', { skip: stackMissing }, async () => {
  const t = await tenant();
  await ingest(t.headers, [air('acme'), elec('acme', 10_000), spend('acme', 5000)]);
  await untilCalculated(t.id, 3);
  await assertOneResultEach(t.id);
  // The hand-checked figures of test/emissions-jobs.test.ts: 4,061.140832 + 3,420.6 + 409.670752 kg.
  const sum = (await (await api.request('/v1/emissions/summary?groupBy=type', { headers: t.headers })).json()) as any;
  close(sum.totalTonnesCo2e, (4061.140832 + 3420.6 + 409.670752) / 1000, 'summary total');
  const [run] = await sql<{ run_id: string }[]>`select distinct run_id from emission_results where tenant_id = ${t.id}`;
  assert.equal(run!.run_id, emissionsCalculatorId(t.id));

  // A job over the same tenant: nothing is pending, so it writes nothing (both insert ON CONFLICT DO NOTHING).
  const { status, body } = await postJob(api, { kind: 'emissions', spec: {} }, t.headers);
  assert.equal(status, 202, JSON.stringify(body));
  const deadline = Date.now() + 120_000;
  let job: any;
  for (;;) {
    job = await (await api.request(`/v1/jobs/${body.id}`, { headers: t.headers })).json();
    if (isDone(job)) break;
    assert.ok(Date.now() < deadline, `job not done: ${JSON.stringify(job).slice(0, 800)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(job.status, 'completed', JSON.stringify(job).slice(0, 800));
  await assertOneResultEach(t.id);
  const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from emission_results where tenant_id = ${t.id}`;
  assert.equal(n, 3);
});

test('a burst of ingests → one result per activity', { skip: stackMissing }, async () => {
  const t = await tenant();
  const bursts = 6;
  await Promise.all(Array.from({ length: bursts }, (_, i) => ingest(t.headers, [elec(`org-${i}`, 100 + i), spend(`org-${i}`, 10 + i), air(`org-${i}`)])));
  await untilCalculated(t.id, bursts * 3);
  await assertOneResultEach(t.id);
  const state = await api.deps.temporal.client.workflow.getHandle(emissionsCalculatorId(t.id)).query(calculatorStateQuery);
  // Batched: fewer calculations than signals (6 signals within one debounce window here, but a slow machine may split them).
  assert.ok(state.iterations + (state.generation - 1) * ITERATIONS <= bursts, JSON.stringify(state));
});

test('the calculator continues as new after its iteration cap and keeps working', { skip: stackMissing }, async () => {
  const t = await tenant();
  const rounds = ITERATIONS * 2 + 1;
  let firstRunId = '';
  for (let i = 0; i < rounds; i++) {
    await ingest(t.headers, [elec('acme', 1000 + i)]);
    if (i === 0) firstRunId = (await api.deps.temporal.client.workflow.getHandle(emissionsCalculatorId(t.id)).describe()).runId;
    await untilCalculated(t.id, i + 1); // each ingest waited for: one calculation each
  }
  await assertOneResultEach(t.id);
  const handle = api.deps.temporal.client.workflow.getHandle(emissionsCalculatorId(t.id));
  // The last calculation's rows are committed before the workflow records the activity's result: wait for that state.
  let state = await handle.query(calculatorStateQuery);
  for (const deadline = Date.now() + 30_000; state.calculated < rounds && Date.now() < deadline; state = await handle.query(calculatorStateQuery)) {
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.ok(state.generation >= 3, `continued as new twice at least: ${JSON.stringify(state)}`);
  assert.equal(state.calculated, rounds, JSON.stringify(state));
  // Another run than the first one, and the first one's history ends in continue-as-new.
  const now = await handle.describe();
  assert.notEqual(now.runId, firstRunId);
  const history = await api.deps.temporal.client.workflow.getHandle(emissionsCalculatorId(t.id), firstRunId).fetchHistory();
  assert.ok(history.events?.some((e) => e.workflowExecutionContinuedAsNewEventAttributes), 'the first run continued as new');
});
