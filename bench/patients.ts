/**
 * Benchmark of the `patients` kind: N patients (default 1,000,000) with full timelines, to gzipped
 * NDJSON (the nested record) and to gzipped FHIR Bulk NDJSON (a file per resource type), each
 * against the floor the issue names, measured in the same run: this machine's own
 * `JSON.stringify` + gzip (level 1, as the job's) of the same records already built in memory.
 *
 *     npm run bench -- patients [--patients N] [--only ndjson,fhir-bulk,fhir] [--scenario article5] [--verbose]
 *
 * Setup as bench/emissions.ts: a private stack (Temporal dev server + embedded Postgres, fsync
 * off), the API in this process, a real worker child process on a private task queue with its
 * default threads and concurrency, a temp data folder.
 *
 *   job     per format: a warm-up job of 2,000 patients (not timed), the worker's peak RSS reset,
 *           then POST /v1/jobs {kind:'patients', spec:{count:N, seed, scenario}, output:{format, compression:'gzip'}}
 *           → the first GET answering `completed` with its result (GETs every 250 ms, each also
 *           reading the worker's RSS and the job's progress). Checked: the per-patient table has N
 *           rows in the manifest. The job's files are deleted afterwards.
 *   floor   (the worker idle) the same N patients generated again in this process in chunks of
 *           2,000 and, for FHIR, turned into the same resources (src/kinds/patients/fhir.ts) — NOT
 *           timed; timed: JSON.stringify of every record (a patient, or each resource), joined by
 *           newlines, and gzipSync at level 1 of each chunk, one core. ratio = job s / floor s (target ≤ 2).
 *   memory  the worker's RSS at 10 % of the job's progress and at its end, and its peak (VmHWM):
 *           flat means the 10 % and the end are alike whatever N.
 *
 * Exit code 0 even when a target is missed; 1 when a job fails or a check does not hold.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { delay } from '../src/dev/process.js';
import { patient, patientModel } from '../src/kinds/patients/generate.js';
import { patientBundle, patientResources } from '../src/kinds/patients/fhir.js';
import { normalizeScenario, ROLES, type Role } from '../src/kinds/patients/scenario.js';
import { startBenchStack } from './bench-stack.js';
import { printMarkdownTable, procStatus, resetPeak, startWorker, type WorkerProc } from './trial.js';

const argv = process.argv.slice(2);
function opt(name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}
const FORMATS = ['ndjson', 'fhir-bulk', 'fhir'] as const;
type Format = (typeof FORMATS)[number];
const N = Number(opt('patients') ?? 1_000_000);
const only = (opt('only')?.split(',').map((s) => s.trim()).filter(Boolean) ?? ['ndjson', 'fhir-bulk']) as Format[];
const scenario = opt('scenario') ?? 'article5';
if (!Number.isInteger(N) || N < 1000 || only.some((f) => !FORMATS.includes(f))) {
  process.stderr.write('usage: npm run bench -- patients [--patients N ≥ 1000] [--only ndjson,fhir-bulk,fhir] [--scenario preset]\n');
  process.exit(2);
}
const SEED = 20251201;
const CHUNK = 2000;
const TARGET = 2;
const log = (l: string) => process.stderr.write(`[bench] ${l}\n`);
const f2 = (n: number) => n.toFixed(2);
const mb = (n: number | undefined) => (n === undefined ? '?' : String(Math.round(n)));

interface JobView {
  id: string;
  status: string;
  result?: { rows?: number; manifest?: string } | null;
  error?: unknown;
  progress?: { done?: number; total?: number; shards?: { total?: number } };
}
async function call<T>(base: string, method: string, p: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${base}${p}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: (await res.json().catch(() => ({}))) as T };
}

/** POST → completed; RSS and progress read at every poll. */
async function timedJob(base: string, body: unknown, pid: number) {
  const t0 = performance.now();
  const created = await call<JobView>(base, 'POST', '/v1/jobs', body);
  if (created.status !== 202) throw new Error(`POST /v1/jobs → ${created.status}: ${JSON.stringify(created.json)}`);
  const id = created.json.id;
  let rssAt10: number | undefined;
  let rssMax = 0;
  for (;;) {
    const r = await call<JobView>(base, 'GET', `/v1/jobs/${id}`);
    const st = procStatus(pid);
    if (st) rssMax = Math.max(rssMax, st.rssMb);
    const done = r.json.progress?.done ?? 0;
    if (rssAt10 === undefined && st && done >= N / 10) rssAt10 = st.rssMb;
    if (r.json.status === 'completed' && r.json.result) {
      return { id, seconds: (performance.now() - t0) / 1000, view: r.json, rssAt10, rssEnd: st?.rssMb, rssMax, hwm: st?.hwmMb };
    }
    if (r.json.status === 'failed' || r.json.status === 'cancelled') throw new Error(`job ${id} ${r.json.status}: ${JSON.stringify(r.json.error)}`);
    await delay(250);
  }
}

/** The floor: JSON.stringify + gzip (level 1) of the same records, built first (not timed), chunk by chunk. */
function floor(format: Format): { seconds: number; gzBytes: number; jsonBytes: number } {
  const m = patientModel(normalizeScenario({ preset: scenario as never }));
  const roles: Role[] = ROLES.filter((r) => m.scenario.facilities[r].enabled);
  let ns = 0n;
  let gzBytes = 0;
  let jsonBytes = 0;
  for (let a = 0; a < N; a += CHUNK) {
    const b = Math.min(N, a + CHUNK);
    const records: unknown[] = [];
    for (let i = a; i < b; i++) {
      const p = patient(m, SEED, i);
      if (format === 'ndjson') records.push(p);
      else if (format === 'fhir') records.push(patientBundle(p, SEED, roles));
      else records.push(...patientResources(p, SEED, 'bulk'));
    }
    const t = process.hrtime.bigint();
    const text = records.map((r) => JSON.stringify(r)).join('\n') + '\n';
    const gz = gzipSync(text, { level: 1 });
    ns += process.hrtime.bigint() - t;
    gzBytes += gz.length;
    jsonBytes += Buffer.byteLength(text);
  }
  return { seconds: Number(ns) / 1e9, gzBytes, jsonBytes };
}

/** CPU seconds of a process (user + system, all its threads) from /proc. */
function cpuSeconds(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n += fs.statSync(path.join(e.parentPath, e.name)).size;
  return n;
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-patients-'));
  const dataDir = path.join(tmp, 'data');
  const stack = await startBenchStack('bench-pt', log, { SHARDFLOW_DATA_DIR: dataDir });
  const { server, workerEnv, workerConfig } = stack;
  let worker: WorkerProc | undefined;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await worker?.stop().catch(() => undefined);
    await stack.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void cleanup().then(() => process.exit(130)));

  const cpu = os.cpus();
  log(
    `${cpu.length} CPUs (${cpu[0]?.model ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; worker threads ${workerConfig.worker.threads}, ` +
      `max concurrent activities ${workerConfig.worker.maxConcurrentActivities}; ${N.toLocaleString('en-US')} patients, scenario ${scenario}; load average at start ${os.loadavg()[0]!.toFixed(2)}`,
  );
  const table: string[][] = [];
  let failures = 0;
  try {
    worker = await startWorker(workerEnv);
    for (const format of only) {
      const body = (count: number) => ({ kind: 'patients', spec: { count, seed: SEED, scenario }, output: { format, compression: 'gzip' } });
      const warm = await timedJob(server.url, body(2000), worker.pid);
      fs.rmSync(path.join(dataDir, 'jobs', warm.id), { recursive: true, force: true });
      resetPeak(worker.pid);
      const cpu0 = process.cpuUsage();
      const w0 = cpuSeconds(worker.pid);
      const run = await timedJob(server.url, body(N), worker.pid);
      const workerCpu = cpuSeconds(worker.pid) - w0;
      const manifest = JSON.parse(fs.readFileSync(path.join(dataDir, 'jobs', run.id, 'manifest.json'), 'utf8'));
      const rows = manifest.tables[0].rows;
      if (rows !== N) {
        failures++;
        log(`${format}: the manifest's ${manifest.tables[0].name} has ${rows} rows, not ${N}`);
      }
      const bytes = dirBytes(path.join(dataDir, 'jobs', run.id));
      fs.rmSync(path.join(dataDir, 'jobs', run.id), { recursive: true, force: true });
      const apiCpu = process.cpuUsage(cpu0);
      log(`${format}: job ${f2(run.seconds)} s, ${(bytes / 2 ** 20).toFixed(0)} MB on disk; worker CPU ${workerCpu.toFixed(1)} s; bench+API CPU ${((apiCpu.user + apiCpu.system) / 1e6).toFixed(1)} s; shards ${run.view.progress?.shards?.total ?? '?'}; floor…`);
      const fl = floor(format);
      const ratio = run.seconds / fl.seconds;
      log(`${format}: floor ${f2(fl.seconds)} s (${(fl.jsonBytes / 2 ** 20).toFixed(0)} MB of JSON → ${(fl.gzBytes / 2 ** 20).toFixed(0)} MB gzip)`);
      table.push([
        `${format} + gzip`,
        N.toLocaleString('en-US'),
        f2(run.seconds),
        f2(fl.seconds),
        f2(ratio),
        `≤ ${TARGET}`,
        ratio <= TARGET ? '✓' : '✗',
        Math.round(N / run.seconds).toLocaleString('en-US'),
        String(Math.round((N / run.seconds) * 60).toLocaleString('en-US')),
        workerCpu.toFixed(1),
        mb(run.rssAt10),
        mb(run.rssEnd),
        mb(run.hwm ?? run.rssMax),
        (bytes / 2 ** 20).toFixed(0),
        (fl.gzBytes / 2 ** 20).toFixed(0),
      ]);
    }
  } catch (err) {
    failures++;
    log(`failed: ${(err as Error).stack ?? err}`);
    if (worker) log(`worker output:\n${worker.tail.text()}`);
  } finally {
    await cleanup();
  }
  printMarkdownTable(
    ['scenario', 'patients', 'job s', 'floor s', 'ratio', 'target', '', 'patients/s', 'patients/min', 'worker CPU s', 'worker RSS MB at 10 %', 'at end', 'peak', 'job MB', 'floor MB'],
    table,
  );
  process.exitCode = failures ? 1 : 0;
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
