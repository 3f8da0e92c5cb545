/**
 * The `shardflow` binary (bin/shardflow.mjs, a child process with pipes: no terminal, so plain
 * lines and no bars) against a real API, worker, Temporal and Postgres: every kind submitted from a
 * spec file and watched to completion, then downloaded and checked; flags, YAML, --dry-run, --json,
 * errors; pause, resume, cancel and delete from the CLI and from the `temporal` CLI; a download and
 * an event stream interrupted by a proxy that drops the connection, resumed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createApiKey } from '../src/db/api-keys.js';
import { resolveTemporalBinary } from '../src/dev/temporal-binary.js';
import type { ShardTask } from '../src/engine/types.js';
import { stackMissing, startTestApi, type TestApi } from './support/api.js';
import { engineCases } from './support/engine-cases.js';
import { shardGate } from './support/gate.js';
import { getJob, isDone, readManifest, tempDataDir, waitForJob } from './support/jobs.js';
import { uniqueTaskQueue } from './support/stack.js';
import { startTestWorker, type TestWorker } from './support/worker.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'shardflow.mjs');
const run = promisify(execFile);

let api: TestApi;
let secured: TestApi;
let worker: TestWorker;
let dataDir: string;
let work: string;
let temporal: string;
let hook: ((task: ShardTask, attempt: number, cancelled: AbortSignal) => void | Promise<void>) | undefined;

before(async () => {
  if (stackMissing) return;
  const taskQueue = uniqueTaskQueue('cli');
  dataDir = await tempDataDir();
  work = await tempDataDir('shardflow-cli-');
  temporal = await resolveTemporalBinary({ allowBuild: false });
  api = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: taskQueue, SHARDFLOW_DATA_DIR: dataDir } });
  secured = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: taskQueue, SHARDFLOW_DATA_DIR: dataDir, SHARDFLOW_AUTH: 'required' } });
  worker = await startTestWorker({
    taskQueue,
    dataDir,
    env: { SHARDFLOW_PART_ROWS: '2000' },
    faults: { beforeShard: (task, attempt, cancelled) => hook?.(task, attempt, cancelled) },
  });
});

after(async () => {
  hook = undefined;
  for (const c of engineCases) await c.cleanup?.(api);
  await worker?.stop();
  await api?.close();
  await secured?.close();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** The binary, to completion; never throws on a non-zero exit. */
async function sf(args: string[], opts: { url?: string; env?: Record<string, string> } = {}): Promise<Ran> {
  const env = { ...process.env, SHARDFLOW_URL: opts.url ?? api.url, SHARDFLOW_KEY: '', NO_COLOR: '1', ...opts.env };
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { cwd: work, env, timeout: 180_000, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** The binary in the background, for a watch that outlives the next steps; `output()` is what it printed so far. */
function sfBackground(args: string[], opts: { url?: string } = {}): Promise<Ran> & { output(): string; printed(re: RegExp): Promise<void> } {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: work,
    env: { ...process.env, SHARDFLOW_URL: opts.url ?? api.url, SHARDFLOW_KEY: '', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<Ran>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
  const waiters: Array<() => void> = [];
  child.stdout.on('data', () => waiters.splice(0).forEach((w) => w()));
  return Object.assign(done, {
    output: () => stdout,
    /** Resolves once stdout matches (an event, not a time); rejects if the process ends first. */
    async printed(re: RegExp): Promise<void> {
      let ended = false;
      void done.then(() => ((ended = true), waiters.splice(0).forEach((w) => w())));
      while (!re.test(stdout)) {
        if (ended) throw new Error(`the CLI ended without printing ${re}: ${stdout}${stderr}`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  });
}

const temporalCli = async (...args: string[]) =>
  (await run(temporal, [...args, '--address', process.env.TEMPORAL_ADDRESS!, '--namespace', 'default'])).stdout;

const sha256 = async (file: string) => createHash('sha256').update(await fs.readFile(file)).digest('hex');
const idOf = (r: Ran) => /job-[A-Za-z0-9_-]+/.exec(r.stdout)?.[0] ?? assert.fail(`no job id in ${r.stdout}${r.stderr}`);
const exists = (p: string) => fs.access(p).then(() => true, () => false);

/** A proxy in front of the API that can drop one answer part-way; it records every request. */
async function startProxy(target: string) {
  const seen: Array<{ url: string; headers: http.IncomingHttpHeaders }> = [];
  const rules: Array<{ match: (url: string) => boolean; afterBytes?: number; afterEvents?: number; used?: boolean }> = [];
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url!, headers: req.headers });
    const rule = rules.find((r) => !r.used && r.match(req.url!));
    if (rule) rule.used = true;
    const up = http.request(new URL(req.url!, target), { method: req.method, headers: { ...req.headers, host: new URL(target).host } }, (upRes) => {
      res.writeHead(upRes.statusCode!, upRes.headers);
      if (!rule) return upRes.pipe(res);
      let sent = 0;
      let events = 0;
      upRes.on('data', (chunk: Buffer) => {
        if (res.destroyed) return;
        let piece = chunk;
        if (rule.afterBytes !== undefined && sent + piece.length >= rule.afterBytes) piece = piece.subarray(0, rule.afterBytes - sent);
        if (rule.afterEvents !== undefined) events += (piece.toString('utf8').match(/\n\n/g) ?? []).length;
        sent += piece.length;
        const cut = (rule.afterBytes !== undefined && sent >= rule.afterBytes) || (rule.afterEvents !== undefined && events >= rule.afterEvents);
        res.write(piece, () => {
          if (cut) {
            upRes.destroy();
            res.socket?.destroy();
          }
        });
        if (cut) upRes.pause();
      });
      upRes.on('end', () => res.end());
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    rules,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const UNITS = 20_000;
const SHARD = 2000;

describe('every kind from a spec file, watched, downloaded and verified', { skip: stackMissing }, () => {
  for (const c of engineCases) {
    test(`kind ${c.kind}: run --spec job.json --watch, then jobs download`, async () => {
      const { body, tables } = await c.job(api, UNITS, { seed: 11, multipleOf: SHARD });
      const file = path.join(work, `${c.kind}.json`);
      await fs.writeFile(file, JSON.stringify(body));
      const r = await sf(['run', c.kind, '--spec', file, '--shard-rows', String(SHARD), '--max-parallel-shards', '2', '--watch']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.doesNotMatch(r.stdout, /[\r\x1b]/, 'no bar, no escape codes without a terminal');
      const id = idOf(r);
      assert.match(r.stdout, new RegExp(`${id}\\s+${c.kind}\\s+completed`));
      // `rows in N files` for row kinds; a kind of another unit says its unit (patients: `20,000 patients; N files`).
      assert.match(r.stdout, new RegExp(`result: ${UNITS.toLocaleString('en-US')} ${c.kind === 'patients' ? 'patients; ' : 'rows in '}`));
      if (c.kind === 'patients') assert.doesNotMatch(r.stdout, / rows · /, 'the unit from the first line on, planning included');

      const out = path.join(work, `dl-${c.kind}`);
      const d = await sf(['jobs', 'download', id, '--out', out, '--json']);
      assert.equal(d.code, 0, d.stderr);
      const downloaded = JSON.parse(d.stdout) as { files: Array<{ name: string; verified: boolean; action: string }> };
      const manifest = await readManifest(dataDir, id);
      const listed = manifest.tables.flatMap((t: any) => t.files.map((f: any) => f));
      assert.equal(manifest.tables.length, tables.length);
      for (const f of listed) {
        assert.equal(await sha256(path.join(out, f.name)), f.sha256, f.name);
        assert.ok(downloaded.files.find((x) => x.name === f.name)?.verified, `${f.name} verified`);
      }
      assert.ok(await exists(path.join(out, 'manifest.json')));
      const again = JSON.parse((await sf(['jobs', 'download', id, '--out', out, '--json'])).stdout) as typeof downloaded;
      assert.ok(again.files.filter((f) => f.name !== 'manifest.json').every((f) => f.action === 'skipped'), 'a second download skips verified files');
      assert.equal((await sf(['jobs', 'delete', id])).code, 0);
    });
  }
});

describe('flags, YAML, dry runs and errors', { skip: stackMissing }, () => {
  test('run trial with flags (a negative effect included) and --json', async () => {
    const r = await sf(['run', 'trial', '--n-per-arm', '250', '--method', 'mvn', '--target-effect', '-12.5', '--visits', 'Baseline,Week 12', '--seed', '7', '--format', 'csv', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const job = JSON.parse(r.stdout);
    assert.equal(job.status, 'running');
    assert.deepEqual([job.spec.nPerArm, job.spec.targetEffect, job.spec.visits, job.spec.seed, job.output.format], [250, -12.5, ['Baseline', 'Week 12'], 7, 'csv']);
    assert.equal(job.estimate.rows, 2 * 250 * 2);
    const done = await waitForJob(api, job.id, isDone);
    assert.equal(done.status, 'completed');
    assert.equal((await sf(['jobs', 'delete', job.id])).code, 0);
  });

  test('run patients with spec flags from the OpenAPI document (--count, --scenario, --seed) and --watch', async () => {
    const r = await sf(['run', 'patients', '--count', '1000', '--scenario', 'article5', '--seed', '3', '--format', 'csv', '--watch', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const end = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.event === 'end');
    assert.equal(end.job.status, 'completed');
    assert.deepEqual([end.job.spec.count, end.job.spec.scenario, end.job.spec.seed, end.job.output.format, end.job.progress.unit], [1000, 'article5', 3, 'csv', 'patients']);
    const help = await sf(['run', 'patients', '--help-spec']);
    assert.match(help.stdout + help.stderr, /--scenario-version/);
    assert.equal((await sf(['jobs', 'delete', end.job.id])).code, 0);
  });

  test('scenarios create (YAML), update, show --version, list, validate, delete; a job from the stored scenario', async () => {
    const file = path.join(work, 'exercise.yaml');
    await fs.writeFile(file, 'name: CLI exercise\npreset: arctic\ntotalCasualties: 120\n');
    const created = await sf(['scenarios', 'create', file, '--json']);
    assert.equal(created.code, 0, created.stderr);
    const s = JSON.parse(created.stdout);
    assert.deepEqual([s.version, s.name, s.resolved.environment.terrain], [1, 'CLI exercise', 'arctic']);
    await fs.writeFile(file, JSON.stringify({ name: 'CLI exercise', preset: 'arctic', totalCasualties: 240 }));
    assert.equal((await sf(['scenarios', 'update', s.id, file])).code, 0);
    const v1 = JSON.parse((await sf(['scenarios', 'show', s.id, '--version', '1', '--json'])).stdout);
    assert.deepEqual([v1.version, v1.latestVersion, v1.resolved.baseCasualties], [1, 2, 120]);
    const list = await sf(['scenarios', 'list']);
    assert.match(list.stdout, new RegExp(`${s.id}\\s+CLI exercise\\s+2`));
    assert.match(list.stdout, /article5\s+.*preset/);
    await fs.writeFile(file, JSON.stringify({ durationDays: -2 }));
    const bad = await sf(['scenarios', 'validate', file, '--json']);
    assert.notEqual(bad.code, 0);
    assert.equal(JSON.parse(bad.stderr).errors[0].path, 'durationDays');
    const run = await sf(['run', 'patients', '--scenario', s.id, '--scenario-version', '1', '--seed', '1', '--dry-run', '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual([JSON.parse(run.stdout).spec.count, JSON.parse(run.stdout).spec.scenarioVersion], [120, 1]);
    assert.equal((await sf(['scenarios', 'delete', s.id])).code, 0);
    assert.notEqual((await sf(['scenarios', 'show', s.id])).code, 0);
  });

  test('--dry-run prints the normalised spec, rows and estimate, and starts nothing', async () => {
    const before = JSON.parse((await sf(['jobs', 'list', '--all', '--json'])).stdout).length;
    const yaml = path.join(work, 'shop.yaml');
    await fs.writeFile(
      yaml,
      [
        '# customers and their orders',
        'seed: 5',
        'tables:',
        '  - name: customers',
        '    rows: 1000',
        '    columns: [{ name: id, type: id }, { name: email, type: email, unique: true }]',
        '  - name: orders',
        '    rows: { perParent: customers, distribution: { fixed: 3 } }',
        '    columns:',
        '      - { name: id, type: id }',
        '      - { name: customer_id, type: ref, table: customers }',
      ].join('\n'),
    );
    const r = await sf(['run', 'relational', '--spec', yaml, '--dry-run', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const v = JSON.parse(r.stdout);
    assert.equal(v.kind, 'relational');
    assert.equal(v.estimate.rows, 4000);
    assert.equal(v.shards, 1);
    assert.equal(v.spec.seed, 5);
    assert.equal(v.spec.tables[1].columns[0].start, 1, 'defaults are filled in');
    const human = await sf(['run', 'relational', '--spec', yaml, '--dry-run']);
    assert.match(human.stdout, /dry run: nothing started/);
    assert.match(human.stdout, /4,000 rows in 1 shard/);
    assert.equal(JSON.parse((await sf(['jobs', 'list', '--all', '--json'])).stdout).length, before);
  });

  test('a bad spec prints the field in one line and exits 1; --json prints the problem', async () => {
    const r = await sf(['run', 'trial', '--n-per-arm', '0', '--method', 'mvn']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^shardflow: 400 .*spec\.nPerArm/);
    const j = await sf(['run', 'trial', '--n-per-arm', '0', '--method', 'mvn', '--json']);
    assert.equal(j.code, 1);
    const problem = JSON.parse(j.stderr);
    assert.equal(problem.status, 400);
    assert.equal(problem.errors[0].path, 'spec.nPerArm');
    const unknown = await sf(['run', 'trial', '--n-perarm', '3']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option --n-perarm for trial jobs \(spec flags: .*--n-per-arm/);
    const kind = await sf(['run', 'nope']);
    assert.equal(kind.code, 2);
    assert.match(kind.stderr, /unknown kind "nope"; this server runs: .*trial/);
    const missing = await sf(['jobs', 'show', 'job-doesnotexist']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /404 .*no job job-doesnotexist/);
    const down = await sf(['jobs', 'list'], { url: 'http://127.0.0.1:9' });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach the shardflow API at http:\/\/127\.0\.0\.1:9/);
  });

  test('models fit a CSV, list and show it, and a trial job uses it by name', async () => {
    const name = `cli-model-${process.pid}`;
    const fit = await sf(['models', 'fit', path.join(root, 'data', 'pilot-vitals.csv'), '--group-by', 'VisitName,TreatmentArm', '--name', name, '--json']);
    assert.equal(fit.code, 0, fit.stderr);
    const model = JSON.parse(fit.stdout);
    assert.equal(model.name, name);
    assert.deepEqual(model.groupBy, ['VisitName', 'TreatmentArm']);
    assert.equal(model.subjects, 240);
    const listed = JSON.parse((await sf(['models', 'list', '--json'])).stdout).map((m: any) => m.name);
    assert.ok(listed.includes(name) && listed.includes('pilot-vitals'));
    assert.match((await sf(['models', 'show', name])).stdout, new RegExp(`${model.id}\\s+${name}`));
    const dry = JSON.parse((await sf(['run', 'trial', '--method', 'bootstrap', '--n-per-arm', '100', '--model', name, '--dry-run', '--json'])).stdout);
    assert.equal(dry.spec.model, model.id);
    const again = await sf(['models', 'fit', path.join(root, 'data', 'pilot-vitals.csv'), '--name', name]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /409 .*name: already taken/);
    const missing = await sf(['models', 'fit', path.join(work, 'nope.csv')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.csv: no such file/);
  });

  test('the key comes from --key or SHARDFLOW_KEY; without one a secured API answers 401', async () => {
    const key = await createApiKey(secured.deps.db.db, { name: 'cli-test', tenantId: `cli-${process.pid}` });
    const none = await sf(['jobs', 'list'], { url: secured.url });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^shardflow: 401/);
    const flag = await sf(['jobs', 'list', '--json', '--key', key.secret], { url: secured.url });
    assert.equal(flag.code, 0, flag.stderr);
    assert.deepEqual(JSON.parse(flag.stdout), []);
    const env = await sf(['jobs', 'list', '--json'], { url: secured.url, env: { SHARDFLOW_KEY: key.secret } });
    assert.equal(env.code, 0, env.stderr);
    assert.doesNotMatch(env.stdout + env.stderr, new RegExp(key.secret));
  });
});

describe('control from the shardflow CLI and from the temporal CLI', { skip: stackMissing }, () => {
  const trial = ['run', 'trial', '--method', 'mvn', '--n-per-arm', '2000', '--seed', '3', '--shard-rows', String(SHARD), '--max-parallel-shards', '1', '--json'];

  test('shardflow jobs pause, resume, watch to completion', async () => {
    const gate = shardGate(2);
    hook = gate.beforeShard;
    const id = JSON.parse((await sf(trial)).stdout).id as string;
    await waitForJob(api, id, (j) => j.progress?.shards.completed === 2 && j.progress.shards.running === 1);
    const p = await sf(['jobs', 'pause', id]);
    assert.equal(p.code, 0, p.stderr);
    assert.equal(p.stdout.trim(), `${id} paused`);
    gate.open();
    const paused = await waitForJob(api, id, (j) => j.status === 'paused' && j.progress.shards.running === 0);
    const shown = JSON.parse((await sf(['jobs', 'show', id, '--json'])).stdout);
    assert.equal(shown.status, 'paused');
    assert.equal(shown.progress.shards.completed, paused.progress.shards.completed);
    assert.ok(shown.progress.shards.completed < shown.progress.shards.total);
    assert.equal((await sf(['jobs', 'resume', id])).stdout.trim(), `${id} running`);
    const w = await sf(['jobs', 'watch', id]);
    assert.equal(w.code, 0, w.stderr);
    assert.match(w.stdout, /completed/);
    assert.equal((await getJob(api, id)).status, 'completed');
    assert.equal((await sf(['jobs', 'pause', id])).code, 1, 'pausing a completed job is a 409');
    assert.equal((await sf(['jobs', 'delete', id])).code, 0);
  });

  test('temporal workflow signal pause → the CLI shows paused; signal resume → watch exits 0', async () => {
    const gate = shardGate(1);
    hook = gate.beforeShard;
    const id = JSON.parse((await sf(trial)).stdout).id as string;
    await waitForJob(api, id, (j) => j.progress?.shards.completed === 1 && j.progress.shards.running === 1);
    await temporalCli('workflow', 'signal', '--workflow-id', id, '--name', 'pause');
    gate.open();
    await waitForJob(api, id, (j) => j.status === 'paused' && j.progress.shards.running === 0);
    const shown = await sf(['jobs', 'show', id]);
    assert.match(shown.stdout, new RegExp(`${id}\\s+trial\\s+paused`));
    const watching = sfBackground(['jobs', 'watch', id]);
    await watching.printed(/ paused /);
    await temporalCli('workflow', 'signal', '--workflow-id', id, '--name', 'resume');
    const w = await watching;
    assert.equal(w.code, 0, w.stdout + w.stderr);
    assert.match(w.stdout, /paused/, 'the watch saw the paused job');
    assert.match(w.stdout, new RegExp(`${id}\\s+trial\\s+completed`));
    assert.equal((await sf(['jobs', 'delete', id])).code, 0);
  });

  for (const via of ['shardflow', 'temporal'] as const) {
    test(`cancel with the ${via} CLI → a watch exits 3, status cancelled`, async () => {
      const gate = shardGate(1);
      hook = gate.beforeShard;
      const id = JSON.parse((await sf(trial)).stdout).id as string;
      await waitForJob(api, id, (j) => j.progress?.shards.running === 1 && j.progress.shards.completed === 1);
      const watching = sfBackground(['jobs', 'watch', id, '--json']);
      await watching.printed(/"event":"progress"/);
      if (via === 'shardflow') assert.equal((await sf(['jobs', 'cancel', id])).stdout.trim(), `${id} cancelling`);
      else await temporalCli('workflow', 'cancel', '--workflow-id', id);
      const w = await watching;
      gate.open();
      assert.equal(w.code, 3, w.stdout + w.stderr);
      const lines = w.stdout.trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(lines.at(-1).event, 'end');
      assert.equal(lines.at(-1).job.status, 'cancelled');
      assert.ok(lines.slice(0, -1).every((l) => l.event === 'progress' || l.event === 'note'));
      assert.equal((await sf(['jobs', 'delete', id])).code, 0);
    });
  }

  test('jobs delete of a running job cancels it, then removes its files and its record', async () => {
    const gate = shardGate(1);
    hook = gate.beforeShard;
    const id = JSON.parse((await sf(trial)).stdout).id as string;
    await waitForJob(api, id, (j) => j.progress?.shards.running === 1 && j.progress.shards.completed === 1);
    assert.ok(await exists(path.join(dataDir, 'jobs', id)));
    const d = await sf(['jobs', 'delete', id]);
    gate.open();
    assert.equal(d.code, 0, d.stderr);
    assert.equal(d.stdout.trim(), `deleted ${id}`);
    assert.equal(await exists(path.join(dataDir, 'jobs', id)), false);
    assert.equal((await api.request(`/v1/jobs/${id}`)).status, 404);
    const desc = JSON.parse(await temporalCli('workflow', 'describe', '--workflow-id', id, '--output', 'json'));
    assert.match(JSON.stringify(desc), /CANCELED|CANCELLED/);
    const again = await sf(['jobs', 'delete', id]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /404/);
  });
});

describe('interrupted transfers', { skip: stackMissing }, () => {
  let jobId: string;
  before(async () => {
    hook = undefined;
    const r = await sf(['run', 'trial', '--method', 'bootstrap', '--n-per-arm', '20000', '--seed', '9', '--format', 'csv', '--watch']);
    assert.equal(r.code, 0, r.stderr);
    jobId = idOf(r);
  });
  after(async () => {
    if (jobId) await sf(['jobs', 'delete', jobId]);
  });

  test('a download cut part-way continues with Range and verifies the sha256', async () => {
    const proxy = await startProxy(api.url);
    try {
      const files = (await (await api.request(`/v1/jobs/${jobId}/files`)).json()) as any;
      const big = files.items.find((f: any) => f.name.endsWith('.csv'));
      assert.ok(big.bytes > 32_768, `a file large enough to cut (${big.bytes} bytes)`);
      proxy.rules.push({ match: (u) => u.endsWith(big.name), afterBytes: 16_384 });
      const out = path.join(work, 'dl-cut');
      const r = await sf(['jobs', 'download', jobId, '--out', out, '--json'], { url: proxy.url });
      assert.equal(r.code, 0, r.stderr);
      const d = JSON.parse(r.stdout).files.find((f: any) => f.name === big.name);
      assert.equal(d.action, 'resumed');
      assert.ok(d.attempts >= 2);
      const ranged = proxy.seen.filter((s) => s.url.endsWith(big.name) && s.headers.range);
      assert.equal(ranged.length, 1);
      const start = Number(/^bytes=(\d+)-$/.exec(String(ranged[0]!.headers.range))?.[1]);
      assert.ok(start > 0 && start <= 16_384, `continued from byte ${start}`);
      assert.equal(ranged[0]!.headers['if-range'], `"${big.sha256}"`);
      assert.equal(await sha256(path.join(out, big.name)), big.sha256);
      assert.equal(await exists(path.join(out, `${big.name}.part`)), false);
    } finally {
      await proxy.close();
    }
  });

  test('a part left by an earlier run is continued; a corrupt one is detected and fetched again', async () => {
    const files = (await (await api.request(`/v1/jobs/${jobId}/files`)).json()) as any;
    const f = files.items.find((x: any) => x.name.endsWith('.csv'));
    const src = path.join(dataDir, 'jobs', jobId, f.name);
    const bytes = await fs.readFile(src);
    const out = path.join(work, 'dl-part');
    await fs.mkdir(path.dirname(path.join(out, f.name)), { recursive: true });
    await fs.writeFile(path.join(out, `${f.name}.part`), bytes.subarray(0, 1000));
    const r1 = JSON.parse((await sf(['jobs', 'download', jobId, '--out', out, '--file', f.name, '--json'])).stdout);
    assert.equal(r1.files[0].action, 'resumed');
    assert.equal(await sha256(path.join(out, f.name)), f.sha256);

    await fs.rm(path.join(out, f.name));
    const corrupt = Buffer.from(bytes.subarray(0, 1000));
    corrupt[10] ^= 0xff;
    await fs.writeFile(path.join(out, `${f.name}.part`), corrupt);
    const r2 = await sf(['jobs', 'download', jobId, '--out', out, '--file', f.name, '--json']);
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(JSON.parse(r2.stdout).files[0].action, 'downloaded', 'started over after the checksum failed');
    assert.equal(await sha256(path.join(out, f.name)), f.sha256);
  });

  test('a watch whose event stream drops reconnects with Last-Event-ID and still exits 0', async () => {
    const gate = shardGate(1);
    hook = gate.beforeShard;
    const proxy = await startProxy(api.url);
    try {
      const id = JSON.parse((await sf(['run', 'trial', '--method', 'mvn', '--n-per-arm', '1000', '--shard-rows', '2000', '--max-parallel-shards', '1', '--json'])).stdout).id;
      await waitForJob(api, id, (j) => j.progress?.shards.running === 1 && j.progress.shards.completed === 1);
      proxy.rules.push({ match: (u) => u.endsWith('/events'), afterEvents: 2 });
      const watching = sfBackground(['jobs', 'watch', id], { url: proxy.url });
      // The job is held by the gate until the watch has reconnected.
      const deadline = Date.now() + 60_000;
      while (!proxy.seen.some((s) => s.url.endsWith('/events') && s.headers['last-event-id'])) {
        if (Date.now() > deadline) assert.fail(`no reconnect: ${JSON.stringify(proxy.seen.map((s) => s.url))}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      gate.open();
      const w = await watching;
      assert.equal(w.code, 0, w.stdout + w.stderr);
      const reconnect = proxy.seen.find((s) => s.url.endsWith('/events') && s.headers['last-event-id'])!;
      assert.equal(reconnect.headers['last-event-id'], '2');
      assert.match(w.stderr, /event stream of .* dropped; reconnecting after event 2/);
      assert.match(w.stdout, /completed/);
      await sf(['jobs', 'delete', id]);
    } finally {
      hook = undefined;
      await proxy.close();
    }
  });
});
