/**
 * The patients kind end to end (real API, Temporal, worker, Postgres): a job in each format
 * completes with `count` patients; the files read back (NDJSON parsed, CSV split, Parquet through
 * the test reader); summary.json adds up to `count` and agrees with the files; the same seed in
 * two shard sizes gives the same digests in every table.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { codeTable, RXNORM } from '../src/kinds/patients/codes.js';
import { stackMissing, startTestApi, type TestApi } from './support/api.js';
import { digestsOf } from './support/engine-cases.js';
import { isDone, postJob, readManifest, readPartRows, tempDataDir, waitForJob } from './support/jobs.js';
import { readParquetRows } from './support/parquet.js';
import { uniqueTaskQueue } from './support/stack.js';
import { startTestWorker, type TestWorker } from './support/worker.js';

let api: TestApi;
let worker: TestWorker;
let dataDir: string;

before(async () => {
  if (stackMissing) return;
  const q = uniqueTaskQueue('patients');
  dataDir = await tempDataDir();
  api = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: q, SHARDFLOW_DATA_DIR: dataDir } });
  worker = await startTestWorker({ taskQueue: q, dataDir, env: { SHARDFLOW_PART_ROWS: '700' } });
});
after(async () => {
  await worker?.stop();
  await api?.close();
});

const COUNT = 2500;
const skip = { skip: stackMissing };

async function run(body: Record<string, unknown>) {
  const started = await postJob(api, body);
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const job = await waitForJob(api, started.body.id, isDone);
  assert.equal(job.status, 'completed', JSON.stringify(job.error));
  return { job, manifest: await readManifest(dataDir, job.id), dir: path.join(dataDir, 'jobs', job.id) };
}

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
const tally = (xs: unknown[]) => {
  const o: Record<string, number> = {};
  for (const x of xs) o[String(x)] = (o[String(x)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
};

async function summaryOf(dir: string, manifest: any) {
  assert.ok(manifest.files.some((f: any) => f.name === 'summary.json'), 'summary.json is in the manifest');
  const s = JSON.parse(await fs.readFile(path.join(dir, 'summary.json'), 'utf8'));
  assert.equal(s.patients, COUNT);
  for (const g of ['byFront', 'byNationality', 'byCategory', 'byTriage', 'bySeverity', 'byOutcome']) assert.equal(sum(s[g]), COUNT, g);
  assert.equal(s.casualtiesPerDay.reduce((a: number, d: any) => a + d.casualties, 0), COUNT);
  assert.deepEqual(Object.keys(s.occupancy.roles), ['POI', 'R1', 'R2', 'R3', 'R4']);
  assert.ok(s.occupancy.roles.R1.patientHours > 0 && s.occupancy.roles.R1.peakMeanPresent > 0);
  return s;
}

test('ndjson (the default): one nested record per line, count lines, summary.json agrees with them', skip, async () => {
  const { job, manifest, dir } = await run({ kind: 'patients', spec: { count: COUNT, seed: 7, scenario: 'article5' } });
  assert.equal(job.output.format, 'ndjson');
  assert.equal(job.progress.unit, 'patients');
  assert.equal(job.spec.resolvedScenario.name, 'Article 5 collective defence');
  assert.equal(job.spec.scenario, 'article5');
  assert.deepEqual(manifest.tables.map((t: any) => [t.name, t.rows]), [['patients', COUNT]]);
  const rows: any[] = [];
  for (const f of manifest.tables[0].files) rows.push(...(await readPartRows(path.join(dir, f.name))));
  assert.equal(rows.length, COUNT);
  assert.deepEqual(rows.map((r) => r.index), Array.from({ length: COUNT }, (_, i) => i));
  assert.equal(new Set(rows.map((r) => r.id)).size, COUNT);
  assert.ok(rows.every((r) => Array.isArray(r.timeline) && r.timeline.length >= 2 && r.stays.length >= 1 && r.outcome.type));
  // current medications (RxNorm) only with a history item; drugs given are treatments in RxNorm
  assert.ok(rows.every((r) => Array.isArray(r.medications) && (r.medications.length === 0 || r.history.length > 0)));
  assert.ok(rows.some((r) => r.medications.length > 0) && rows.every((r) => r.medications.every((m: any) => m.system === RXNORM)));
  assert.ok(rows.some((r) => r.stays.some((x: any) => x.treatments.some((t: any) => t.system === RXNORM))));
  const s = await summaryOf(dir, manifest);
  assert.deepEqual(s.byFront, tally(rows.map((r) => r.front)));
  assert.deepEqual(s.byNationality, tally(rows.map((r) => r.nationality)));
  assert.deepEqual(s.byCategory, tally(rows.map((r) => r.injury.category)));
  assert.deepEqual(s.byTriage, tally(rows.map((r) => r.triage)));
  assert.deepEqual(s.byOutcome, tally(rows.map((r) => r.outcome.type)));
  assert.equal(job.result.summary?.summary ?? manifest.kindResult.summary.summary, 'summary.json');
  // occupancy: the patient-hours of a role are the lengths of its stays
  const hours = rows.flatMap((r) => r.stays.filter((x: any) => x.role === 'R2')).reduce((a: number, x: any) => a + (Date.parse(x.departure) - Date.parse(x.arrival)) / 3.6e6, 0);
  assert.ok(Math.abs(s.occupancy.roles.R2.patientHours - hours) < 0.02 + COUNT / 3600, `R2 patient-hours ${s.occupancy.roles.R2.patientHours} vs ${hours}`);
});

test('csv: patients and timeline tables; parquet: patients, conditions, timeline, vitals, treatments; digests equal across shard sizes', skip, async () => {
  const csv = await run({ kind: 'patients', spec: { count: COUNT, seed: 11 }, output: { format: 'csv' }, partitioning: { shardRows: 1000 } });
  assert.deepEqual(csv.manifest.tables.map((t: any) => t.name), ['patients', 'timeline']);
  assert.equal(csv.manifest.tables[0].rows, COUNT);
  const lines = async (t: any) => (await Promise.all(t.files.map((f: any) => fs.readFile(path.join(csv.dir, f.name), 'utf8')))).flatMap((x: string) => x.split('\n').slice(1).filter(Boolean));
  assert.equal((await lines(csv.manifest.tables[0])).length, COUNT);
  const header = (await fs.readFile(path.join(csv.dir, csv.manifest.tables[0].files[0].name), 'utf8')).split('\n')[0]!.split(',');
  assert.deepEqual(header.slice(header.indexOf('allergies'), header.indexOf('allergies') + 3), ['allergies', 'history', 'medications']);
  const timeline = await lines(csv.manifest.tables[1]);
  assert.equal(timeline.length, csv.manifest.tables[1].rows);
  assert.ok(timeline.length > 2 * COUNT);
  await summaryOf(csv.dir, csv.manifest);

  const a = await run({ kind: 'patients', spec: { count: COUNT, seed: 11 }, output: { format: 'parquet' }, partitioning: { shardRows: 1000 } });
  const b = await run({ kind: 'patients', spec: { count: COUNT, seed: 11 }, output: { format: 'parquet' }, partitioning: { shardRows: 1777, maxParallelShards: 2 } });
  assert.deepEqual(a.manifest.tables.map((t: any) => t.name), ['patients', 'conditions', 'timeline', 'vitals', 'treatments']);
  assert.deepEqual(digestsOf(a.manifest), digestsOf(b.manifest));
  assert.deepEqual(a.manifest.tables.map((t: any) => t.rows), b.manifest.tables.map((t: any) => t.rows));
  // the same patients and timeline as the csv job (same seed)
  assert.equal(digestsOf(a.manifest).patients, digestsOf(csv.manifest).patients);
  assert.equal(digestsOf(a.manifest).timeline, digestsOf(csv.manifest).timeline);
  const read = async (name: string) => {
    const t = a.manifest.tables.find((x: any) => x.name === name);
    const rows = (await Promise.all(t.files.map((f: any) => readParquetRows(path.join(a.dir, f.name))))).flat();
    assert.equal(rows.length, t.rows, name);
    return rows;
  };
  const patients = await read('patients');
  assert.equal(patients.length, COUNT);
  const s = await summaryOf(a.dir, a.manifest);
  assert.deepEqual(s.byTriage, tally(patients.map((p) => p.triage)));
  assert.deepEqual(s.byOutcome, tally(patients.map((p) => p.outcome)));
  const ids = new Set(patients.map((p) => p.id));
  for (const name of ['conditions', 'timeline', 'vitals', 'treatments']) {
    const rows = await read(name);
    assert.ok(rows.every((r) => ids.has(r.patient_id as string)), `${name}: every row belongs to a patient`);
  }
  const conditions = await read('conditions');
  assert.equal(conditions.length, patients.reduce((n, p) => n + (p.conditions as number), 0));
  // medications: space-separated RxNorm codes of the table, only beside a history item
  const rxCodes = new Set(Object.values(codeTable().rxnorm).map((e) => e.code));
  assert.ok(patients.some((p) => p.medications !== ''));
  for (const p of patients) {
    if (p.medications === '') continue;
    assert.notEqual(p.history, '', `${p.id}: medications without a history item`);
    for (const c of String(p.medications).split(' ')) assert.ok(rxCodes.has(c), `medication ${c} is in the table`);
  }
  // treatments: procedures in SNOMED CT and drugs in RxNorm, each code from its table with its display
  const treatments = await read('treatments');
  const bySystem = { [RXNORM]: codeTable().rxnorm, 'http://snomed.info/sct': codeTable().snomed } as Record<string, Record<string, { code: string; display: string }>>;
  assert.ok(treatments.some((t) => t.system === RXNORM) && treatments.some((t) => t.system === 'http://snomed.info/sct'));
  for (const t of treatments) assert.ok(Object.values(bySystem[t.system as string]!).some((e) => e.code === t.code && e.display === t.display), `${t.system} ${t.code} ${t.display}`);
});
