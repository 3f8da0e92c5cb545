/**
 * /v1/scenarios through the real API (auth required, tenants by key): create (version 1), read,
 * list with the presets first and pages, new versions by PUT (an old one never changes), validate
 * (stores nothing), delete, refusals naming the body's field (400 shape, 422 semantics), another
 * tenant's scenario a 404, Idempotency-Key; and a patients job from a stored scenario and version,
 * which keeps its resolved copy after the scenario is deleted.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createApiKey } from '../src/db/api-keys.js';
import { PRESETS } from '../src/kinds/patients/scenario.js';
import { stackMissing, startTestApi, type TestApi } from './support/api.js';
import { isDone, readManifest, tempDataDir } from './support/jobs.js';
import { uniqueTaskQueue } from './support/stack.js';
import { startTestWorker, type TestWorker } from './support/worker.js';

let api: TestApi;
let worker: TestWorker;
let dataDir: string;

before(async () => {
  if (stackMissing) return;
  const q = uniqueTaskQueue('scenarios');
  dataDir = await tempDataDir();
  api = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: q, SHARDFLOW_DATA_DIR: dataDir, SHARDFLOW_AUTH: 'required' } });
  worker = await startTestWorker({ taskQueue: q, dataDir });
});
after(async () => {
  await worker?.stop();
  await api?.close();
});

interface Client {
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
}
async function newTenant(): Promise<Client> {
  const key = await createApiKey(api.deps.db.db, { name: 'api-scenarios-test', tenantId: `t-scn-${randomUUID().slice(0, 8)}` });
  return {
    async call(method, path, body, headers = {}) {
      const r = await api.request(path, {
        method,
        headers: { Authorization: `Bearer ${key.secret}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : null };
    },
  };
}

const skip = { skip: stackMissing };
const EXERCISE = {
  name: 'Baltic exercise',
  durationDays: 4,
  totalCasualties: 400,
  fronts: [
    { name: 'Baltic', share: 0.7, nationalities: [{ code: 'EST', share: 0.5 }, { code: 'LVA', share: 0.5 }] },
    { name: 'Poland', share: 0.3, nationalities: [{ code: 'POL', share: 1 }] },
  ],
};
const paths = (b: any) => (b.errors ?? []).map((e: any) => e.path);

test('create, read, version, list, validate, delete; refusals name the field', skip, async () => {
  const t = await newTenant();
  const created = await t.call('POST', '/v1/scenarios', EXERCISE);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id;
  assert.match(id, /^scn-/);
  assert.deepEqual([created.body.version, created.body.latestVersion, created.body.name, created.body.builtIn], [1, 1, 'Baltic exercise', false]);
  assert.deepEqual(created.body.scenario, EXERCISE);
  assert.equal(created.body.resolved.baseCasualties, 400);
  assert.equal(created.body.resolved.facilities.R2.stay.medianHours, 10, 'defaults filled');

  const v2 = await t.call('PUT', `/v1/scenarios/${id}`, { ...EXERCISE, totalCasualties: 900, intensity: 'high' });
  assert.equal(v2.status, 200, JSON.stringify(v2.body));
  assert.deepEqual([v2.body.version, v2.body.latestVersion], [2, 2]);
  const latest = await t.call('GET', `/v1/scenarios/${id}`);
  assert.deepEqual([latest.body.version, latest.body.resolved.baseCasualties, latest.body.resolved.intensity], [2, 900, 'high']);
  const old = await t.call('GET', `/v1/scenarios/${id}?version=1`);
  assert.equal(old.status, 200);
  assert.deepEqual([old.body.version, old.body.latestVersion, old.body.resolved.baseCasualties], [1, 2, 400], 'version 1 is unchanged');
  assert.equal((await t.call('GET', `/v1/scenarios/${id}?version=3`)).status, 404);
  assert.deepEqual(paths((await t.call('GET', `/v1/scenarios/${id}?version=zero`)).body), ['version']);

  // the list: every preset first, then the tenant's scenarios; pages of 4 walk all of it
  const all: any[] = [];
  let cursor: string | null = null;
  do {
    const page: { status: number; body: any } = await t.call('GET', `/v1/scenarios?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    all.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  assert.deepEqual(all.map((s) => s.id), [...Object.keys(PRESETS), id]);
  assert.ok(all.slice(0, -1).every((s) => s.builtIn));
  const preset = await t.call('GET', '/v1/scenarios/article5');
  assert.equal(preset.status, 200);
  assert.equal(preset.body.resolved.durationDays, 14);
  assert.equal((await t.call('PUT', '/v1/scenarios/article5', EXERCISE)).status, 409);
  assert.equal((await t.call('DELETE', '/v1/scenarios/article5')).status, 409);
  assert.equal((await t.call('GET', '/v1/scenarios/constructor')).status, 404, 'not an Object.prototype member');

  // refusals: paths from the body's root
  const shape = await t.call('POST', '/v1/scenarios', { durationDays: -1, facilities: { R5: {} } });
  assert.equal(shape.status, 400);
  assert.ok(paths(shape.body).includes('durationDays') && paths(shape.body).includes('facilities.R5'), JSON.stringify(shape.body));
  const semantics = await t.call('POST', '/v1/scenarios', { fronts: [{ name: 'A', share: 0.5, nationalities: [{ code: 'RUS', share: 1 }] }] });
  assert.equal(semantics.status, 422);
  assert.deepEqual(paths(semantics.body).sort(), ['fronts', 'fronts.0.nationalities.0.code']);
  assert.equal((await t.call('PUT', `/v1/scenarios/${id}`, { injuryMix: { disease: 0.5, nonBattle: 0.5, battle: 0.5 } })).status, 422);
  assert.equal((await t.call('GET', `/v1/scenarios/${id}`)).body.version, 2, 'a refused PUT makes no version');

  // validate: the resolved scenario or the problem; nothing stored
  const ok = await t.call('POST', '/v1/scenarios/validate', { preset: 'arctic', totalCasualties: 50 });
  assert.equal(ok.status, 200);
  assert.deepEqual([ok.body.valid, ok.body.resolved.baseCasualties, ok.body.resolved.environment.terrain], [true, 50, 'arctic']);
  const bad = await t.call('POST', '/v1/scenarios/validate', { preset: 'nope' });
  assert.deepEqual([bad.status, paths(bad.body)], [422, ['preset']]);
  const listed = await t.call('GET', '/v1/scenarios?limit=500');
  assert.equal(listed.body.items.filter((s: any) => !s.builtIn).length, 1, 'validate stored nothing');

  assert.equal((await t.call('DELETE', `/v1/scenarios/${id}`)).status, 204);
  assert.equal((await t.call('GET', `/v1/scenarios/${id}`)).status, 404);
  assert.equal((await t.call('DELETE', `/v1/scenarios/${id}`)).status, 404);
});

test("another tenant's scenario is a 404 everywhere, and no job of theirs can use it", skip, async () => {
  const a = await newTenant();
  const b = await newTenant();
  const { body } = await a.call('POST', '/v1/scenarios', EXERCISE);
  for (const [m, p, bd] of [
    ['GET', `/v1/scenarios/${body.id}`],
    ['GET', `/v1/scenarios/${body.id}?version=1`],
    ['PUT', `/v1/scenarios/${body.id}`, EXERCISE],
    ['DELETE', `/v1/scenarios/${body.id}`],
  ] as const)
    assert.equal((await b.call(m, p, bd)).status, 404, `${m} ${p}`);
  assert.ok(!(await b.call('GET', '/v1/scenarios?limit=500')).body.items.some((s: any) => s.id === body.id));
  const job = await b.call('POST', '/v1/jobs', { kind: 'patients', spec: { count: 10, scenario: body.id } });
  assert.deepEqual([job.status, paths(job.body)], [422, ['spec.scenario']]);
  assert.equal((await a.call('GET', `/v1/scenarios/${body.id}`)).body.version, 1, 'untouched');
});

test('Idempotency-Key: the same request answers the same scenario, another request with the key is a 409', skip, async () => {
  const t = await newTenant();
  const h = { 'Idempotency-Key': `scn-${randomUUID()}` };
  const first = await t.call('POST', '/v1/scenarios', EXERCISE, h);
  const again = await t.call('POST', '/v1/scenarios', EXERCISE, h);
  assert.deepEqual([first.status, again.status], [201, 200]);
  assert.equal(again.body.id, first.body.id);
  assert.equal((await t.call('POST', '/v1/scenarios', { ...EXERCISE, durationDays: 5 }, h)).status, 409);
  assert.equal((await t.call('GET', '/v1/scenarios?limit=500')).body.items.filter((s: any) => !s.builtIn).length, 1);
});

test('a patients job from a stored scenario and version: the job keeps the version it resolved, also after the scenario is deleted', skip, async () => {
  const t = await newTenant();
  const { body: s } = await t.call('POST', '/v1/scenarios', EXERCISE);
  await t.call('PUT', `/v1/scenarios/${s.id}`, { ...EXERCISE, fronts: [{ name: 'Arctic', share: 1, nationalities: [{ code: 'NOR', share: 1 }] }] });
  const started = await t.call('POST', '/v1/jobs', { kind: 'patients', spec: { count: 300, seed: 3, scenario: s.id, scenarioVersion: 1 } });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  assert.deepEqual([started.body.spec.scenario, started.body.spec.scenarioVersion, started.body.spec.resolvedScenario.name], [s.id, 1, 'Baltic exercise']);
  const missingVersion = await t.call('POST', '/v1/jobs', { kind: 'patients', spec: { count: 300, scenario: s.id, scenarioVersion: 9 } });
  assert.deepEqual([missingVersion.status, paths(missingVersion.body)], [422, ['spec.scenarioVersion']]);
  const latest = await t.call('POST', '/v1/jobs/validate', { kind: 'patients', spec: { scenario: s.id } });
  assert.equal(latest.status, 200, JSON.stringify(latest.body));
  assert.deepEqual([latest.body.spec.scenarioVersion, latest.body.spec.count], [2, 400], 'the latest version; count defaults to its casualties');

  assert.equal((await t.call('DELETE', `/v1/scenarios/${s.id}`)).status, 204);
  // the job reads need the tenant's key: poll through the client
  let done: any = null;
  for (let i = 0; i < 600 && !(done && isDone(done)); i++) {
    done = (await t.call('GET', `/v1/jobs/${started.body.id}`)).body;
    if (!isDone(done)) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(done.status, 'completed', JSON.stringify(done.error));
  const manifest = await readManifest(dataDir, started.body.id);
  assert.equal(manifest.tables[0].rows, 300);
  const summary = JSON.parse(await (await import('node:fs/promises')).readFile(`${dataDir}/jobs/${started.body.id}/summary.json`, 'utf8'));
  assert.deepEqual(Object.keys(summary.byFront).sort(), ['Baltic', 'Poland'], 'version 1, not 2');
  assert.deepEqual(Object.keys(summary.byNationality).sort(), ['EST', 'LVA', 'POL']);
});
