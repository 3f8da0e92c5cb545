/**
 * The compiled roles (`npm run build`) run with plain node. The build goes to a temp folder laid
 * out like the production image — dist/, data/, package.json and node_modules, but no src/ and
 * no tsx (node_modules links every package except tsx) — and node starts without `--import tsx`
 * (NODE_OPTIONS cleared), so a module that still needed TypeScript or tsx fails to load.
 *
 *   - `node dist/worker/main.js` runs a trial job from the test API to `completed`, with the
 *     generator's own digest;
 *   - `node dist/api/main.js` migrates a fresh database and is ready (Postgres, Temporal, and the
 *     compiled worker polling its task queue).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { build } from '../scripts/build.js';
import { startTestApi, type TestApi } from './support/api.js';
import { digestsOf, engineCases } from './support/engine-cases.js';
import { isDone, postJob, readManifest, tempDataDir, waitForJob } from './support/jobs.js';
import { testEnv, uniqueTaskQueue } from './support/stack.js';
import { spawnWorkerProcess, type WorkerProcess } from './support/worker.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const trialCase = engineCases.find((c) => c.kind === 'trial')!;
const taskQueue = uniqueTaskQueue('build');
const dbName = `build_${randomBytes(4).toString('hex')}`;

let app: string;
let dataDir: string;
let api: TestApi;
let worker: WorkerProcess | undefined;
let admin: postgres.Sql;

/** Node without tsx: no inherited NODE_OPTIONS, the test stack's addresses, this file's queue and data. */
const childEnv = () => ({ NODE_OPTIONS: '', TEMPORAL_TASK_QUEUE: taskQueue, SHARDFLOW_DATA_DIR: dataDir });

/** <tmp>/app: dist/ (built here), data/, package.json, node_modules/* linked except tsx. */
function productionLayout(): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-build-')), 'app');
  fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
  for (const name of fs.readdirSync(path.join(root, 'node_modules'))) {
    if (name === 'tsx' || name.startsWith('.')) continue;
    fs.symlinkSync(path.join(root, 'node_modules', name), path.join(dir, 'node_modules', name));
  }
  fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  fs.cpSync(path.join(root, 'data'), path.join(dir, 'data'), { recursive: true });
  build(path.join(dir, 'dist'));
  return dir;
}

before(async () => {
  app = productionLayout();
  dataDir = await tempDataDir();
  api = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: taskQueue, SHARDFLOW_DATA_DIR: dataDir } });
  admin = postgres(testEnv().databaseUrl, { max: 1, onnotice: () => {} });
  worker = await spawnWorkerProcess({ ...childEnv(), WORKER_THREADS: '2' }, { command: ['dist/worker/main.js'], cwd: app });
});

after(async () => {
  if (worker) {
    worker.kill('SIGTERM');
    await worker.exited;
  }
  await api?.close();
  if (admin) {
    await admin.unsafe(`drop database if exists ${dbName} with (force)`);
    await admin.end({ timeout: 5 });
  }
  if (app) fs.rmSync(path.dirname(app), { recursive: true, force: true });
});

test('the build has no TypeScript, no thread boot, and the migrations', () => {
  const files = fs.readdirSync(path.join(app, 'dist'), { recursive: true, encoding: 'utf8' });
  assert.deepEqual(files.filter((f) => /\.(ts|mts|mjs)$/.test(f)), []);
  assert.ok(files.includes(path.join('engine', 'shard-thread.js')));
  assert.deepEqual(
    fs.readdirSync(path.join(app, 'dist/db/migrations'), { recursive: true }).sort(),
    fs.readdirSync(path.join(root, 'src/db/migrations'), { recursive: true }).sort(),
  );
});

test('node dist/worker/main.js runs a trial job to completed with the generator digest', async () => {
  const { body: spec, tables } = await trialCase.job(api, 40_000, { seed: 31337, multipleOf: 10_000 });
  const { status, body } = await postJob(api, { ...spec, partitioning: { shardRows: 10_000, maxParallelShards: 2 } });
  assert.equal(status, 202, JSON.stringify(body));
  const done = await waitForJob(api, body.id, isDone, 30_000);
  assert.equal(done.status, 'completed', `${JSON.stringify(done.error)}\n--- worker ---\n${worker!.output().slice(-3000)}`);
  assert.equal(done.result.rows, 40_000);
  const manifest = await readManifest(dataDir, body.id);
  assert.deepEqual(manifest.tables.map((t: any) => [t.name, t.rows]), tables.map((t) => [t.name, t.rows]));
  assert.deepEqual(digestsOf(manifest), await trialCase.expectedDigests!(manifest));
  assert.doesNotMatch(worker!.output(), /shard-thread-boot|tsx/);
});

test('node dist/api/main.js migrates a fresh database and is ready', async () => {
  await admin.unsafe(`create database ${dbName}`);
  const url = new URL(testEnv().databaseUrl);
  url.pathname = `/${dbName}`;
  const child = spawn(process.execPath, ['dist/api/main.js'], {
    cwd: app,
    env: { ...process.env, ...childEnv(), DATABASE_URL: url.toString(), HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  let output = '';
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  try {
    const base = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        output += d.toString();
        const m = /"url":"(http:[^"]+)"/.exec(output);
        if (m) resolve(m[1]!);
      });
      void exited.then((code) => reject(new Error(`the API exited (${code}) before listening:\n${output.slice(-2000)}`)));
    });
    const res = await fetch(`${base}/health/ready`);
    assert.deepEqual(await res.json(), { status: 'ready', checks: { postgres: 'ok', temporal: 'ok', worker: 'ok' } });
    assert.equal(res.status, 200);
    const health = (await (await fetch(`${base}/health`)).json()) as any;
    assert.equal(health.details.versions.shardflow, JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version);
    // Swagger UI comes from the production dependencies (swagger-ui-dist), not from src/ or a CDN.
    const bundle = await fetch(`${base}/docs/assets/swagger-ui-bundle.js`);
    assert.equal(bundle.status, 200);
    assert.ok((await bundle.arrayBuffer()).byteLength > 500_000);
    const db = postgres(url.toString(), { max: 1, onnotice: () => {} });
    try {
      const journal = JSON.parse(fs.readFileSync(path.join(root, 'src/db/migrations/meta/_journal.json'), 'utf8'));
      const [row] = await db<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
      assert.equal(row!.n, journal.entries.length);
    } finally {
      await db.end({ timeout: 5 });
    }
  } finally {
    child.kill('SIGTERM');
    assert.equal(await exited, 0, output.slice(-2000));
  }
});
