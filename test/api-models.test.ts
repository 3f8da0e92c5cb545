/**
 * /v1/models: fit a model to the user's own CSV, list (paginated) and read models per tenant, by id
 * or by name, refuse bad CSV / content types / groupings / names, Idempotency-Key, and run trial
 * jobs on a fitted model.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { createApiKey } from '../src/db/api-keys.js';
import { PILOT_VITALS_CSV_PATH } from '../src/kinds/trial/pilot.js';
import { stackMissing, startTestApi, type TestApi } from './support/api.js';
import { startTestWorker, type TestWorker } from './support/worker.js';
import { uniqueTaskQueue } from './support/stack.js';
import { isDone, postJob, readJobRows, readManifest, tempDataDir, waitForJob } from './support/jobs.js';

const COLUMNS = ['SubjectID', 'TreatmentArm', 'VisitName', 'SystolicBP', 'DiastolicBP', 'HeartRate', 'Temperature'];
const RENAMED_VISITS: Record<string, string> = { Baseline: 'Day 1', 'Week 4': 'Day 29', 'Week 12': 'Day 85' };
const VISITS = ['Day 1', 'Day 29', 'Day 85'];
const ARMS = ['Drug X', 'Placebo'];

let api: TestApi;
let worker: TestWorker;
let dataDir: string;
/** The shipped pilot data with Week 8 dropped, visits and the active arm renamed: a user's own study. */
let ownCsv: string;
let ownRows: number;
let ownSubjects: number;

before(async () => {
  if (stackMissing) return;
  const q = uniqueTaskQueue('models');
  dataDir = await tempDataDir();
  api = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: q, SHARDFLOW_DATA_DIR: dataDir, SHARDFLOW_AUTH: 'required' } });
  worker = await startTestWorker({ taskQueue: q, dataDir });
  const [header, ...lines] = (await fs.readFile(PILOT_VITALS_CSV_PATH, 'utf8')).trim().split('\n');
  assert.equal(header, COLUMNS.join(','));
  const kept: string[] = [];
  const subjects = new Set<string>();
  for (const line of lines) {
    const cells = line.split(',');
    const visit = RENAMED_VISITS[cells[2]!];
    if (!visit) continue;
    cells[2] = visit;
    if (cells[1] === 'Active') cells[1] = 'Drug X';
    kept.push(cells.join(','));
    subjects.add(cells[0]!);
  }
  ownCsv = [header, ...kept].join('\n') + '\n';
  ownRows = kept.length;
  ownSubjects = subjects.size;
});

after(async () => {
  await worker?.stop();
  await api?.close();
});

function withKey(base: TestApi, secret: string): TestApi {
  return {
    ...base,
    request: (p, init = {}) =>
      base.request(p, { ...init, headers: { Authorization: `Bearer ${secret}`, ...((init.headers as Record<string, string>) ?? {}) } }),
  };
}

async function newTenant(): Promise<TestApi> {
  const key = await createApiKey(api.deps.db.db, { name: 'api-models-test', tenantId: `t-models-${randomUUID().slice(0, 8)}` });
  return withKey(api, key.secret);
}

function postCsv(t: TestApi, body: string, query = '', contentType = 'text/csv', headers: Record<string, string> = {}) {
  return t.request(`/v1/models${query}`, { method: 'POST', headers: { 'Content-Type': contentType, ...headers }, body });
}

async function assertProblem(res: Response, status: number, paths: string[] = []) {
  const body = (await res.json()) as { status: number; type: string; title: string; errors?: { path: string; message: string }[] };
  assert.equal(res.status, status, JSON.stringify(body));
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  assert.equal(body.status, status);
  const got = (body.errors ?? []).map((e) => e.path);
  for (const p of paths) assert.ok(got.includes(p), `expected an error naming ${p}; got ${JSON.stringify(body)}`);
  return body;
}

async function listModels(t: TestApi): Promise<any[]> {
  const res = await t.request('/v1/models');
  assert.equal(res.status, 200);
  return ((await res.json()) as { items: any[] }).items;
}

test('POST /v1/models with a CSV → 201 with the visits, arms, rows and per-group means', { skip: stackMissing }, async () => {
  const t = await newTenant();
  const res = await postCsv(t, ownCsv, '?groupBy=VisitName,TreatmentArm&name=my-study');
  assert.equal(res.status, 201, await res.clone().text());
  const m = (await res.json()) as any;
  assert.match(m.id, /^model-/);
  assert.equal(m.name, 'my-study');
  assert.equal(m.builtIn, false);
  assert.deepEqual(m.groupBy, ['VisitName', 'TreatmentArm']);
  assert.deepEqual(m.visits, VISITS);
  assert.deepEqual(m.arms, ARMS);
  assert.equal(m.rows, ownRows);
  assert.equal(m.subjects, ownSubjects);
  assert.ok(!Number.isNaN(Date.parse(m.createdAt)));
  assert.equal(m.groups.length, VISITS.length * ARMS.length);
  for (const g of m.groups) {
    assert.ok(VISITS.includes(g.visit) && ARMS.includes(g.arm), JSON.stringify(g));
    assert.ok(g.n > 0);
    assert.equal(g.mean.length, 4);
    assert.ok(g.mean[0] > 80 && g.mean[0] < 200, `SystolicBP mean ${g.mean[0]}`);
  }

  // The default groupBy is the supported one; a subset of the pilot data fits too.
  const subset = ownCsv.split('\n').slice(0, 301).join('\n') + '\n';
  const small = await postCsv(t, subset);
  assert.equal(small.status, 201, await small.clone().text());
  assert.equal(((await small.json()) as any).rows, 300);
});

test('bad CSV → 400 listing the bad lines as body.line.N; nothing stored', { skip: stackMissing }, async () => {
  const t = await newTenant();
  const lines = ownCsv.trim().split('\n').slice(0, 40);
  lines[2] = lines[2]!.replace(/^([^,]*,[^,]*,[^,]*),\d+/, '$1,abc'); // line 3: SystolicBP not a number
  lines[4] = lines[4]!.split(',').slice(0, 5).join(','); // line 5: too few fields
  lines[6] = lines[6]!.replace(/,[\d.]+$/, ',99.5'); // line 7: implausible temperature
  const bad = await assertProblem(await postCsv(t, lines.join('\n') + '\n'), 400, ['body.line.3', 'body.line.5', 'body.line.7']);
  assert.equal(bad.errors!.length, 3, JSON.stringify(bad.errors));
  for (const e of bad.errors!) assert.ok(e.message.length > 0);

  await assertProblem(await postCsv(t, 'SubjectID,TreatmentArm,VisitName,SystolicBP\nS1,A,V1,120\n'), 400, ['body.line.1']);
  await assertProblem(await postCsv(t, ''), 400, ['body.line.1']);
  // Well-formed lines that cannot be fitted (one arm only).
  const oneArm = [lines[0], ...ownCsv.trim().split('\n').filter((l) => l.includes(',Placebo,'))].join('\n');
  const unfit = await assertProblem(await postCsv(t, oneArm), 400);
  assert.ok(unfit.errors?.some((e) => e.path.startsWith('body.')), JSON.stringify(unfit));

  // Only the built-in model is listed for this tenant.
  assert.deepEqual((await listModels(t)).map((m) => m.id), ['pilot-vitals']);
});

test('wrong Content-Type → 415; groupBy other than VisitName,TreatmentArm → 400 naming groupBy', { skip: stackMissing }, async () => {
  const t = await newTenant();
  await assertProblem(await postCsv(t, ownCsv, '', 'application/json'), 415);
  await assertProblem(await postCsv(t, JSON.stringify({ csv: ownCsv }), '', 'application/json'), 415);
  await assertProblem(await postCsv(t, ownCsv, '', 'text/plain'), 415);
  for (const groupBy of ['VisitName', 'TreatmentArm,VisitName', 'VisitName,TreatmentArm,SubjectID', 'Site']) {
    await assertProblem(await postCsv(t, ownCsv, `?groupBy=${encodeURIComponent(groupBy)}`), 400, ['groupBy']);
  }
  assert.deepEqual((await listModels(t)).map((m) => m.id), ['pilot-vitals']);
});

test('GET /v1/models lists pilot-vitals and the tenant’s own models; another tenant sees neither of its models', { skip: stackMissing }, async () => {
  const owner = await newTenant();
  const stranger = await newTenant();
  const res = await postCsv(owner, ownCsv, '?name=listed');
  assert.equal(res.status, 201);
  const model = (await res.json()) as any;

  const items = await listModels(owner);
  assert.deepEqual(items.map((m) => m.id), ['pilot-vitals', model.id]);
  const pilot = items[0];
  assert.equal(pilot.builtIn, true);
  assert.deepEqual(pilot.visits, ['Baseline', 'Week 4', 'Week 8', 'Week 12']);
  assert.deepEqual(pilot.arms, ['Active', 'Placebo']);
  assert.equal(pilot.rows, 945);
  const listed = items[1];
  assert.equal(listed.name, 'listed');
  assert.deepEqual(listed.visits, VISITS);
  assert.equal(listed.groups, undefined, 'the list carries no per-group detail');

  const one = await owner.request(`/v1/models/${model.id}`);
  assert.equal(one.status, 200);
  const detail = (await one.json()) as any;
  assert.equal(detail.id, model.id);
  assert.equal(detail.groups.length, 6);
  assert.equal((await owner.request('/v1/models/pilot-vitals')).status, 200);

  assert.deepEqual((await listModels(stranger)).map((m) => m.id), ['pilot-vitals']);
  await assertProblem(await stranger.request(`/v1/models/${model.id}`), 404);
  await assertProblem(await owner.request('/v1/models/model-nosuchmodel'), 404);
  // Nor can the stranger generate from it.
  const job = await stranger.request('/v1/jobs', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ kind: 'trial', spec: { method: 'bootstrap', nPerArm: 10, model: model.id } }),
  });
  await assertProblem(job, 400, ['spec.model']);
});

test('a bootstrap trial job on a fitted model completes with 2 × nPerArm × visits rows in its names', { skip: stackMissing }, async () => {
  const t = await newTenant();
  const res = await postCsv(t, ownCsv);
  assert.equal(res.status, 201);
  const model = (await res.json()) as any;

  // The pilot's visit names do not fit this model.
  const wrong = await t.request('/v1/jobs', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ kind: 'trial', spec: { method: 'bootstrap', nPerArm: 10, model: model.id, visits: ['Baseline'] } }),
  });
  await assertProblem(wrong, 400, ['spec.visits.0']);

  const nPerArm = 400;
  const posted = await postJob(t, { kind: 'trial', spec: { method: 'bootstrap', nPerArm, seed: 3, model: model.id }, partitioning: { shardRows: 1000 } });
  assert.equal(posted.status, 202, JSON.stringify(posted.body));
  const rows = 2 * nPerArm * VISITS.length;
  assert.equal(posted.body.estimate.rows, rows);
  assert.deepEqual(posted.body.spec.visits, VISITS);
  assert.deepEqual(posted.body.spec.arms, ARMS);

  const job = await waitForJob(t, posted.body.id, isDone, 60_000).catch(async (err: Error) => {
    // Say what the workflow is stuck on.
    const d = await api.deps.temporal.client.workflow.getHandle(posted.body.id).describe();
    const pending = (d.raw.pendingActivities ?? []).map((a) => ({ type: a.activityType?.name, attempt: a.attempt, state: a.state, lastFailure: a.lastFailure?.message }));
    throw new Error(`${err.message.slice(0, 300)}\nworkflow ${d.status.name}; pending activities: ${JSON.stringify(pending)}`);
  });
  assert.equal(job.status, 'completed', JSON.stringify(job));
  assert.equal(job.result.rows, rows);
  assert.equal(job.progress.done, rows);
  const manifest = await readManifest(dataDir, job.id);
  assert.equal(manifest.spec.model, model.id);
  assert.equal(manifest.spec.method, 'bootstrap');
  assert.equal(manifest.rows, rows);

  const data = (await readJobRows(dataDir, job.id)).vitals!;
  assert.equal(data.length, rows);
  const count = (key: string) => {
    const m = new Map<unknown, number>();
    for (const r of data) m.set(r[key], (m.get(r[key]) ?? 0) + 1);
    return m;
  };
  assert.deepEqual([...count('VisitName').keys()].sort(), [...VISITS].sort());
  for (const n of count('VisitName').values()) assert.equal(n, 2 * nPerArm);
  assert.deepEqual([...count('TreatmentArm').keys()].sort(), [...ARMS].sort());
  for (const n of count('TreatmentArm').values()) assert.equal(n, nPerArm * VISITS.length);
  assert.equal(new Set(data.map((r) => r.SubjectID)).size, 2 * nPerArm);
  for (const r of data.slice(0, 200)) {
    const sbp = Number(r.SystolicBP);
    assert.ok(sbp > 60 && sbp < 250, JSON.stringify(r));
  }
});

test('POST /v1/models honours Idempotency-Key (API.md: every creating POST)', { skip: stackMissing }, async () => {
  const t = await newTenant();
  const key = `idem-model-${randomUUID()}`;
  const first = await postCsv(t, ownCsv, '?name=idem', 'text/csv', { 'Idempotency-Key': key });
  assert.equal(first.status, 201, await first.clone().text());
  const again = await postCsv(t, ownCsv, '?name=idem', 'text/csv', { 'Idempotency-Key': key });
  assert.equal(again.status, 200, 'the same key and body must return the original model (200), not fit a new one');
  assert.equal(((await again.json()) as any).id, ((await first.json()) as any).id);
  const other = await postCsv(t, ownCsv.split('\n').slice(0, 301).join('\n') + '\n', '?name=idem', 'text/csv', { 'Idempotency-Key': key });
  await assertProblem(other, 409, ['Idempotency-Key']);
  assert.equal((await listModels(t)).length, 2);
});

// ------------------------------------------------------------------------------------------------
// pagination, names, and what must never be a 500

/** 300 lines of the tenant's own data: fits in a moment. */
const subsetCsv = () => ownCsv.split('\n').slice(0, 301).join('\n') + '\n';

async function createModel(t: TestApi, query = '', headers: Record<string, string> = {}): Promise<any> {
  const res = await postCsv(t, subsetCsv(), query, 'text/csv', headers);
  assert.equal(res.status, 201, await res.clone().text());
  return res.json();
}

async function page(t: TestApi, query: string): Promise<{ items: any[]; nextCursor: string | null }> {
  const res = await t.request(`/v1/models${query}`);
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as { items: any[]; nextCursor: string | null };
}

/** Follows nextCursor from the first page to the last; every page but the last is full. */
async function walkModels(t: TestApi, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; ; pages++) {
    assert.ok(pages < 50, 'too many pages');
    const p = await page(t, `?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.ok(p.items.length <= limit, `a page of ${p.items.length} with limit ${limit}`);
    ids.push(...p.items.map((m) => m.id));
    if (p.nextCursor === null) return ids;
    assert.equal(p.items.length, limit, 'only the last page may be short');
    assert.match(p.nextCursor, /^[A-Za-z0-9_-]+$/);
    cursor = p.nextCursor;
  }
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

test('GET /v1/models pages with limit and cursor: pilot-vitals first, then the tenant’s models newest first, each once', { skip: stackMissing }, async () => {
  const t = await newTenant();
  const made: any[] = [];
  for (let i = 1; i <= 5; i++) made.push(await createModel(t, `?name=paged-${i}`));
  const newestFirst = [...made]
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .map((m) => m.id);
  const expected = ['pilot-vitals', ...newestFirst];

  const all = await page(t, '');
  assert.deepEqual(all.items.map((m) => m.id), expected);
  assert.equal(all.nextCursor, null);
  for (const limit of [1, 2, 3, 5, 6, 7, 500]) assert.deepEqual(await walkModels(t, limit), expected, `limit ${limit}`);

  // The built-in model alone on the first page; the next page starts at the tenant's newest.
  const first = await page(t, '?limit=1');
  assert.deepEqual(first.items.map((m) => m.id), ['pilot-vitals']);
  const second = await page(t, `?limit=2&cursor=${first.nextCursor}`);
  assert.deepEqual(second.items.map((m) => m.id), newestFirst.slice(0, 2));
  assert.equal(second.items[0].name, made.find((m) => m.id === newestFirst[0]).name);
  assert.equal(second.items[0].groups, undefined, 'the list carries no per-group detail');

  // Another tenant's pages hold only the built-in model.
  assert.deepEqual(await walkModels(await newTenant(), 1), ['pilot-vitals']);
});

test('GET /v1/models: a bad cursor or limit is a 400 problem naming it, never a 500', { skip: stackMissing }, async () => {
  const t = await newTenant();
  await createModel(t);
  const at = '2025-03-01T12:34:56.789Z';
  const badCursors = [
    'garbage!',
    '%00',
    'e30', // {}
    b64('not json'),
    b64(JSON.stringify({ createdAt: '+275760-09-13T00:00:00.000Z', id: 'model-x' })), // year 275760
    b64(JSON.stringify({ createdAt: at, id: 'model-\u0000' })), // NUL in the id
    b64(JSON.stringify({ createdAt: at, id: 'model-x', more: 1 })),
    b64(JSON.stringify({ builtIn: 'something-else' })),
    b64(JSON.stringify({ name: 'manifest.json' })), // a files cursor
  ];
  for (const cursor of badCursors) {
    const query = cursor === '%00' ? '?cursor=%00' : `?cursor=${encodeURIComponent(cursor)}`;
    await assertProblem(await t.request(`/v1/models${query}`), 400, ['cursor']);
  }
  for (const limit of ['0', '501', 'abc', '1e2', '']) await assertProblem(await t.request(`/v1/models?limit=${limit}`), 400, ['limit']);
});

test('a model is referenced by its name: GET /v1/models/{name}, and "model": "<name>" in a job spec (the job completes)', { skip: stackMissing }, async () => {
  const t = await newTenant();
  const model = await createModel(t, '?name=my-trial');
  assert.equal(model.name, 'my-trial');

  const byName = await t.request('/v1/models/my-trial');
  assert.equal(byName.status, 200);
  const detail = (await byName.json()) as any;
  assert.equal(detail.id, model.id);
  assert.equal(detail.name, 'my-trial');
  assert.equal(detail.createdAt, model.createdAt);
  assert.equal(detail.groups.length, VISITS.length * ARMS.length);
  assert.equal(((await (await t.request(`/v1/models/${model.id}`)).json()) as any).name, 'my-trial');

  // Any characters but control ones, in the path percent-encoded.
  const odd = await createModel(t, `?name=${encodeURIComponent('Étude 2/β ♥')}`);
  const oddRes = await t.request(`/v1/models/${encodeURIComponent('Étude 2/β ♥')}`);
  assert.equal(oddRes.status, 200, await oddRes.clone().text());
  assert.equal(((await oddRes.json()) as any).id, odd.id);

  const nPerArm = 60;
  const posted = await postJob(t, { kind: 'trial', spec: { method: 'bootstrap', nPerArm, seed: 9, model: 'my-trial' } });
  assert.equal(posted.status, 202, JSON.stringify(posted.body));
  assert.deepEqual(posted.body.spec.visits, VISITS, 'the named model’s visits');
  assert.deepEqual(posted.body.spec.arms, ARMS);
  assert.equal(posted.body.spec.model, model.id, 'the job records the id the name stood for');
  const job = await waitForJob(t, posted.body.id, isDone, 60_000);
  assert.equal(job.status, 'completed', JSON.stringify(job));
  const rows = 2 * nPerArm * VISITS.length;
  assert.equal(job.result.rows, rows);
  const data = (await readJobRows(dataDir, job.id)).vitals!;
  assert.equal(data.length, rows);
  assert.deepEqual([...new Set(data.map((r) => r.VisitName))].sort(), [...VISITS].sort());
  assert.deepEqual([...new Set(data.map((r) => r.TreatmentArm))].sort(), [...ARMS].sort());
  // mvn by name too (validation only: it runs the same way).
  const mvn = await postJob(t, { kind: 'trial', spec: { method: 'mvn', nPerArm: 5, seed: 1, model: 'my-trial' } });
  assert.equal(mvn.status, 202, JSON.stringify(mvn.body));
  await waitForJob(t, mvn.body.id, isDone, 60_000);

  // Names are the tenant's own: a stranger neither sees nor uses it, and may take the same name.
  const stranger = await newTenant();
  await assertProblem(await stranger.request('/v1/models/my-trial'), 404);
  const theirsJob = await stranger.request('/v1/jobs', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ kind: 'trial', spec: { method: 'bootstrap', nPerArm: 10, model: 'my-trial' } }),
  });
  await assertProblem(theirsJob, 400, ['spec.model']);
  const theirs = await createModel(stranger, '?name=my-trial');
  assert.notEqual(theirs.id, model.id);
  assert.equal(((await (await stranger.request('/v1/models/my-trial')).json()) as any).id, theirs.id);
  assert.equal(((await (await t.request('/v1/models/my-trial')).json()) as any).id, model.id);
});

test('model names: a duplicate is a 409 naming name; an id-like, empty, too long or control-character name a 400 naming name', { skip: stackMissing }, async () => {
  const t = await newTenant();
  const dup = await createModel(t, '?name=dup');
  await assertProblem(await postCsv(t, subsetCsv(), '?name=dup'), 409, ['name']);
  // Another Idempotency-Key does not make it another name.
  await assertProblem(await postCsv(t, ownCsv, '?name=dup', 'text/csv', { 'Idempotency-Key': `k-${randomUUID()}` }), 409, ['name']);
  // Names are case-sensitive: "Dup" is another name.
  const other = await createModel(t, '?name=Dup');

  const refused = ['model-1', 'MODEL-abc', 'pilot-vitals', 'Pilot-Vitals', '', 'x'.repeat(65), 'a\u0000b', 'tab\there', 'new\nline', 'del\u007f', 'c1\u0085'];
  for (const name of refused) {
    await assertProblem(await postCsv(t, subsetCsv(), `?name=${encodeURIComponent(name)}`), 400, ['name']);
  }
  const longest = await createModel(t, `?name=${'n'.repeat(64)}`);
  assert.equal(longest.name, 'n'.repeat(64));

  const ids = (await listModels(t)).map((m) => m.id).sort();
  assert.deepEqual(ids, ['pilot-vitals', dup.id, other.id, longest.id].sort(), 'nothing else was stored');
});

test('NUL bytes in a model id, a name or a spec: a 4xx problem, never a 500', { skip: stackMissing }, async () => {
  const t = await newTenant();
  await assertProblem(await t.request('/v1/models/%00'), 404);
  await assertProblem(await t.request('/v1/models/model-%00'), 404);
  await assertProblem(await t.request('/v1/models/a%00b'), 404);
  await assertProblem(await postCsv(t, subsetCsv(), '?name=a%00b'), 400, ['name']);
  const job = await t.request('/v1/jobs', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ kind: 'trial', spec: { method: 'bootstrap', nPerArm: 10, model: 'a\u0000b' } }),
  });
  await assertProblem(job, 400, ['spec.model']);
  assert.deepEqual((await listModels(t)).map((m) => m.id), ['pilot-vitals']);
});

test('Idempotency-Key: concurrent POSTs with one key and body make one model; the others answer it with 200', { skip: stackMissing }, async () => {
  const t = await newTenant();
  const key = `idem-race-${randomUUID()}`;
  const answers = await Promise.all(Array.from({ length: 6 }, () => postCsv(t, subsetCsv(), '?name=twin', 'text/csv', { 'Idempotency-Key': key })));
  const bodies = await Promise.all(answers.map(async (r) => ({ status: r.status, body: (await r.json()) as any })));
  assert.deepEqual(bodies.map((b) => b.status).sort(), [200, 200, 200, 200, 200, 201], JSON.stringify(bodies));
  assert.equal(new Set(bodies.map((b) => b.body.id)).size, 1);
  assert.equal(bodies[0]!.body.name, 'twin');
  assert.equal((await listModels(t)).length, 2);
  // The key with another body (here another name) is a 409 naming the header.
  await assertProblem(await postCsv(t, subsetCsv(), '?name=twin-2', 'text/csv', { 'Idempotency-Key': key }), 409, ['Idempotency-Key']);
});
