import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createApiKey, revokeApiKey } from '../src/db/api-keys.js';
import { jobs } from '../src/db/schema.js';
import { runCli } from '../src/cli/cli.js';
import { stackMissing, startTestApi, type TestApi } from './support/api.js';

let api: TestApi;
let open: TestApi;
const tenantA = `tenant-a-${randomUUID().slice(0, 8)}`;
const tenantB = `tenant-b-${randomUUID().slice(0, 8)}`;

before(async () => {
  if (stackMissing) return;
  api = await startTestApi({ env: { SHARDFLOW_AUTH: 'required' } });
  open = await startTestApi({ env: { SHARDFLOW_AUTH: 'off' } });
});
after(async () => {
  await api?.close();
  await open?.close();
});

async function assertProblem(res: Response, status: number) {
  assert.equal(res.status, status);
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  const body = (await res.json()) as { type: string; title: string; status: number; detail?: string };
  assert.equal(body.status, status);
  assert.equal(typeof body.title, 'string');
  assert.equal(typeof body.type, 'string');
  return body;
}

test('no key: 401 problem with a Bearer challenge', { skip: stackMissing }, async () => {
  const res = await api.request('/v1/jobs');
  await assertProblem(res, 401);
  assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
});

test('unknown key: 401', { skip: stackMissing }, async () => {
  await assertProblem(await api.request('/v1/jobs', { headers: { Authorization: 'Bearer sf_nope' } }), 401);
  await assertProblem(await api.request('/v1/jobs', { headers: { 'X-API-Key': 'sf_nope' } }), 401);
});

test('a key made by `shardflow keys create` works as Bearer and X-API-Key', { skip: stackMissing }, async () => {
  const out: string[] = [];
  const code = await runCli(['keys', 'create', '--name', 'auth-test', '--tenant', tenantA, '--json'], process.env, {
    out: (t) => out.push(t),
    err: (t) => out.push(t),
  });
  assert.equal(code, 0, out.join('\n'));
  const key = JSON.parse(out.join('')) as { id: string; tenantId: string; secret: string };
  assert.equal(key.tenantId, tenantA);
  assert.match(key.secret, /^sf_[A-Za-z0-9_-]{43}$/);
  assert.match(key.id, /^key_/);

  assert.equal((await api.request('/v1/jobs', { headers: { Authorization: `Bearer ${key.secret}` } })).status, 200);
  assert.equal((await api.request('/v1/jobs', { headers: { 'X-API-Key': key.secret } })).status, 200);
});

test('a revoked key is a 401', { skip: stackMissing }, async () => {
  const key = await createApiKey(api.deps.db.db, { name: 'revoke-me', tenantId: tenantA });
  const headers = { Authorization: `Bearer ${key.secret}` };
  assert.equal((await api.request('/v1/jobs', { headers })).status, 200);
  assert.equal(await revokeApiKey(api.deps.db.db, key.id), true);
  await assertProblem(await api.request('/v1/jobs', { headers }), 401);
});

test('public routes need no key', { skip: stackMissing }, async () => {
  for (const path of ['/health/live', '/metrics', '/openapi.json', '/docs']) {
    assert.equal((await api.request(path)).status, 200, path);
  }
});

test("another tenant's job is a 404", { skip: stackMissing }, async () => {
  const a = await createApiKey(api.deps.db.db, { name: 'a', tenantId: tenantA });
  const b = await createApiKey(api.deps.db.db, { name: 'b', tenantId: tenantB });
  const id = `job-authtest-${randomUUID()}`;
  await api.deps.db.db.insert(jobs).values({
    id,
    tenantId: tenantA,
    kind: 'trial',
    status: 'completed',
    spec: { method: 'rules', nPerArm: 10, seed: 1 },
    output: { format: 'csv', compression: 'none' },
    partitioning: { shardRows: 1000, maxParallelShards: 1 },
    rowsTotal: 100,
    startedAt: new Date(),
    finishedAt: new Date(),
    result: { rows: 100, files: [] },
  });
  const asB = await api.request(`/v1/jobs/${id}`, { headers: { Authorization: `Bearer ${b.secret}` } });
  await assertProblem(asB, 404);
  const listB = await api.request('/v1/jobs', { headers: { Authorization: `Bearer ${b.secret}` } });
  assert.ok(!((await listB.json()) as { items: { id: string }[] }).items.some((j) => j.id === id));

  const asA = await api.request(`/v1/jobs/${id}`, { headers: { Authorization: `Bearer ${a.secret}` } });
  assert.equal(asA.status, 200, await asA.clone().text());
  assert.equal(((await asA.json()) as { id: string }).id, id);
});

test('with auth off every request is tenant "local", no key needed', { skip: stackMissing }, async () => {
  assert.equal((await open.request('/v1/jobs')).status, 200);
});
