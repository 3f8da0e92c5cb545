/**
 * `output.encryption` end to end (docs/ENCRYPTION.md), against a real API, a worker process,
 * Temporal and Postgres: trial jobs in every format (Parquet, CSV, CSV+gzip, NDJSON+gzip) and a
 * relational job with a raw key decrypt with `shardflow decrypt` to exactly the files of the same
 * job run without encryption; a wrong passphrase and a changed byte fail cleanly and leave no
 * output; the passphrase and the derived key appear nowhere — job view, list, workflow history,
 * job row, manifest, shard records, API and worker logs; the sealed key is deleted when a job
 * completes or is deleted; invalid options are 400/422 problems naming the field.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { EncryptedFileOut, type JobKey } from '../src/destinations/encrypted.js';
import { unsealJobKey } from '../src/engine/job-keys.js';
import { stackMissing, startTestApi, type TestApi } from './support/api.js';
import { isDone, postJob, readManifest, tempDataDir, tempFilesUnder, waitForJob } from './support/jobs.js';
import { uniqueTaskQueue } from './support/stack.js';
import { spawnWorkerProcess, type WorkerProcess } from './support/worker.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'shardflow.mjs');
const run = promisify(execFile);

const SECRET = randomBytes(32).toString('base64');
const PASSPHRASE = `pass-${randomBytes(12).toString('hex')}`;
const RAW_KEY = randomBytes(32);

let api: TestApi;
let noSecret: TestApi;
let worker: WorkerProcess;
let dataDir: string;
let work: string;
const apiLog: string[] = [];
/** Everything a secret must not be found in, gathered as the tests go. */
const seen: Array<{ where: string; text: string }> = [];
/** The master keys the jobs got (unsealed from job_keys while they ran): they must not leak either. */
const masterKeys: Buffer[] = [];
const jobKeys = new Map<string, JobKey>();

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function sf(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { cwd: work, env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 180_000, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** The job's key while it runs (the row goes when it completes). */
async function captureKey(id: string): Promise<void> {
  const [row] = await api.deps.db.sql<{ sealed: string; salt: string; kdf: JobKey['kdf'] }[]>`select sealed, salt, kdf from job_keys where job_id = ${id}`;
  assert.ok(row, `job ${id} has a sealed key while it runs`);
  assert.ok(!row.sealed.includes(PASSPHRASE));
  const key = unsealJobKey(Buffer.from(SECRET, 'base64'), id, row.sealed);
  masterKeys.push(key);
  jobKeys.set(id, { key, salt: Buffer.from(row.salt, 'base64'), kdf: row.kdf });
}

async function completed(id: string): Promise<any> {
  const job = await waitForJob(api, id, isDone, 180_000);
  assert.equal(job.status, 'completed', JSON.stringify(job.error));
  // The workflow's last step (forgetJobKey) runs after finalize recorded `completed`.
  await api.deps.temporal.client.workflow.getHandle(id).result();
  return job;
}

/** The workflow's whole history as text, every payload decoded. */
async function historyText(id: string): Promise<string> {
  const history = await api.deps.temporal.client.workflow.getHandle(id).fetchHistory();
  // Not JSON.stringify: protobuf messages turn bytes into base64 there. Every payload's bytes as UTF-8, so the JSON inside is searched.
  const out: string[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (v === null || v === undefined || depth > 40) return;
    if (v instanceof Uint8Array) out.push(Buffer.from(v).toString('utf8'));
    else if (Array.isArray(v)) v.forEach((x) => walk(x, depth + 1));
    else if (typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(k), walk(x, depth + 1);
    else out.push(String(v));
  };
  walk(history, 0);
  return out.join('\n');
}

async function gather(id: string): Promise<void> {
  seen.push({ where: `GET ${id}`, text: await (await api.request(`/v1/jobs/${id}`)).text() });
  seen.push({ where: `history ${id}`, text: await historyText(id) });
  const desc = await api.deps.temporal.client.workflow.getHandle(id).describe();
  seen.push({ where: `describe ${id}`, text: JSON.stringify({ memo: desc.memo, sa: desc.typedSearchAttributes, summary: await desc.staticSummary(), details: await desc.staticDetails() }) });
  const [row] = await api.deps.db.sql`select * from jobs where id = ${id}`;
  seen.push({ where: `row ${id}`, text: JSON.stringify(row) });
  const dir = path.join(dataDir, 'jobs', id);
  seen.push({ where: `manifest ${id}`, text: await fs.readFile(path.join(dir, 'manifest.json'), 'utf8') });
  for (const f of await fs.readdir(path.join(dir, '.state'))) seen.push({ where: `.state/${f}`, text: await fs.readFile(path.join(dir, '.state', f), 'utf8') });
}

/** Downloads every file of a job through the API into `dir` (as stored), checking each against the manifest. */
async function download(id: string, dir: string): Promise<any[]> {
  const m = await readManifest(dataDir, id);
  const files = [...m.tables.flatMap((t: any) => t.files), ...m.files];
  for (const f of files) {
    const res = await api.request(`/v1/jobs/${id}/files/${f.name}`);
    assert.equal(res.status, 200, f.name);
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(body.length, f.bytes, `${f.name}: the manifest's bytes are the stored (encrypted) file's`);
    assert.equal(sha(body), f.sha256, `${f.name}: the manifest's sha256 is the stored file's`);
    assert.equal(res.headers.get('etag')?.replace(/"/g, ''), f.sha256);
    await fs.mkdir(path.dirname(path.join(dir, f.name)), { recursive: true });
    await fs.writeFile(path.join(dir, f.name), body);
  }
  return files;
}

before(async () => {
  if (stackMissing) return;
  const taskQueue = uniqueTaskQueue('enc');
  dataDir = await tempDataDir();
  work = await tempDataDir('shardflow-enc-cli-');
  const logger = pino({ level: 'trace' }, { write: (line: string) => void apiLog.push(line) });
  api = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: taskQueue, SHARDFLOW_DATA_DIR: dataDir, SHARDFLOW_SECRET_KEY: SECRET }, logger });
  noSecret = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: taskQueue, SHARDFLOW_DATA_DIR: dataDir, SHARDFLOW_SECRET_KEY: '' } });
  worker = await spawnWorkerProcess({
    TEMPORAL_TASK_QUEUE: taskQueue,
    SHARDFLOW_DATA_DIR: dataDir,
    SHARDFLOW_SECRET_KEY: SECRET,
    SHARDFLOW_PART_ROWS: '2000',
    LOG_LEVEL: 'debug',
  });
});

after(async () => {
  if (worker) {
    worker.kill('SIGTERM');
    await worker.exited;
  }
  await noSecret?.close();
  await api?.close();
});

const trial = (output: Record<string, unknown>) => ({
  kind: 'trial',
  spec: { method: 'rules', nPerArm: 600, seed: 4242 },
  output,
  partitioning: { shardRows: 3000, maxParallelShards: 2 },
});

describe('encrypted jobs', { skip: stackMissing }, () => {
  const variants = [
    { format: 'parquet', compression: 'zstd' },
    { format: 'csv', compression: 'none' },
    { format: 'csv', compression: 'gzip' },
    { format: 'ndjson', compression: 'gzip' },
  ];
  for (const v of variants) {
    test(`trial ${v.format}+${v.compression}: every file decrypts (CLI, passphrase) to the bytes of the same job without encryption`, async () => {
      const plain = await postJob(api, trial(v));
      assert.equal(plain.status, 202, JSON.stringify(plain.body));
      const enc = await postJob(api, trial({ ...v, encryption: { passphrase: PASSPHRASE } }));
      assert.equal(enc.status, 202, JSON.stringify(enc.body));
      await captureKey(enc.body.id);
      assert.equal(enc.body.output.encryption.algorithm, 'AES-256-GCM');
      assert.equal(enc.body.output.encryption.kdf, 'scrypt');
      assert.match(enc.body.output.encryption.keyId, /^[0-9a-f]{16}$/);
      await completed(plain.body.id);
      const job = await completed(enc.body.id);
      assert.deepEqual(job.output.encryption, enc.body.output.encryption);
      const [row] = await api.deps.db.sql`select 1 from job_keys where job_id = ${enc.body.id}`;
      assert.equal(row, undefined, 'the sealed key is deleted once the job completed');

      const plainManifest = await readManifest(dataDir, plain.body.id);
      const plainFiles = new Map<string, string>([...plainManifest.tables.flatMap((t: any) => t.files), ...plainManifest.files].map((f: any) => [f.name, f.sha256]));
      const dir = path.join(work, enc.body.id);
      const files = await download(enc.body.id, dir);
      assert.equal(files.length, plainFiles.size);
      assert.ok(files.every((f) => f.name.endsWith('.enc')), 'every listed file is encrypted');
      assert.ok(files.some((f) => f.name === 'quality.json.enc'));
      assert.equal(job.result.summary.quality, 'quality.json.enc');
      const manifest = await readManifest(dataDir, enc.body.id);
      assert.equal(manifest.tables[0].digest, plainManifest.tables[0].digest, 'the same rows');
      const r = await sf(['decrypt', ...files.map((f) => path.join(dir, f.name)), '--passphrase-env', 'JOB_PASS', '--json'], { JOB_PASS: PASSPHRASE });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).length, files.length);
      for (const f of files) {
        const name = f.name.slice(0, -'.enc'.length);
        const bytes = await fs.readFile(path.join(dir, name));
        assert.equal(sha(bytes), plainFiles.get(name), `${name} decrypts to the plain job's file`);
      }
      // A part written again (a retried or resumed shard) is the same bytes: its ciphertext is a
      // function of the job's key and salt, its name and its plaintext only.
      const part = files.find((f) => f.table !== '' && f.name.includes('/part-')) ?? files[0];
      const again = path.join(work, `again-${enc.body.id}.enc`);
      const out = await EncryptedFileOut.open({ kind: 'encrypted-file', path: again, name: part.name, jobKey: jobKeys.get(enc.body.id)!, fileNonce: 'name' });
      await out.write(await fs.readFile(path.join(dir, part.name.slice(0, -'.enc'.length))));
      await out.commit();
      assert.equal(sha(await fs.readFile(again)), part.sha256, `${part.name} rewritten is byte-identical`);
      await gather(enc.body.id);
    });
  }

  test('relational csv with a raw key: parts and schema.sql decrypt with --key-file', async () => {
    const spec = {
      seed: 7,
      tables: [{ name: 'items', rows: 5000, columns: [{ name: 'id', type: 'id' }, { name: 'qty', type: 'int', min: 1, max: 9 }] }],
    };
    const body = (output: Record<string, unknown>) => ({ kind: 'relational', spec, output, partitioning: { shardRows: 2500 } });
    const plain = await postJob(api, body({ format: 'csv' }));
    const enc = await postJob(api, body({ format: 'csv', encryption: { key: RAW_KEY.toString('base64') } }));
    assert.equal(enc.status, 202, JSON.stringify(enc.body));
    assert.equal(enc.body.output.encryption.kdf, 'none');
    await captureKey(enc.body.id);
    assert.ok(masterKeys.at(-1)!.equals(RAW_KEY), 'a raw key is the master key');
    await completed(plain.body.id);
    await completed(enc.body.id);
    const dir = path.join(work, enc.body.id);
    const files = await download(enc.body.id, dir);
    assert.ok(files.some((f) => f.name === 'schema.sql.enc'));
    const keyFile = path.join(work, 'raw.key');
    await fs.writeFile(keyFile, RAW_KEY.toString('base64') + '\n');
    const r = await sf(['decrypt', ...files.map((f) => path.join(dir, f.name)), '--key-file', keyFile]);
    assert.equal(r.code, 0, r.stderr);
    const pm = await readManifest(dataDir, plain.body.id);
    for (const f of pm.tables.flatMap((t: any) => t.files)) assert.equal(sha(await fs.readFile(path.join(dir, f.name))), f.sha256, f.name);
    // schema.sql names its job in its first line: the same DDL otherwise.
    const ddl = (id: string, text: string) => text.replaceAll(id, 'JOB');
    assert.equal(
      ddl(enc.body.id, await fs.readFile(path.join(dir, 'schema.sql'), 'utf8')),
      ddl(plain.body.id, await fs.readFile(path.join(dataDir, 'jobs', plain.body.id, 'schema.sql'), 'utf8')),
    );
    await gather(enc.body.id);
  });

  for (const output of [{ format: 'ndjson', compression: 'gzip' }, { format: 'parquet', compression: 'zstd' }]) {
    test(`patients ${output.format}: every table's parts and summary.json decrypt to the plain job's files`, async () => {
      const body = (o: Record<string, unknown>) => ({ kind: 'patients', spec: { count: 600, seed: 31, scenario: 'default' }, output: o, partitioning: { shardRows: 300 } });
      const plain = await postJob(api, body(output));
      assert.equal(plain.status, 202, JSON.stringify(plain.body));
      const enc = await postJob(api, body({ ...output, encryption: { passphrase: PASSPHRASE } }));
      assert.equal(enc.status, 202, JSON.stringify(enc.body));
      await captureKey(enc.body.id);
      await completed(plain.body.id);
      const job = await completed(enc.body.id);
      assert.equal(job.result.summary.summary, 'summary.json.enc');
      const pm = await readManifest(dataDir, plain.body.id);
      const plainFiles = new Map<string, string>([...pm.tables.flatMap((t: any) => t.files), ...pm.files].map((f: any) => [f.name, f.sha256]));
      const dir = path.join(work, enc.body.id);
      const files = await download(enc.body.id, dir);
      assert.equal(files.length, plainFiles.size);
      assert.ok(files.every((f) => f.name.endsWith('.enc')), 'every listed file is encrypted');
      const r = await sf(['decrypt', ...files.map((f) => path.join(dir, f.name)), '--passphrase-env', 'JOB_PASS'], { JOB_PASS: PASSPHRASE });
      assert.equal(r.code, 0, r.stderr);
      for (const f of files) {
        const name = f.name.slice(0, -'.enc'.length);
        assert.equal(sha(await fs.readFile(path.join(dir, name))), plainFiles.get(name), `${name} decrypts to the plain job's file`);
      }
      await gather(enc.body.id);
    });
  }

  test('a wrong passphrase, a changed byte, a truncated file: the CLI exits 1 with a clear message and writes nothing', async () => {
    const enc = await postJob(api, trial({ format: 'csv', encryption: { passphrase: PASSPHRASE } }));
    await captureKey(enc.body.id);
    await completed(enc.body.id);
    const dir = path.join(work, `bad-${enc.body.id}`);
    const files = await download(enc.body.id, dir);
    const part = path.join(dir, files[0].name);
    const out = part.slice(0, -'.enc'.length);

    const wrong = await sf(['decrypt', part, '--passphrase-env', 'JOB_PASS'], { JOB_PASS: `${PASSPHRASE}x` });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /wrong passphrase/);
    const bytes = await fs.readFile(part);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x40;
    const tampered = path.join(dir, 'tampered.csv.enc');
    await fs.writeFile(tampered, bytes);
    const bad = await sf(['decrypt', tampered, '--passphrase-env', 'JOB_PASS'], { JOB_PASS: PASSPHRASE });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /does not authenticate/);
    const cut = path.join(dir, 'cut.csv.enc');
    await fs.writeFile(cut, (await fs.readFile(part)).subarray(0, 200));
    const short = await sf(['decrypt', cut, '--passphrase-env', 'JOB_PASS'], { JOB_PASS: PASSPHRASE });
    assert.equal(short.code, 1);
    assert.match(short.stderr, /does not authenticate|truncated/);
    for (const f of [out, path.join(dir, 'tampered.csv'), path.join(dir, 'cut.csv')]) {
      await assert.rejects(fs.stat(f), { code: 'ENOENT' }, `${f} was not written`);
    }
    assert.deepEqual(await tempFilesUnder(dir), []);
    // Usage: no key source, two, a passphrase given as a flag value.
    assert.equal((await sf(['decrypt', part])).code, 2);
    assert.equal((await sf(['decrypt', part, '--passphrase-env', 'A', '--key-file', 'k'])).code, 2);
    // The right passphrase still works, and an existing output needs --force.
    const ok = await sf(['decrypt', part, '--passphrase-env', 'JOB_PASS'], { JOB_PASS: PASSPHRASE });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((await sf(['decrypt', part, '--passphrase-env', 'JOB_PASS'], { JOB_PASS: PASSPHRASE })).code, 1);
    const pf = path.join(work, 'pass.txt');
    await fs.writeFile(pf, `${PASSPHRASE}\n`);
    assert.equal((await sf(['decrypt', part, '--passphrase-file', pf, '--force'])).code, 0);
  });

  test('shardflow run --encrypt-passphrase-env: the job is encrypted; its files decrypt with the same passphrase; two sources are a usage error', async () => {
    const env = { SHARDFLOW_URL: api.url, SHARDFLOW_KEY: '', JOB_PASS: PASSPHRASE };
    const r = await sf(['run', 'trial', '--method', 'rules', '--n-per-arm', '40', '--seed', '77', '--format', 'ndjson', '--encrypt-passphrase-env', 'JOB_PASS', '--watch', '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const end = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.equal(end.event, 'end');
    const job = end.job;
    assert.equal(job.status, 'completed');
    assert.equal(job.output.encryption.kdf, 'scrypt');
    assert.ok(!r.stdout.includes(PASSPHRASE) && !r.stderr.includes(PASSPHRASE), 'the CLI prints no passphrase');
    const dir = path.join(work, `run-${job.id}`);
    const files = await download(job.id, dir);
    const part = files.find((f) => f.name.endsWith('.ndjson.enc'))!;
    const d = await sf(['decrypt', path.join(dir, part.name), '--passphrase-env', 'JOB_PASS'], env);
    assert.equal(d.code, 0, d.stderr);
    const lines = (await fs.readFile(path.join(dir, part.name.slice(0, -'.enc'.length)), 'utf8')).trim().split('\n');
    assert.equal(lines.length, part.rows);
    assert.equal(JSON.parse(lines[0]!).TreatmentArm !== undefined, true);
    const two = await sf(['run', 'trial', '--n-per-arm', '40', '--encrypt-passphrase-env', 'JOB_PASS', '--encrypt-key-file', 'k'], env);
    assert.equal(two.code, 2);
    assert.match(two.stderr, /exactly one of --encrypt-passphrase-file, --encrypt-passphrase-env, --encrypt-key-file/);
  });

  test('DELETE forgets the key of a job at once', async () => {
    const enc = await postJob(api, trial({ format: 'csv', encryption: { passphrase: PASSPHRASE } }));
    assert.equal(enc.status, 202);
    await captureKey(enc.body.id);
    const res = await api.request(`/v1/jobs/${enc.body.id}`, { method: 'DELETE' });
    assert.equal(res.status, 204);
    const rows = await api.deps.db.sql`select 1 from job_keys where job_id = ${enc.body.id}`;
    assert.equal(rows.length, 0);
  });

  test('invalid options are 400/422 problems naming the field; validate answers the marker only', async () => {
    const cases: Array<[unknown, number, string]> = [
      [{ passphrase: '' }, 400, 'output.encryption.passphrase'],
      [{ passphrase: 'short' }, 400, 'output.encryption.passphrase'],
      [{ passphrase: 42 }, 400, 'output.encryption.passphrase'],
      [{}, 400, 'output.encryption'],
      [{ passphrase: PASSPHRASE, key: RAW_KEY.toString('base64') }, 400, 'output.encryption'],
      [{ key: randomBytes(16).toString('base64') }, 400, 'output.encryption.key'],
      [{ key: 'not base64 at all!' }, 400, 'output.encryption.key'],
      [{ passphrase: PASSPHRASE, algorithm: 'rot13' }, 400, 'output.encryption.algorithm'],
    ];
    for (const [encryption, status, field] of cases) {
      const r = await postJob(api, trial({ format: 'csv', encryption }));
      assert.equal(r.status, status, JSON.stringify({ encryption, body: r.body }));
      assert.ok(r.body.errors.some((e: any) => e.path === field), `${JSON.stringify(encryption)} names ${field}: ${JSON.stringify(r.body.errors)}`);
      assert.ok(!JSON.stringify(r.body).includes(PASSPHRASE));
    }
    const refused = await postJob(noSecret, trial({ format: 'csv', encryption: { passphrase: PASSPHRASE } }));
    assert.equal(refused.status, 422);
    assert.ok(refused.body.errors.some((e: any) => e.path === 'output.encryption'));
    assert.match(refused.body.detail, /SHARDFLOW_SECRET_KEY/);
    const v = await api.request('/v1/jobs/validate', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(trial({ format: 'csv', encryption: { passphrase: PASSPHRASE } })) });
    assert.equal(v.status, 200);
    const vb = (await v.json()) as any;
    assert.deepEqual(vb.output.encryption, { algorithm: 'AES-256-GCM', kdf: 'scrypt' });
    seen.push({ where: 'validate', text: JSON.stringify(vb) });
  });

  test('Idempotency-Key: the stored request hash does not cover the passphrase; a replay answers the original job', async () => {
    const headers = { 'Idempotency-Key': `enc-${randomBytes(4).toString('hex')}` };
    const a = await postJob(api, trial({ format: 'csv', encryption: { passphrase: PASSPHRASE } }), headers);
    assert.equal(a.status, 202);
    await captureKey(a.body.id);
    const b = await postJob(api, trial({ format: 'csv', encryption: { passphrase: PASSPHRASE } }), headers);
    assert.equal(b.status, 200);
    assert.equal(b.body.id, a.body.id);
    const [row] = await api.deps.db.sql<{ request_hash: string }[]>`select request_hash from jobs where id = ${a.body.id}`;
    const plainHash = createHash('sha256').update(PASSPHRASE).digest('hex');
    assert.notEqual(row!.request_hash, plainHash);
    await completed(a.body.id);
    await gather(a.body.id);
  });

  test('the passphrase and the derived keys appear nowhere: views, list, histories, rows, manifests, shard records, API and worker logs', async () => {
    const list = await (await api.request('/v1/jobs?limit=500')).text();
    seen.push({ where: 'GET /v1/jobs', text: list });
    seen.push({ where: 'API log', text: apiLog.join('') });
    seen.push({ where: 'worker output', text: worker.output() });
    assert.ok(apiLog.length > 10, 'the API logged its requests');
    assert.ok(worker.output().includes('shard completed'), `the worker logged its shards: ${worker.output().slice(-3000)}`);
    assert.ok(masterKeys.length >= 1);
    const needles = [
      PASSPHRASE,
      RAW_KEY.toString('base64'),
      RAW_KEY.toString('hex'),
      ...masterKeys.flatMap((k) => [k.toString('base64'), k.toString('hex'), k.toString('base64url')]),
    ];
    for (const { where, text } of seen) {
      for (const n of needles) assert.ok(!text.includes(n), `a secret is in ${where}`);
    }
    // What was looked at: the marker is there (so the search would have found text of the output).
    assert.ok(seen.some((s) => s.where.startsWith('history') && s.text.includes('AES-256-GCM')));
  });
});
