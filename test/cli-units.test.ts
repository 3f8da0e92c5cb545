/** The CLI's pure parts: spec flags read by their OpenAPI types, spec files, and the progress renderer (bar on a terminal, lines elsewhere). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { openApiDocument } from '../scripts/openapi-document.js';
import { UsageError, type CliIo } from '../src/cli/io.js';
import { describeJob } from '../src/cli/describe.js';
import { createRenderer, line } from '../src/cli/progress.js';
import { jobBody, kindSpecs, readSpecFile, specFlags } from '../src/cli/spec.js';
import { builtInKinds } from '../src/kinds/index.js';
import { tempDataDir } from './support/jobs.js';

test('spec flags come from the served document for every kind, typed by it', async () => {
  const doc = await openApiDocument();
  const specs = kindSpecs(doc);
  assert.deepEqual([...specs.keys()].sort(), [...builtInKinds.names].sort());
  assert.deepEqual([...specs.keys()].sort(), ['emissions', 'patients', 'relational', 'trial']);
  const trial = specs.get('trial')!;
  assert.deepEqual(specFlags(doc, 'trial', trial, ['--n-per-arm', '125000', '--method', 'mvn', '--target-effect', '-20', '--visits', 'Baseline, Week 12', '--seed=7']), {
    nPerArm: 125000,
    method: 'mvn',
    targetEffect: -20,
    visits: ['Baseline', 'Week 12'],
    seed: 7,
  });
  assert.throws(() => specFlags(doc, 'trial', trial, ['--n-per-arm', 'lots']), (e: unknown) => e instanceof UsageError && /--n-per-arm must be a number/.test(e.message));
  assert.throws(() => specFlags(doc, 'trial', trial, ['--bogus', '1']), /unknown option --bogus for trial jobs/);
  assert.throws(() => specFlags(doc, 'trial', trial, ['--seed']), /--seed needs a value/);
  const patients = specs.get('patients')!;
  assert.deepEqual(specFlags(doc, 'patients', patients, ['--count', '1000', '--scenario', 'article5', '--scenario-version', '2', '--seed', '9']), {
    count: 1000,
    scenario: 'article5',
    scenarioVersion: 2,
    seed: 9,
  });
  assert.throws(() => specFlags(doc, 'patients', patients, ['--count', 'many']), /--count must be/);
  const rel = specs.get('relational')!;
  assert.deepEqual(specFlags(doc, 'relational', rel, ['--tables', '[{"name":"t","rows":3,"columns":[{"name":"id","type":"id"}]}]']), {
    tables: [{ name: 't', rows: 3, columns: [{ name: 'id', type: 'id' }] }],
  });
});

test('a spec file is JSON or YAML, a spec or a whole job; flags win over it', async () => {
  const dir = await tempDataDir('shardflow-spec-');
  try {
    const y = path.join(dir, 'job.yaml');
    await fs.writeFile(y, 'kind: trial\nspec:\n  method: mvn\n  nPerArm: 10\noutput: { format: csv }\n');
    const file = await readSpecFile(y);
    assert.deepEqual(jobBody('trial', file, { nPerArm: 20 }, { output: { compression: 'gzip' } }), {
      kind: 'trial',
      spec: { method: 'mvn', nPerArm: 20 },
      output: { format: 'csv', compression: 'gzip' },
    });
    assert.throws(() => jobBody('relational', file, {}, {}), /the spec file is a "trial" job, not relational/);
    const j = path.join(dir, 'spec.json');
    await fs.writeFile(j, '{"method":"rules","nPerArm":5}');
    assert.deepEqual(jobBody('trial', await readSpecFile(j), {}, {}), { kind: 'trial', spec: { method: 'rules', nPerArm: 5 } });
    const bad = path.join(dir, 'bad.yaml');
    await fs.writeFile(bad, 'a: [1, 2\n');
    await assert.rejects(readSpecFile(bad), (e: unknown) => e instanceof UsageError && /neither JSON nor YAML/.test(e.message));
    await assert.rejects(readSpecFile(path.join(dir, 'missing.json')), /no such file/);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

function fakeIo(tty: boolean) {
  const lines: string[] = [];
  const raw: string[] = [];
  const io: CliIo = { out: (t) => lines.push(t), err: (t) => lines.push(`ERR ${t}`), write: (t) => raw.push(t), tty, columns: () => 120 };
  return { io, lines, raw };
}

const snap = (fraction: number, status = 'running') => ({
  status,
  unit: 'rows',
  done: fraction * 1_000_000,
  total: 1_000_000,
  fraction,
  ratePerSecond: 2_100_000,
  etaSeconds: 3,
  shards: { total: 10, completed: Math.floor(fraction * 10), running: 2 },
  phase: 'running',
});

test('a terminal gets one bar redrawn in place; a pipe gets a line per tenth or status change', () => {
  const t = fakeIo(true);
  const r = createRenderer(t.io, { json: false, label: 'job-x' });
  for (let i = 0; i <= 20; i++) r.progress(snap(i / 20));
  assert.equal(t.lines.length, 0);
  assert.equal(t.raw.length, 21);
  assert.ok(t.raw.every((s) => s.startsWith('\r\x1b[2K')));
  assert.match(t.raw.at(-1)!, /^\r\x1b\[2K█{10,30} job-x running 100\.0% 1,000,000\/1,000,000 rows · 2\.1M rows\/s · ETA 3s · shards 10\/10 done, 2 running/);

  let now = 0;
  const p = fakeIo(false);
  const r2 = createRenderer(p.io, { json: false, label: 'job-x', now: () => now });
  for (let i = 0; i <= 20; i++) r2.progress(snap(i / 20)); // 21 updates, 11 tenths
  r2.progress(snap(1, 'paused'));
  assert.equal(p.raw.length, 0, 'no redraws without a terminal');
  assert.equal(p.lines.length, 12);
  assert.ok(p.lines.every((l) => !/[\r\x1b]/.test(l)));
  r2.progress(snap(1, 'paused'));
  now += 10_000;
  r2.progress(snap(1, 'paused'));
  assert.equal(p.lines.length, 13, 'at least a line every 10 s');

  const j = fakeIo(true);
  createRenderer(j.io, { json: true, label: 'job-x' }).progress(snap(0.5));
  assert.deepEqual(JSON.parse(j.lines[0]!), { event: 'progress', ...snap(0.5) });
  assert.equal(j.raw.length, 0, '--json never draws');
});

test('a progress line names the phase only when it says more than the status', () => {
  assert.equal(line({ status: 'running', unit: 'rows', done: 0, total: 10, fraction: 0, phase: 'planning', shards: { total: 0, completed: 0, running: 0 } }), 'running (planning) 0.0% 0/10 rows · shards 0/0 done, 0 running');
  assert.equal(line({ status: 'completed', unit: 'patients', done: 10, total: 10, fraction: 1, phase: 'done' }), 'completed 100.0% 10/10 patients');
});

test('a finished job in a few lines: rows and files, or the units of a kind that writes no rows', () => {
  const base = { createdAt: '2026-12-01T10:00:00.000Z', finishedAt: '2026-12-01T10:00:05.000Z', status: 'completed', error: null } as const;
  const progress = (unit: string, done: number) => ({ unit, done, total: done, fraction: 1, ratePerSecond: 1, etaSeconds: 0, shards: { total: 1, completed: 1, running: 0 }, phase: 'done' });
  const trialJob = { ...base, id: 'job-a', kind: 'trial', progress: progress('rows', 4000), result: { rows: 4000, digest: 'sha256:ab', files: [{ name: 'x', rows: 4000, bytes: 2048, sha256: '' }] } };
  assert.match(describeJob(trialJob as any), /result: 4,000 rows in 1 file \(2\.0 KiB\), digest sha256:ab/);
  const emissionsJob = { ...base, id: 'job-b', kind: 'emissions', progress: progress('activities', 300000), result: { rows: 0, files: [{ name: 'emissions.json', rows: 0, bytes: 571, sha256: '' }, { name: 'diff.json', rows: 0, bytes: 100, sha256: '' }] } };
  assert.match(describeJob(emissionsJob as any), /result: 300,000 activities; 2 files \(671 B\)/);
});
