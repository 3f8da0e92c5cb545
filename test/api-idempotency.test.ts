/**
 * The one Idempotency-Key helper (src/api/idempotency.ts `idempotentCreate`) on a table of its own:
 * any drizzle table with tenantId / idempotencyKey / requestHash works, as jobs and models do. Replay
 * (200, nothing made), 409 on another body, the unique-violation race (forced, not hoped for: both
 * requests are held inside `create` until both are there) and other unique violations left to the route.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { idempotentCreate, isUniqueViolation } from '../src/api/idempotency.js';
import { ProblemError } from '../src/api/middleware/problem.js';
import { stackMissing, startTestApi, type TestApi } from './support/api.js';

const tableName = `test_widgets_${randomBytes(4).toString('hex')}`;
const widgets = pgTable(
  tableName,
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    label: text('label').notNull(),
    idempotencyKey: text('idempotency_key'),
    requestHash: text('request_hash'),
  },
  (t) => [uniqueIndex(`${tableName}_key_uq`).on(t.tenantId, t.idempotencyKey), uniqueIndex(`${tableName}_label_uq`).on(t.tenantId, t.label)],
);

let api: TestApi;
/** How many times `create` ran. */
let creates = 0;
/** When set, `create` waits here (after the helper's lookup, before the insert). */
let hold: { arrived: number; expected: number; release: () => void; all: Promise<void> } | undefined;

function holdUntil(expected: number) {
  let release!: () => void;
  const all = new Promise<void>((resolve) => (release = resolve));
  hold = { arrived: 0, expected, release, all };
}

before(async () => {
  if (stackMissing) return;
  api = await startTestApi({
    env: { SHARDFLOW_AUTH: 'off' },
    extend: (app, deps) => {
      app.post('/test/widgets', async (c) => {
        const tenantId = c.req.header('X-Tenant') ?? 'local';
        const body = (await c.req.json()) as { label: string };
        try {
          const out = await idempotentCreate(c, { db: deps.db.db, table: widgets, tenantId, request: body }, async (stamp) => {
            creates++;
            if (hold) {
              if (++hold.arrived === hold.expected) hold.release();
              await hold.all;
            }
            const [row] = await deps.db.db
              .insert(widgets)
              .values({ id: `w-${randomUUID()}`, tenantId, label: body.label, idempotencyKey: stamp.key, requestHash: stamp.hash })
              .returning();
            return row!;
          });
          return out.replayed ? c.json(out.row, 200) : c.json(out.created, 201);
        } catch (err) {
          if (isUniqueViolation(err, `${tableName}_label_uq`)) throw new ProblemError({ status: 409, detail: 'label taken', errors: [{ path: 'label', message: 'taken' }] });
          throw err;
        }
      });
    },
  });
  await api.deps.db.sql.unsafe(`
    create table ${tableName} (id text primary key, tenant_id text not null, label text not null, idempotency_key text, request_hash text);
    create unique index ${tableName}_key_uq on ${tableName} (tenant_id, idempotency_key);
    create unique index ${tableName}_label_uq on ${tableName} (tenant_id, label);`);
});

after(async () => {
  if (api) await api.deps.db.sql.unsafe(`drop table if exists ${tableName}`);
  await api?.close();
});

function post(body: unknown, headers: Record<string, string> = {}) {
  return api.request('/test/widgets', { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

async function problemOf(res: Response, status: number): Promise<{ errors?: { path: string }[] }> {
  assert.equal(res.status, status, await res.clone().text());
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  return (await res.json()) as { errors?: { path: string }[] };
}

const rowsOf = (tenantId: string) => api.deps.db.db.select().from(widgets).where(eq(widgets.tenantId, tenantId));

test('any table: same key and body → 200 with the original row and no second create; another body → 409 naming Idempotency-Key', { skip: stackMissing }, async () => {
  const tenant = `t-${randomUUID()}`;
  const key = `k-${randomUUID()}`;
  const before = creates;
  const first = await post({ label: 'a', size: { w: 1, h: 2 } }, { 'X-Tenant': tenant, 'Idempotency-Key': key });
  assert.equal(first.status, 201);
  const row = (await first.json()) as { id: string };
  const again = await post({ size: { h: 2, w: 1 }, label: 'a' }, { 'X-Tenant': tenant, 'Idempotency-Key': key });
  assert.equal(again.status, 200);
  assert.deepEqual(await again.json(), row);
  assert.equal(creates - before, 1, 'a replay does not create');

  const other = await problemOf(await post({ label: 'b' }, { 'X-Tenant': tenant, 'Idempotency-Key': key }), 409);
  assert.deepEqual(other.errors?.map((e) => e.path), ['Idempotency-Key']);
  assert.equal((await problemOf(await post({ label: 'c' }, { 'X-Tenant': tenant, 'Idempotency-Key': '' }), 400)).errors?.[0]?.path, 'Idempotency-Key');
  assert.deepEqual((await rowsOf(tenant)).map((r) => r.id), [row.id]);

  // Without a key every POST creates; the same key in another tenant is another request.
  assert.equal((await post({ label: 'd' }, { 'X-Tenant': tenant })).status, 201);
  assert.equal((await post({ label: 'a' }, { 'X-Tenant': `t-${randomUUID()}`, 'Idempotency-Key': key })).status, 201);
  assert.equal((await rowsOf(tenant)).length, 2);
});

test('the race: two requests with one key both pass the lookup; the insert that loses answers with the winner (200)', { skip: stackMissing, timeout: 30_000 }, async () => {
  const tenant = `t-${randomUUID()}`;
  const key = `k-${randomUUID()}`;
  const before = creates;
  holdUntil(2);
  try {
    const answers = await Promise.all([0, 1].map(() => post({ label: 'raced' }, { 'X-Tenant': tenant, 'Idempotency-Key': key })));
    assert.equal(creates - before, 2, 'both requests were inside create at once');
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 201]);
    const [a, b] = await Promise.all(answers.map((r) => r.json()));
    assert.deepEqual(a, b);
  } finally {
    hold = undefined;
  }
  assert.equal((await rowsOf(tenant)).length, 1);

  // Raced with another body, the loser is the 409.
  const key2 = `k-${randomUUID()}`;
  holdUntil(2);
  try {
    const answers = await Promise.all(['x', 'y'].map((label) => post({ label }, { 'X-Tenant': tenant, 'Idempotency-Key': key2 })));
    assert.deepEqual(answers.map((a) => a.status).sort(), [201, 409]);
  } finally {
    hold = undefined;
  }
});

test('a unique violation of another index is not a replay: the route gets the error (here a 409 naming label)', { skip: stackMissing }, async () => {
  const tenant = `t-${randomUUID()}`;
  assert.equal((await post({ label: 'same' }, { 'X-Tenant': tenant, 'Idempotency-Key': `k-${randomUUID()}` })).status, 201);
  const taken = await problemOf(await post({ label: 'same' }, { 'X-Tenant': tenant, 'Idempotency-Key': `k-${randomUUID()}` }), 409);
  assert.deepEqual(taken.errors?.map((e) => e.path), ['label']);
  assert.equal((await rowsOf(tenant)).length, 1);
});
