/**
 * End-to-end benchmark of `trial` jobs: POST /v1/jobs → completed manifest, through the real API,
 * Temporal and a real worker process, on this machine.
 *
 *     npm run bench -- trial [--quick] [--only mvn-10m,csv-10m] [--detail] [--list]
 *                            [--shard-rows N] [--max-parallel N] [--poll-ms 50] [--json out.json]
 *                            [--no-duckdb] [--ref-runs N] [--worker-cpu-prof DIR]
 *
 * Setup: a Temporal dev server (in memory, headless) and an embedded Postgres (fsync off) via
 * startStack — or TEMPORAL_ADDRESS / DATABASE_URL when set — the API in this process (auth off,
 * 127.0.0.1, random port), and per scenario a FRESH worker child process
 * (`node --import tsx src/worker/main.ts`) with its own SHARDFLOW_DATA_DIR on a private task queue.
 * Worker knobs pass through from the environment (WORKER_THREADS, SHARDFLOW_PART_ROWS,
 * WORKER_MAX_CONCURRENT_ACTIVITIES, …).
 *
 * Per scenario: start the worker, wait until it polls (workflow bundling and thread start are NOT
 * timed), run one tiny warm-up job (not timed), reset the worker's peak-RSS counter
 * (/proc/<pid>/clear_refs), then POST the job and poll GET /v1/jobs/{id} every --poll-ms until it
 * is completed. Time = POST sent → the GET that first answers `completed` with its result. Checked: result.rows
 * equals the expected count and manifest.json exists. Peak RSS = the worker's VmHWM (threads share
 * the process, so it covers every shard thread). The job's files are deleted afterwards.
 *
 * Reference: after each Parquet scenario (its worker stopped), DuckDB writes the same row count of
 * the same seven column types to zstd Parquet (bench/duckdb-ref.ts); ratio = shardflow seconds /
 * DuckDB seconds, both measured in this run (--ref-runs N: DuckDB's fastest of N). --no-duckdb skips it.
 *
 * Size reference: for each Parquet scenario, pyarrow (python3, `pyarrow` installed) rewrites each of
 * the job's first PYARROW_PARTS parts — `pq.write_table(pq.read_table(part), out, compression=<the
 * job's codec>)`, pyarrow's defaults otherwise — and size ratio = the parts' bytes / pyarrow's bytes
 * for the same rows (target ≤ 1). Not timed. Without pyarrow the column shows "—" and a line says why.
 *
 * Exit code: 0 even when a target is missed (this prints figures; it is not a test); 1 when a job
 * fails, its row count is wrong or its manifest is missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { defaultPayloadConverter } from '@temporalio/common';
import { loadConfig } from '../src/config.js';
import { createDb } from '../src/db/client.js';
import { createLogger } from '../src/log.js';
import { startApiServer } from '../src/api/server.js';
import { connectTemporal } from '../src/api/temporal.js';
import { collectOutput, delay, exitOf, pickFreePorts, stopChild, trackChild, type OutputTail } from '../src/dev/process.js';
import { startStack, type Stack } from '../src/dev/stack.js';
import { builtInKinds } from '../src/kinds/index.js';
import { openDuckRef, type DuckRef } from './duckdb-ref.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VISITS = 4; // pilot-vitals (and the rules default): Baseline, Week 4, Week 8, Week 12

/* ------------------------------------------------------------------ scenarios */

interface Scenario {
  name: string;
  rows: number;
  method: 'mvn' | 'bootstrap' | 'rules';
  format: 'parquet' | 'csv' | 'ndjson';
  compression?: 'zstd' | 'snappy' | 'gzip' | 'none';
  /** Seconds, POST → completed; undefined: shown for the spread only. */
  target?: number;
  slow?: boolean;
}

/** Target for shardflow seconds / DuckDB seconds (Parquet scenarios). */
const RATIO_TARGET = 0.6;
/** Parts of a Parquet job that pyarrow rewrites for the size ratio. */
const PYARROW_PARTS = 4;

const PYARROW_SIZE = `
import sys, os, pyarrow, pyarrow.parquet as pq
codec, out = sys.argv[1], sys.argv[2]
ours = theirs = 0
for f in sys.argv[3:]:
    pq.write_table(pq.read_table(f), out, compression=codec)
    ours += os.path.getsize(f); theirs += os.path.getsize(out)
    os.remove(out)
print(pyarrow.__version__, ours, theirs)
`;

/** Bytes of the given Parquet files and of pyarrow's rewrite of each with the same codec; undefined (and why) without pyarrow. */
function pyarrowSizes(files: string[], codec: string, tmp: string): { version: string; ours: number; pyarrow: number } | { error: string } {
  const r = spawnSync('python3', ['-c', PYARROW_SIZE, codec, path.join(tmp, 'pyarrow-ref.parquet'), ...files], { encoding: 'utf8' });
  if (r.status !== 0) return { error: (r.stderr || String(r.error ?? 'python3 failed')).trim().split('\n').pop()! };
  const [version, ours, theirs] = r.stdout.trim().split(' ');
  return { version: version!, ours: Number(ours), pyarrow: Number(theirs) };
}

const SCENARIOS: Scenario[] = [
  { name: 'small-10k', rows: 10_000, method: 'mvn', format: 'parquet', target: 1 },
  { name: 'mvn-1m', rows: 1_000_000, method: 'mvn', format: 'parquet', target: 1.5 },
  { name: 'mvn-10m', rows: 10_000_000, method: 'mvn', format: 'parquet', target: 6 },
  { name: 'bootstrap-10m', rows: 10_000_000, method: 'bootstrap', format: 'parquet' },
  { name: 'rules-10m', rows: 10_000_000, method: 'rules', format: 'parquet' },
  // The other codecs: size against pyarrow and time against DuckDB, each with the same codec.
  { name: 'mvn-10m-gzip', rows: 10_000_000, method: 'mvn', format: 'parquet', compression: 'gzip' },
  { name: 'mvn-10m-snappy', rows: 10_000_000, method: 'mvn', format: 'parquet', compression: 'snappy' },
  { name: 'csv-10m', rows: 10_000_000, method: 'mvn', format: 'csv' },
  { name: 'ndjson-10m', rows: 10_000_000, method: 'mvn', format: 'ndjson' },
  { name: 'mvn-100m', rows: 100_000_000, method: 'mvn', format: 'parquet', target: 45, slow: true },
];

/* ------------------------------------------------------------------ args */

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
function opt(name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}
const quick = flag('quick');
const detail = flag('detail');
const verbose = flag('verbose');
const only = opt('only')?.split(',').map((s) => s.trim()).filter(Boolean);
const shardRowsOverride = opt('shard-rows') ? Number(opt('shard-rows')) : undefined;
const maxParallelOverride = opt('max-parallel') ? Number(opt('max-parallel')) : undefined;
const pollMs = Number(opt('poll-ms') ?? 50);
const jsonOut = opt('json');
const useDuck = !flag('no-duckdb');
const refRuns = Math.max(1, Number(opt('ref-runs') ?? 1));
/** node --cpu-prof for the worker child (every thread writes a .cpuprofile into DIR when it exits). */
const workerCpuProf = opt('worker-cpu-prof');

// Imported by bench/worker-rss.ts for its helpers: only the script run directly lists or runs scenarios.
const isMain = process.argv[1] === fileURLToPath(import.meta.url);

if (isMain && flag('list')) {
  for (const s of SCENARIOS) {
    console.log(`${s.name.padEnd(14)} ${String(s.rows).padStart(11)} rows  ${s.method.padEnd(9)} ${s.format}${s.target ? `  target ≤ ${s.target} s` : ''}${s.slow ? '  (skipped by --quick)' : ''}`);
  }
  process.exit(0);
}

const chosen = SCENARIOS.filter((s) => (only ? only.includes(s.name) : !(quick && s.slow)));
if (isMain && only) {
  const unknown = only.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length) {
    console.error(`unknown scenario(s): ${unknown.join(', ')} (see --list)`);
    process.exit(2);
  }
}

/* ------------------------------------------------------------------ /proc helpers */

export function procStatus(pid: number): { hwmMb: number; rssMb: number } | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    return { hwmMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
  } catch {
    return undefined;
  }
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0). */
export function resetPeak(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

const TICK = 100; // USER_HZ on Linux

function statTimes(file: string): { name: string; cpu: number } | undefined {
  try {
    const text = fs.readFileSync(file, 'utf8');
    const close = text.lastIndexOf(')');
    const name = text.slice(text.indexOf('(') + 1, close);
    const f = text.slice(close + 2).split(' ');
    // fields after ")": state(0) … utime(11) stime(12)
    return { name, cpu: (Number(f[11]) + Number(f[12])) / TICK };
  } catch {
    return undefined;
  }
}

/** Seconds a thread spent runnable but waiting for a CPU (run-queue delay), from schedstat. */
function runDelay(file: string): number {
  try {
    return Number(fs.readFileSync(file, 'utf8').split(' ')[1]) / 1e9;
  } catch {
    return 0;
  }
}

interface ThreadStat {
  name: string;
  cpu: number;
  /** Run-queue wait, seconds. */
  wait: number;
}

/** CPU seconds per thread of a process: tid → { name, cpu, wait }. */
function threadTimes(pid: number): Map<number, ThreadStat> {
  const out = new Map<number, ThreadStat>();
  let tids: string[] = [];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tids) {
    const s = statTimes(`/proc/${pid}/task/${t}/stat`);
    if (s) out.set(Number(t), { ...s, wait: runDelay(`/proc/${pid}/task/${t}/schedstat`) });
  }
  return out;
}

/** Machine-wide busy and total CPU seconds (all cores) from /proc/stat. */
function machineCpu(): { busy: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0) / TICK;
  const idle = ((v[3] ?? 0) + (v[4] ?? 0)) / TICK;
  return { busy: total - idle, total };
}

const load1 = () => os.loadavg()[0]!;

/* ------------------------------------------------------------------ worker child */

export interface WorkerProc {
  child: ChildProcess;
  pid: number;
  tail: OutputTail;
  stop(): Promise<void>;
}

export async function startWorker(env: NodeJS.ProcessEnv, args = ['--import', 'tsx', path.join(ROOT, 'src/worker/main.ts')]): Promise<WorkerProc> {
  const prof = workerCpuProf ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(workerCpuProf)] : [];
  // BENCH_WORKER_NODE_ARGS: node options for the worker child only (V8 flags NODE_OPTIONS refuses, e.g. --single-threaded-gc).
  const extra = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...extra, ...prof, ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  trackChild(child, 'SIGKILL');
  let polling!: () => void;
  const ready = new Promise<void>((r) => (polling = r));
  const tail = collectOutput(child, {
    tail: 60,
    onLine: (line) => {
      if (verbose) process.stderr.write(`  [worker] ${line}\n`);
      if (line.includes('worker polling')) polling();
    },
  });
  const exited = exitOf(child);
  const t0 = Date.now();
  const giveUp = new AbortController();
  const ok = await Promise.race([ready.then(() => true), exited.then(() => false), delay(120_000, giveUp.signal).then(() => false)]);
  giveUp.abort(); // no timer may keep the process alive afterwards
  if (!ok) {
    await stopChild(child, ['SIGKILL'], 5_000);
    throw new Error(`worker did not start polling (${((Date.now() - t0) / 1000).toFixed(1)} s):\n${tail.text()}`);
  }
  return {
    child,
    pid: child.pid!,
    tail,
    stop: async () => {
      // Its graceful drain is not what this measures: 5 s, then SIGKILL.
      await stopChild(child, ['SIGTERM', 'SIGKILL'], 5_000);
    },
  };
}

/* ------------------------------------------------------------------ API client */

interface JobView {
  id: string;
  status: string;
  result?: { rows: number; manifest: string } | null;
  error?: { type: string; message: string } | null;
  progress?: { shards?: { total: number } };
}

async function api<T>(base: string, method: string, p: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = { raw: text };
  }
  return { status: res.status, json };
}

function jobBody(s: Pick<Scenario, 'rows' | 'method' | 'format' | 'compression'>, partitioning?: { shardRows?: number; maxParallelShards?: number }) {
  if (s.rows % (2 * VISITS) !== 0) throw new Error(`rows ${s.rows} is not a multiple of ${2 * VISITS}`);
  return {
    kind: 'trial',
    spec: { method: s.method, nPerArm: s.rows / (2 * VISITS), seed: 20240601 },
    output: { format: s.format, ...(s.compression ? { compression: s.compression } : {}) },
    ...(partitioning && Object.keys(partitioning).length ? { partitioning } : {}),
  };
}

/**
 * POST, then poll until a terminal status. Returns seconds from POST to the completed answer.
 * With `settled` (e.g. the Temporal client's workflow result), that is awaited first and the GETs
 * start after it: no polling load on the API, Temporal and the worker while the job runs.
 */
export async function runJob(
  base: string,
  body: unknown,
  timeoutMs: number,
  settled?: (id: string) => Promise<unknown>,
): Promise<{ id: string; seconds: number; view: JobView; postMs: number }> {
  const t0 = performance.now();
  const created = await api<JobView>(base, 'POST', '/v1/jobs', body);
  const postMs = performance.now() - t0;
  if (created.status !== 202) throw new Error(`POST /v1/jobs → ${created.status}: ${JSON.stringify(created.json)}`);
  const id = created.json.id;
  if (settled) await settled(id).catch(() => undefined); // a failure is reported by the GET below
  for (;;) {
    const r = await api<JobView>(base, 'GET', `/v1/jobs/${id}`);
    if (r.status !== 200) throw new Error(`GET /v1/jobs/${id} → ${r.status}: ${JSON.stringify(r.json)}`);
    const v = r.json;
    // A GET can read the job row before the workflow's result is stored and Temporal's "completed"
    // after it (an API race): such an answer has no result yet, so polling goes on.
    if (v.status === 'completed' && v.result) return { id, seconds: (performance.now() - t0) / 1000, view: v, postMs };
    if (v.status === 'failed' || v.status === 'cancelled') {
      throw new Error(`job ${id} ${v.status}: ${JSON.stringify(v.error)}`);
    }
    if (performance.now() - t0 > timeoutMs) throw new Error(`job ${id} not completed after ${timeoutMs / 1000} s (status ${v.status})`);
    await delay(pollMs);
  }
}

/* ------------------------------------------------------------------ Temporal history breakdown */

const num = (v: unknown): number => (v == null ? 0 : typeof v === 'number' ? v : Number(String(v)));
const ms = (t: any): number => (t ? num(t.seconds) * 1000 + num(t.nanos) / 1e6 : 0);

interface Breakdown {
  /** ms from the workflow start event. */
  planStart: number;
  planEnd: number;
  firstShardScheduled: number;
  lastShardDone: number;
  finalizeStart: number;
  finalizeEnd: number;
  workflowEnd: number;
  shardCount: number;
  /** Activity durations (started → completed), ms; these include waiting for a free thread. */
  shardMs: number[];
  /** Scheduled → started, ms. */
  shardQueueMs: number[];
  /** Completed → next shard scheduled, ms (the workflow task round trip). */
  dispatchGapMs: number[];
  workflowStartMs: number;
}

async function historyBreakdown(client: any, id: string): Promise<Breakdown | undefined> {
  let history: any;
  try {
    history = await client.workflow.getHandle(id).fetchHistory();
  } catch {
    return undefined;
  }
  const events: any[] = history.events ?? [];
  const byId = new Map<number, any>();
  for (const e of events) byId.set(num(e.eventId), e);
  const wfStart = ms(events[0]?.eventTime);
  const rel = (e: any) => ms(e?.eventTime) - wfStart;
  const sched = new Map<number, { type: string; at: number; shard?: number }>();
  const started = new Map<number, number>();
  const b: Breakdown = {
    planStart: 0, planEnd: 0, firstShardScheduled: Infinity, lastShardDone: 0, finalizeStart: 0, finalizeEnd: 0,
    workflowEnd: 0, shardCount: 0, shardMs: [], shardQueueMs: [], dispatchGapMs: [], workflowStartMs: wfStart,
  };
  const shardCompletions: number[] = [];
  const shardSchedules: number[] = [];
  for (const e of events) {
    const a = e.activityTaskScheduledEventAttributes;
    if (a) {
      const type = a.activityType?.name as string;
      let shard: number | undefined;
      if (type === 'runShard') {
        try {
          shard = (defaultPayloadConverter.fromPayload(a.input.payloads[0]) as any)?.shardIndex;
        } catch {
          /* ignore */
        }
        b.firstShardScheduled = Math.min(b.firstShardScheduled, rel(e));
        shardSchedules.push(rel(e));
      }
      sched.set(num(e.eventId), { type, at: rel(e), shard });
      continue;
    }
    const s = e.activityTaskStartedEventAttributes;
    if (s) {
      started.set(num(s.scheduledEventId), rel(e));
      continue;
    }
    const c = e.activityTaskCompletedEventAttributes;
    if (c) {
      const sc = sched.get(num(c.scheduledEventId));
      const st = started.get(num(c.scheduledEventId)) ?? 0;
      if (!sc) continue;
      if (sc.type === 'planJob') {
        b.planStart = st;
        b.planEnd = rel(e);
      } else if (sc.type === 'finalizeJob') {
        b.finalizeStart = st;
        b.finalizeEnd = rel(e);
      } else if (sc.type === 'runShard') {
        b.shardCount++;
        b.shardMs.push(rel(e) - st);
        b.shardQueueMs.push(st - sc.at);
        b.lastShardDone = Math.max(b.lastShardDone, rel(e));
        shardCompletions.push(rel(e));
      }
      continue;
    }
    if (e.workflowExecutionCompletedEventAttributes) b.workflowEnd = rel(e);
  }
  // For each shard scheduled after the first wave: the gap since the completion that freed its slot.
  shardSchedules.sort((x, y) => x - y);
  shardCompletions.sort((x, y) => x - y);
  const wave = shardSchedules.filter((t) => t - shardSchedules[0]! < 5).length;
  for (let i = wave; i < shardSchedules.length; i++) {
    const freedBy = shardCompletions[i - wave];
    if (freedBy !== undefined) b.dispatchGapMs.push(shardSchedules[i]! - freedBy);
  }
  if (b.firstShardScheduled === Infinity) b.firstShardScheduled = 0;
  return b;
}

/* ------------------------------------------------------------------ main */

interface Result {
  scenario: string;
  rows: number;
  seconds: number;
  rowsPerSec: number;
  peakRssMb: number;
  rssAfterWarmMb: number;
  target?: number;
  pass?: boolean;
  shards: number;
  shardRows: number;
  mb: number;
  files: number;
  workerCpuS: number;
  otherCpuS: number;
  load1Before: number;
  load1After: number;
  threads: ThreadStat[];
  selfCpuS: number;
  temporalCpuS: number;
  breakdown?: Breakdown;
  postMs: number;
  /** DuckDB's COPY of the same rows, seconds (Parquet scenarios). */
  duckdbS?: number;
  /** seconds / duckdbS. */
  ratio?: number;
  /** CPU seconds DuckDB used for it. */
  duckdbCpuS?: number;
  /** (worker + bench/API + Temporal CPU s) / duckdbCpuS. */
  cpuRatio?: number;
  /** Bytes of the first PYARROW_PARTS parts / pyarrow's bytes for the same rows and codec (Parquet scenarios). */
  sizeRatio?: number;
  pyarrowVersion?: string;
}

const f1 = (n: number) => n.toFixed(1);
const f2 = (n: number) => n.toFixed(2);
const f3 = (n: number) => n.toFixed(3);
const mean = (a: number[]) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : 0);

function fmtRate(r: number): string {
  return r >= 1e6 ? `${(r / 1e6).toFixed(2)}M` : `${(r / 1e3).toFixed(0)}K`;
}

async function main(): Promise<void> {
  const logLine = (l: string) => process.stderr.write(`[bench] ${l}\n`);
  const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-bench-'));
  fs.chmodSync(tmpRoot, 0o755); // the embedded Postgres runs as `postgres` when we are root
  const dataDir = path.join(tmpRoot, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const taskQueue = `bench-${randomBytes(4).toString('hex')}`;
  const namespace = process.env.TEMPORAL_NAMESPACE || 'default';

  const [temporalPort, pgPort] = await pickFreePorts(2);
  const t0 = Date.now();
  const stack: Stack = await startStack({
    namespace,
    env: process.env,
    log: (l) => logLine(l),
    temporal: process.env.TEMPORAL_ADDRESS
      ? { address: process.env.TEMPORAL_ADDRESS }
      : { embedded: { port: temporalPort!, uiPort: null, dbFile: null, logFile: path.join(tmpRoot, 'temporal.log') } },
    database: process.env.DATABASE_URL
      ? { url: process.env.DATABASE_URL }
      : { embedded: { dataDir: path.join(tmpRoot, 'postgres'), port: pgPort!, fast: true, logFile: path.join(tmpRoot, 'postgres.log') } },
  });
  logLine(`stack ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (task queue ${taskQueue}, data ${dataDir})`);

  const common: Record<string, string> = {
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_NAMESPACE: namespace,
    TEMPORAL_TASK_QUEUE: taskQueue,
    DATABASE_URL: stack.databaseUrl,
    SHARDFLOW_DATA_DIR: dataDir,
    SHARDFLOW_DEMO: 'off',
  };
  const config = loadConfig({ ...process.env, ...common, HOST: '127.0.0.1', PORT: '0', SHARDFLOW_AUTH: 'off', LOG_LEVEL: 'silent' });
  const logger = createLogger(config, 'bench-api');
  const db = createDb(config.database.url!, { max: 4, applicationName: 'shardflow-bench-api' });
  const temporal = await connectTemporal(config, logger, 30_000);
  const server = await startApiServer(config, { config, db, kinds: builtInKinds, temporal, logger }, { handleSignals: false, gracePeriodMs: 1000 });
  logLine(`API at ${server.url} (auth off)`);
  const refDir = path.join(tmpRoot, 'duckdb');
  fs.mkdirSync(refDir, { recursive: true });
  const duck: DuckRef | undefined = useDuck && chosen.some((s) => s.format === 'parquet') ? await openDuckRef(refDir, logLine) : undefined;
  if (duck) logLine(`reference: ${duck.engine}`);

  const workerEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ...common,
    WORKER_METRICS_PORT: '0',
    LOG_LEVEL: process.env.LOG_LEVEL || 'info',
  };
  const workerConfig = loadConfig(workerEnv);

  let cleanedUp = false;
  let currentWorker: WorkerProc | undefined;
  const cleanup = async () => {
    if (cleanedUp) return;
    cleanedUp = true;
    const c0 = Date.now();
    await currentWorker?.stop().catch(() => undefined);
    await server.close().catch(() => undefined);
    await stack.stop().catch(() => undefined);
    duck?.close();
    logLine(`stopped the API and the stack in ${((Date.now() - c0) / 1000).toFixed(1)} s`);
    fs.rmSync(tmpRoot, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      logLine(`${sig}: stopping`);
      void cleanup().then(() => process.exit(130));
    });
  }

  const results: Result[] = [];
  let failures = 0;
  const header =
    `# ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; ` +
    `worker threads ${workerConfig.worker.threads}, part rows ${workerConfig.worker.partRows}, ` +
    `max concurrent activities ${workerConfig.worker.maxConcurrentActivities}; poll ${pollMs} ms` +
    (shardRowsOverride ? `; shardRows ${shardRowsOverride}` : '') +
    (maxParallelOverride ? `; maxParallelShards ${maxParallelOverride}` : '') +
    `; reference ${duck?.engine ?? 'none'}${duck && refRuns > 1 ? `, fastest of ${refRuns}` : ''}`;
  console.log(header);

  try {
    for (const s of chosen) {
      const worker = await startWorker(workerEnv);
      currentWorker = worker;
      let result: Result | undefined;
      try {
        // Warm-up (not timed): two small shards so both threads and the workflow cache have run once.
        const warm = await runJob(server.url, jobBody({ rows: 8000, method: s.method, format: s.format }, { shardRows: 4000 }), 120_000);
        fs.rmSync(path.join(dataDir, 'jobs', warm.id), { recursive: true, force: true });
        await delay(300);
        const peakReset = resetPeak(worker.pid);
        const rssAfterWarm = procStatus(worker.pid)?.rssMb ?? 0;
        const partitioning: { shardRows?: number; maxParallelShards?: number } = {};
        if (shardRowsOverride) partitioning.shardRows = shardRowsOverride;
        if (maxParallelOverride) partitioning.maxParallelShards = maxParallelOverride;

        let sampledPeak = 0;
        const sampler = setInterval(() => {
          const st = procStatus(worker.pid);
          if (st) sampledPeak = Math.max(sampledPeak, st.rssMb);
        }, 100);
        const threads0 = threadTimes(worker.pid);
        const machine0 = machineCpu();
        const self0 = process.cpuUsage();
        const temporal0 = stack.temporal ? statTimes(`/proc/${stack.temporal.pid}/stat`)?.cpu ?? 0 : 0;
        const loadBefore = load1();
        logLine(`${s.name}: ${s.rows} rows (${s.method}, ${s.format}) — load ${f2(loadBefore)}`);

        let run: Awaited<ReturnType<typeof runJob>>;
        try {
          const died = exitOf(worker.child).then((e) => {
            throw new Error(`the worker exited during the job (code ${e.code}, signal ${e.signal})`);
          });
          died.catch(() => undefined); // the planned stop after the job must not count as a rejection
          run = await Promise.race([runJob(server.url, jobBody(s, partitioning), 30 * 60_000), died]);
        } finally {
          clearInterval(sampler);
        }
        const threads1 = threadTimes(worker.pid);
        const machine1 = machineCpu();
        const self = process.cpuUsage(self0);
        const temporal1 = stack.temporal ? statTimes(`/proc/${stack.temporal.pid}/stat`)?.cpu ?? 0 : 0;
        const st = procStatus(worker.pid);
        const peak = Math.max(peakReset ? (st?.hwmMb ?? 0) : 0, sampledPeak);

        // Checks.
        const manifestPath = path.join(dataDir, 'jobs', run.id, 'manifest.json');
        let manifest: any;
        try {
          manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
        } catch (err) {
          throw new Error(`${s.name}: manifest.json missing or unreadable at ${manifestPath}: ${(err as Error).message}`);
        }
        if (run.view.result?.rows !== s.rows) throw new Error(`${s.name}: result.rows ${run.view.result?.rows}, expected ${s.rows}`);
        if (manifest.rows !== s.rows) throw new Error(`${s.name}: manifest rows ${manifest.rows}, expected ${s.rows}`);

        const perThread: ThreadStat[] = [];
        let workerCpu = 0;
        for (const [tid, t] of threads1) {
          const d = t.cpu - (threads0.get(tid)?.cpu ?? 0);
          workerCpu += d;
          const w = t.wait - (threads0.get(tid)?.wait ?? 0);
          if (d > 0.05) perThread.push({ name: tid === worker.pid ? `${t.name}(main)` : t.name, cpu: d, wait: w });
        }
        perThread.sort((a, b) => b.cpu - a.cpu);
        const busy = machine1.busy - machine0.busy;
        const otherCpu = busy - workerCpu - (self.user + self.system) / 1e6 - (temporal1 - temporal0);
        const breakdown = await historyBreakdown(temporal.client, run.id);

        const r: Result = {
          scenario: s.name,
          rows: s.rows,
          seconds: run.seconds,
          rowsPerSec: s.rows / run.seconds,
          peakRssMb: peak,
          rssAfterWarmMb: rssAfterWarm,
          target: s.target,
          pass: s.target === undefined ? undefined : run.seconds <= s.target,
          shards: (manifest.partitioning?.shardRows ? Math.ceil(s.rows / manifest.partitioning.shardRows) : breakdown?.shardCount) ?? 0,
          shardRows: manifest.partitioning?.shardRows ?? 0,
          mb: (manifest.bytes ?? 0) / 1e6,
          files: manifest.tables?.[0]?.files?.length ?? 0,
          workerCpuS: workerCpu,
          otherCpuS: Math.max(0, otherCpu),
          load1Before: loadBefore,
          load1After: load1(),
          threads: perThread.slice(0, 8),
          selfCpuS: (self.user + self.system) / 1e6,
          temporalCpuS: temporal1 - temporal0,
          breakdown,
          postMs: run.postMs,
        };
        results.push(r);
        result = r;
        logLine(
          `${s.name}: ${f2(r.seconds)} s, ${fmtRate(r.rowsPerSec)} rows/s, peak RSS ${r.peakRssMb.toFixed(0)} MB, ` +
            `worker CPU ${f1(workerCpu)} s, other CPU ${f1(r.otherCpuS)} s, load ${f2(r.load1After)}`,
        );
        if (detail) printDetail(r);
        if (s.format === 'parquet') {
          const parts = (manifest.tables?.[0]?.files ?? []).slice(0, PYARROW_PARTS).map((f: { name: string }) => path.join(dataDir, 'jobs', run.id, f.name));
          const sz = pyarrowSizes(parts, s.compression ?? 'zstd', tmpRoot);
          if ('error' in sz) logLine(`${s.name}: no pyarrow size ratio (${sz.error})`);
          else {
            r.sizeRatio = sz.ours / sz.pyarrow;
            r.pyarrowVersion = sz.version;
            logLine(`${s.name}: ${parts.length} parts ${sz.ours} bytes, pyarrow ${sz.version} ${sz.pyarrow} bytes (${s.compression ?? 'zstd'}) → size ratio ${f3(r.sizeRatio)}`);
          }
        }
        fs.rmSync(path.join(dataDir, 'jobs', run.id), { recursive: true, force: true });
      } catch (err) {
        failures++;
        logLine(`${s.name}: FAILED: ${(err as Error).message}\n--- worker output (tail) ---\n${worker.tail.text()}`);
        // the job's files, if any
        for (const d of fs.readdirSync(path.join(dataDir, 'jobs'), { withFileTypes: true })) {
          fs.rmSync(path.join(dataDir, 'jobs', d.name), { recursive: true, force: true });
        }
      } finally {
        const w0 = Date.now();
        await worker.stop();
        currentWorker = undefined;
        if (verbose) logLine(`worker stopped in ${((Date.now() - w0) / 1000).toFixed(1)} s`);
      }
      if (result && duck && s.format === 'parquet') {
        // Same run, worker stopped: DuckDB writes the same rows; only the COPY is timed.
        const l0 = load1();
        let ref = await duck.run(s.rows, s.compression ?? 'zstd');
        for (let k = 1; k < refRuns; k++) {
          const again = await duck.run(s.rows, s.compression ?? 'zstd');
          if (again.seconds < ref.seconds) ref = again;
        }
        result.duckdbS = ref.seconds;
        result.duckdbCpuS = ref.cpuSeconds;
        result.ratio = result.seconds / ref.seconds;
        result.cpuRatio = (result.workerCpuS + result.selfCpuS + result.temporalCpuS) / ref.cpuSeconds;
        logLine(
          `${s.name}: DuckDB ${f2(ref.seconds)} s, ${f1(ref.cpuSeconds)} CPU-s (load ${f2(l0)} → ${f2(load1())}) → ratio ${f2(result.ratio)}, CPU ratio ${f2(result.cpuRatio)}`,
        );
      }
    }
  } finally {
    printTable(results);
    if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify({ date: new Date().toISOString(), header, results }, null, 2));
    await cleanup();
  }
  if (failures) {
    console.error(`${failures} scenario(s) failed`);
    process.exitCode = 1;
  }
}

function printDetail(r: Result): void {
  const b = r.breakdown;
  const lines: string[] = [];
  lines.push(`    shards ${r.shards} × ${r.shardRows} rows, ${r.files} files, ${f1(r.mb)} MB; POST answered in ${r.postMs.toFixed(0)} ms`);
  if (b) {
    lines.push(
      `    timeline (s from workflow start): plan ${f2(b.planStart / 1000)}–${f2(b.planEnd / 1000)}, shards ${f2(b.firstShardScheduled / 1000)}–${f2(b.lastShardDone / 1000)}, ` +
        `finalize ${f2(b.finalizeStart / 1000)}–${f2(b.finalizeEnd / 1000)}, workflow done ${f2(b.workflowEnd / 1000)}`,
    );
    if (b.shardMs.length) {
      lines.push(
        `    shard activity ms (incl. wait for a thread): mean ${mean(b.shardMs).toFixed(0)}, min ${Math.min(...b.shardMs).toFixed(0)}, max ${Math.max(...b.shardMs).toFixed(0)}; ` +
          `schedule→start mean ${mean(b.shardQueueMs).toFixed(0)} ms; completion→next schedule mean ${mean(b.dispatchGapMs).toFixed(0)} ms`,
      );
    }
    const shardPhase = (b.lastShardDone - b.firstShardScheduled) / 1000;
    const top = r.threads.filter((t) => !t.name.endsWith('(main)')).slice(0, 2);
    const shardThreadCpu = top.reduce((n, t) => n + t.cpu, 0);
    const shardThreadWait = top.reduce((n, t) => n + t.wait, 0);
    lines.push(
      `    shard phase ${f2(shardPhase)} s; worker CPU ${f1(r.workerCpuS)} s (= ${f2(r.workerCpuS / Math.max(0.01, r.seconds))} cores over the job); ` +
        `the 2 busiest threads (shard threads): ${f1(shardThreadCpu)} s on CPU, ${f1(shardThreadWait)} s waiting for a CPU, ` +
        `${f1(Math.max(0, 2 * shardPhase - shardThreadCpu - shardThreadWait))} s blocked/idle, of 2 × ${f2(shardPhase)} s`,
    );
  }
  lines.push(`    worker threads (CPU s / run-queue wait s): ${r.threads.map((t) => `${t.name} ${f2(t.cpu)}/${f2(t.wait)}`).join(', ')}`);
  lines.push(
    `    CPU s during the job: worker ${f1(r.workerCpuS)}, bench+API ${f1(r.selfCpuS)}, Temporal ${f1(r.temporalCpuS)}, other processes ${f1(r.otherCpuS)}; ` +
      `load ${f2(r.load1Before)} → ${f2(r.load1After)}`,
  );
  console.log(lines.join('\n'));
}

function printTable(results: Result[]): void {
  if (!results.length) return;
  const rows = results.map((r) => [
    r.scenario,
    r.rows.toLocaleString('en-US'),
    f2(r.seconds),
    r.duckdbS === undefined ? '—' : f2(r.duckdbS),
    r.ratio === undefined ? '—' : `${f2(r.ratio)}${r.scenario.startsWith('mvn-') && r.rows >= 1e7 ? (r.ratio <= RATIO_TARGET ? ' ✓' : ' ✗') : ''}`,
    r.cpuRatio === undefined ? '—' : f2(r.cpuRatio),
    r.sizeRatio === undefined ? '—' : `${f3(r.sizeRatio)}${r.sizeRatio <= 1 ? ' ✓' : ' ✗'}`,
    fmtRate(r.rowsPerSec),
    r.peakRssMb.toFixed(0),
    r.target === undefined ? '—' : `≤ ${r.target} s`,
    r.pass === undefined ? '—' : r.pass ? 'PASS' : 'MISS',
    `${r.shards}×${r.shardRows >= 1e6 ? `${r.shardRows / 1e6}M` : `${r.shardRows / 1e3}K`}`,
    f1(r.workerCpuS),
    `${f2(r.load1Before)}/${f1(r.otherCpuS)}`,
  ]);
  const head = ['scenario', 'rows', 'seconds', 'duckdb s', 'ratio', 'CPU ratio', 'size / pyarrow', 'rows/s', 'peak RSS MB', 'target', 'result', 'shards', 'worker CPU s', 'load1/other CPU s'];
  printMarkdownTable(head, rows);
  const one = results.find((r) => r.scenario === 'mvn-1m');
  const hundred = results.find((r) => r.scenario === 'mvn-100m');
  if (one && hundred) {
    const ratio = hundred.peakRssMb / one.peakRssMb;
    const r3 = Math.round(ratio * 1000) / 1000;
    console.log(
      `\nworker peak RSS 100M / 1M = ${hundred.peakRssMb.toFixed(0)} / ${one.peakRssMb.toFixed(0)} MB = ${r3.toFixed(3)} (target ≤ 1.2): ${ratio <= 1.2 ? 'PASS' : 'MISS'}`,
    );
  }
  console.log(
    '\nTimes: POST /v1/jobs sent → first GET answering "completed" (polled every ' +
      `${pollMs} ms). Not timed: stack start, worker start (workflow bundling, thread start) and one warm-up job per worker. ` +
      'Peak RSS: the worker process (all its threads), reset after the warm-up. load1/other CPU s: 1-min load average before the job / ' +
      'CPU seconds used during the job by processes other than the worker, this bench+API and Temporal (noise). ' +
      `duckdb s: DuckDB's COPY of the same rows to Parquet with the scenario's codec (zstd unless named), same run; ratio = seconds / duckdb s (target ≤ ${RATIO_TARGET} at 10M and 100M, ✓/✗); ` +
      'CPU ratio = CPU seconds of worker + bench/API + Temporal during the job / CPU seconds of DuckDB during its COPY. ' +
      `size / pyarrow = bytes of the job's first ${PYARROW_PARTS} parts / bytes pyarrow writes for the same rows with the same codec (target ≤ 1, ✓/✗).`,
  );
}

if (isMain) main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});

/** Prints a Markdown table: the first column left-aligned, the others right-aligned. */
export function printMarkdownTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log('');
  console.log(line(head));
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}
