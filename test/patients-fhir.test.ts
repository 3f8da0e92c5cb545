/**
 * The patients kind's FHIR R4 outputs end to end (real API, Temporal, worker, Postgres):
 * `fhir` (a transaction Bundle per patient) and `fhir-bulk` (an NDJSON file per resource type).
 * Every resource validates against the official R4 JSON schema, every reference resolves (inside
 * its bundle; across the bulk files), the two forms hold the same resources, they agree with the
 * nested records of an ndjson job of the same seed, and the digests do not depend on the shards.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { patient, patientModel } from '../src/kinds/patients/generate.js';
import { patientBundle } from '../src/kinds/patients/fhir.js';
import { normalizeScenario, ROLES } from '../src/kinds/patients/scenario.js';
import { stackMissing, startTestApi, type TestApi } from './support/api.js';
import { digestsOf } from './support/engine-cases.js';
import { r4Errors, referencesOf } from './support/fhir.js';
import { isDone, postJob, readManifest, readPartRows, tempDataDir, waitForJob } from './support/jobs.js';
import { uniqueTaskQueue } from './support/stack.js';
import { startTestWorker, type TestWorker } from './support/worker.js';

const COUNT = 600;
const SEED = 5;
const skip = { skip: stackMissing };
let api: TestApi;
let worker: TestWorker;
let dataDir: string;

before(async () => {
  if (stackMissing) return;
  const q = uniqueTaskQueue('patients-fhir');
  dataDir = await tempDataDir();
  api = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: q, SHARDFLOW_DATA_DIR: dataDir } });
  worker = await startTestWorker({ taskQueue: q, dataDir, env: { SHARDFLOW_PART_ROWS: '200' } });
});
after(async () => {
  await worker?.stop();
  await api?.close();
});

let calls = 0;
const breathe = () => (++calls % 50 === 0 ? new Promise<void>((resolve) => setImmediate(resolve)) : Promise.resolve());

async function run(body: Record<string, unknown>) {
  const started = await postJob(api, body);
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const job = await waitForJob(api, started.body.id, isDone);
  assert.equal(job.status, 'completed', JSON.stringify(job.error));
  const manifest = await readManifest(dataDir, job.id);
  const dir = path.join(dataDir, 'jobs', job.id);
  const rows = async (table: string) => {
    const t = manifest.tables.find((x: any) => x.name === table);
    assert.ok(t, `table ${table} in the manifest`);
    const out = (await Promise.all(t.files.map((f: any) => readPartRows(path.join(dir, f.name))))).flat() as any[];
    assert.equal(out.length, t.rows, `${table}: rows in the files = the manifest's`);
    return out;
  };
  return { job, manifest, rows };
}

test('the validator is not vacuous: the R4 schema rejects a bad gender, an unknown field and a bad date', () => {
  const m = patientModel(normalizeScenario({ preset: 'article5' }));
  const b = patientBundle(patient(m, SEED, 3), SEED, ROLES);
  assert.deepEqual(r4Errors(b), []);
  const p = structuredClone(b.entry[0].resource);
  assert.deepEqual(r4Errors(p), []);
  assert.notDeepEqual(r4Errors({ ...p, gender: 'M' }), []);
  assert.notDeepEqual(r4Errors({ ...p, colour: 'blue' }), []);
  assert.notDeepEqual(r4Errors({ ...p, birthDate: '1999-13-45' }), []);
  const broken = structuredClone(b);
  broken.entry[1].resource.status = 'nonsense';
  assert.notDeepEqual(r4Errors(broken), []);
});

test('a patient is the same bundle whatever else was generated first (pure in seed and index)', () => {
  const m1 = patientModel(normalizeScenario({ preset: 'urban_assault' }));
  const m2 = patientModel(normalizeScenario({ preset: 'urban_assault' }));
  const later = JSON.stringify(patientBundle(patient(m1, SEED, 41), SEED, ROLES));
  for (let i = 0; i < 41; i++) patientBundle(patient(m2, SEED, i), SEED, ROLES);
  assert.equal(JSON.stringify(patientBundle(patient(m2, SEED, 41), SEED, ROLES)), later);
});

test('fhir: one valid transaction Bundle per patient, references resolving inside it; fhir-bulk holds the same resources, referencing across files', skip, async () => {
  const records = await run({ kind: 'patients', spec: { count: COUNT, seed: SEED, scenario: 'article5' }, output: { format: 'ndjson' } });
  const byId = new Map((await records.rows('patients')).map((r) => [r.id, r]));

  const fhir = await run({ kind: 'patients', spec: { count: COUNT, seed: SEED, scenario: 'article5' }, output: { format: 'fhir', compression: 'gzip' }, partitioning: { shardRows: 250 } });
  assert.deepEqual(fhir.manifest.tables.map((t: any) => [t.name, t.rows]), [['Bundle', COUNT]]);
  assert.ok(fhir.manifest.tables[0].files.every((f: any) => f.name.endsWith('.ndjson.gz')));
  const bundles = await fhir.rows('Bundle');
  assert.equal(new Set(bundles.map((b) => b.id)).size, COUNT);
  const fromBundles = new Map<string, any>();
  for (const b of bundles) {
    await breathe(); // validation is synchronous: let the in-process API's timers run (idle keep-alive sockets close before reuse)
    assert.deepEqual(r4Errors(b), [], `bundle ${b.id}`);
    assert.equal(b.type, 'transaction');
    const urls = new Set(b.entry.map((e: any) => e.fullUrl));
    assert.equal(urls.size, b.entry.length, 'full URLs unique in a bundle');
    for (const e of b.entry) {
      assert.equal(e.fullUrl, `urn:uuid:${e.resource.id}`);
      assert.deepEqual(e.request, { method: 'PUT', url: `${e.resource.resourceType}/${e.resource.id}` });
      for (const r of referencesOf(e.resource)) assert.ok(urls.has(r), `${e.resource.resourceType}/${e.resource.id} → ${r} resolves in bundle ${b.id}`);
      fromBundles.set(`${e.resource.resourceType}/${e.resource.id}`, e.resource);
    }
    // The bundle agrees with the nested record of the same patient.
    const rec = byId.get(b.id)!;
    assert.ok(rec, `patient ${b.id} is in the ndjson job`);
    const count = (t: string) => b.entry.filter((e: any) => e.resource.resourceType === t).length;
    assert.equal(count('Patient'), 1);
    assert.equal(count('Encounter'), rec.stays.length);
    assert.equal(count('Location'), new Set(rec.stays.map((s: any) => s.role)).size);
    assert.equal(count('Condition'), rec.conditions.length + rec.history.length);
    assert.equal(count('AllergyIntolerance'), rec.allergies.length);
    assert.equal(count('Observation'), 2 + 6 * rec.vitals.length);
    const treatments = rec.stays.flatMap((s: any) => s.treatments);
    assert.equal(count('Procedure') + count('MedicationAdministration'), treatments.length);
    const pt = b.entry[0].resource;
    assert.equal(pt.resourceType, 'Patient');
    assert.equal(pt.name[0].family, rec.name.family);
    assert.equal(pt.extension[0].extension[0].valueCodeableConcept.coding[0].code, rec.nationality);
    const died = rec.outcome.type === 'KIA' || rec.outcome.type === 'DOW';
    assert.equal(pt.deceasedDateTime, died ? rec.outcome.time : undefined);
    const encounters = b.entry.filter((e: any) => e.resource.resourceType === 'Encounter').map((e: any) => e.resource);
    assert.deepEqual(
      encounters.map((e: any) => [e.period.start, e.period.end, e.priority.coding[0].code]),
      rec.stays.map((s: any) => [s.arrival, s.departure, s.triage]),
    );
  }

  const bulkBody = (shardRows: number) => ({ kind: 'patients', spec: { count: COUNT, seed: SEED, scenario: 'article5' }, output: { format: 'fhir-bulk' }, partitioning: { shardRows } });
  const bulk = await run(bulkBody(250));
  const types = bulk.manifest.tables.map((t: any) => t.name);
  assert.deepEqual(types, ['Patient', 'Location', 'Encounter', 'Condition', 'AllergyIntolerance', 'Observation', 'Procedure', 'MedicationAdministration', 'MedicationStatement']);
  assert.equal(bulk.manifest.tables.find((t: any) => t.name === 'Location').files.length, 1, 'Location is written once');
  const all = new Map<string, any>();
  for (const t of types)
    for (const r of await bulk.rows(t)) {
      await breathe();
      assert.equal(r.resourceType, t, `a ${t} file holds only ${t} resources`);
      assert.deepEqual(r4Errors(r), [], `${t}/${r.id}`);
      assert.ok(!all.has(`${t}/${r.id}`), `${t}/${r.id} once`);
      all.set(`${t}/${r.id}`, r);
    }
  assert.equal(all.size, fromBundles.size, 'the bulk files hold exactly the bundles’ resources');
  const keyOfId = new Map([...all.keys()].map((k) => [k.slice(k.indexOf('/') + 1), k]));
  for (const [key, r] of all) {
    await breathe();
    for (const ref of referencesOf(r)) assert.ok(all.has(ref), `${key} → ${ref} resolves`);
    // The same resource as in the bundles, references written Type/id instead of urn:uuid:id.
    const inBundle = JSON.parse(JSON.stringify(fromBundles.get(key)).replace(/"reference":"urn:uuid:([0-9a-f-]+)"/g, (_m, id) => `"reference":"${keyOfId.get(id)}"`));
    assert.deepEqual(r, inBundle, key);
  }

  const other = await run({ ...bulkBody(173), partitioning: { shardRows: 173, maxParallelShards: 2 } });
  assert.deepEqual(digestsOf(other.manifest), digestsOf(bulk.manifest), 'fhir-bulk digests do not depend on the shard size');
});

test('only patients jobs write FHIR: a trial job asking for fhir is a 400 naming output.format', skip, async () => {
  const res = await postJob(api, { kind: 'trial', spec: { method: 'mvn', nPerArm: 100, targetEffect: -5, seed: 1 }, output: { format: 'fhir' } });
  assert.equal(res.status, 400, JSON.stringify(res.body));
  assert.deepEqual(res.body.errors, [{ path: 'output.format', message: 'trial jobs write parquet, csv, ndjson' }]);
});
