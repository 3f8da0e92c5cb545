/**
 * Worker memory from TypeScript sources vs compiled JavaScript, in the same run:
 *
 *     npm run bench -- worker-rss [--rounds N] [--no-build] [--verbose]
 *
 *   sources   node --import tsx src/worker/main.ts   (tsx in the main thread and every shard thread)
 *   compiled  node dist/worker/main.js               (`npm run build` first, into dist/, unless --no-build)
 *
 * One stack (startTestStack: Temporal dev server in memory, embedded Postgres; or TEMPORAL_ADDRESS /
 * DATABASE_URL), the API in this process, and per round a fresh worker of each kind on a private
 * task queue, one after the other. Per worker:
 *   idle       VmRSS once the worker logged "worker polling" and its RSS settled (≤ 2 MB spread
 *              over 2 s of samples); `start peak` is VmHWM then (includes the workflow bundling);
 *   job peak   VmHWM reset (/proc/<pid>/clear_refs) before, read after the same 10M-row job:
 *              mvn, 1,250,000 per arm, seed 7, Parquet zstd (also sampled from VmRSS every 100 ms).
 * Worker knobs come from the environment (WORKER_THREADS defaults to the CPU count). Checked: the
 * job completes with 10M rows and every worker's manifest has the same digest. Exit 1 on a failure.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { createDb } from '../src/db/client.js';
import { createLogger } from '../src/log.js';
import { startApiServer } from '../src/api/server.js';
import { connectTemporal } from '../src/api/temporal.js';
import { delay } from '../src/dev/process.js';
import { builtInKinds } from '../src/kinds/index.js';
import { build } from '../scripts/build.js';
import { startTestStack, uniqueTaskQueue } from '../test/support/stack.js';
import { printMarkdownTable, procStatus, resetPeak, runJob, startWorker, type WorkerProc } from './trial.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
let rounds = 1;
let noBuild = false;
for (let i = 0, a = process.argv.slice(2); i < a.length; i++) {
  if (a[i] === '--rounds') rounds = Number(a[++i]);
  else if (a[i] === '--no-build') noBuild = true;
  else if (a[i] !== '--verbose') rounds = NaN; // --verbose: read by bench/trial.ts (worker log lines)
}
if (!Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write('usage: npm run bench -- worker-rss [--rounds N] [--no-build] [--verbose]\n');
  process.exit(2);
}

const JOB = { kind: 'trial', spec: { method: 'mvn', nPerArm: 1_250_000, seed: 7 }, output: { format: 'parquet', compression: 'zstd' } };
const ROWS = 10_000_000;

const VARIANTS = [
  { name: 'sources (tsx)', args: ['--import', 'tsx', path.join(ROOT, 'src/worker/main.ts')] },
  { name: 'compiled (dist)', args: [path.join(ROOT, 'dist/worker/main.js')] },
] as const;

interface Sample {
  variant: string;
  idleMb: number;
  settled: boolean;
  startPeakMb: number;
  jobPeakMb: number;
  seconds: number;
  digest: string;
}

const log = (l: string) => process.stderr.write(`[bench] ${l}\n`);

/** VmRSS every 250 ms until the last 2 s of samples lie within 2 MB (or 30 s passed). */
async function settledRss(pid: number): Promise<{ mb: number; settled: boolean }> {
  const samples: number[] = [];
  const deadline = Date.now() + 30_000;
  for (;;) {
    samples.push(procStatus(pid)?.rssMb ?? 0);
    const last = samples.slice(-9);
    if (last.length === 9 && Math.max(...last) - Math.min(...last) <= 2) return { mb: last[last.length - 1]!, settled: true };
    if (Date.now() > deadline) return { mb: samples[samples.length - 1]!, settled: false };
    await delay(250);
  }
}

async function measure(worker: WorkerProc, variant: string, base: string, dataDir: string): Promise<Sample> {
  const idle = await settledRss(worker.pid);
  const startPeakMb = procStatus(worker.pid)?.hwmMb ?? 0;
  const reset = resetPeak(worker.pid);
  let sampled = 0;
  const sampler = setInterval(() => (sampled = Math.max(sampled, procStatus(worker.pid)?.rssMb ?? 0)), 100);
  let run: Awaited<ReturnType<typeof runJob>>;
  try {
    run = await runJob(base, JOB, 10 * 60_000);
  } finally {
    clearInterval(sampler);
  }
  const jobPeakMb = Math.max(reset ? (procStatus(worker.pid)?.hwmMb ?? 0) : 0, sampled);
  const jobDir = path.join(dataDir, 'jobs', run.id);
  try {
    if (run.view.result?.rows !== ROWS) throw new Error(`${variant}: result.rows ${run.view.result?.rows}, expected ${ROWS}`);
    const manifest = JSON.parse(fs.readFileSync(path.join(jobDir, 'manifest.json'), 'utf8'));
    return { variant, idleMb: idle.mb, settled: idle.settled, startPeakMb, jobPeakMb, seconds: run.seconds, digest: manifest.tables[0].digest };
  } finally {
    fs.rmSync(jobDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!noBuild) {
    const t0 = Date.now();
    build();
    log(`built dist/ in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const testStack = await startTestStack({ log });
  const dataDir = testStack.env.SHARDFLOW_DATA_DIR!;
  const taskQueue = uniqueTaskQueue('bench-rss');
  const common = { ...testStack.env, TEMPORAL_TASK_QUEUE: taskQueue };
  const config = loadConfig({ ...process.env, ...common, HOST: '127.0.0.1', PORT: '0', SHARDFLOW_AUTH: 'off', LOG_LEVEL: 'silent' });
  const logger = createLogger(config, 'bench-api');
  const db = createDb(config.database.url!, { max: 4, applicationName: 'shardflow-bench-api' });
  const temporal = await connectTemporal(config, logger, 30_000);
  const server = await startApiServer(config, { config, db, kinds: builtInKinds, temporal, logger }, { handleSignals: false, gracePeriodMs: 1000 });
  // NODE_OPTIONS cleared: the compiled worker must start without tsx.
  const workerEnv: NodeJS.ProcessEnv = { ...process.env, ...common, NODE_OPTIONS: '', WORKER_METRICS_PORT: '0', LOG_LEVEL: process.env.LOG_LEVEL || 'info' };
  const threads = loadConfig(workerEnv).worker.threads;

  let current: WorkerProc | undefined;
  const cleanup = async () => {
    await current?.stop().catch(() => undefined);
    await server.close().catch(() => undefined);
    await testStack.stop().catch(() => undefined);
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void cleanup().then(() => process.exit(130)));

  const cpu = os.cpus();
  console.log(
    `# ${cpu.length} CPUs (${cpu[0]?.model ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; ` +
      `WORKER_THREADS ${threads}; job: 10M rows, mvn, parquet zstd; ${rounds} round(s)`,
  );
  const samples: Sample[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      for (const v of VARIANTS) {
        current = await startWorker(workerEnv, [...v.args]);
        try {
          const s = await measure(current, v.name, server.url, dataDir);
          samples.push(s);
          log(`${v.name}: idle ${s.idleMb.toFixed(0)} MB${s.settled ? '' : ' (not settled)'}, start peak ${s.startPeakMb.toFixed(0)} MB, job peak ${s.jobPeakMb.toFixed(0)} MB, ${s.seconds.toFixed(2)} s`);
        } catch (err) {
          log(`${v.name}: FAILED: ${(err as Error).message}\n--- worker output (tail) ---\n${current.tail.text()}`);
          throw err;
        } finally {
          await current.stop();
          current = undefined;
        }
      }
    }
  } finally {
    await cleanup();
  }

  const digests = new Set(samples.map((s) => s.digest));
  if (digests.size !== 1) throw new Error(`the workers' digests differ: ${[...digests].join(', ')}`);
  printTable(samples);
}

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function printTable(samples: Sample[]): void {
  const cols = ['idleMb', 'startPeakMb', 'jobPeakMb', 'seconds'] as const;
  const med = VARIANTS.map((v) => {
    const of = samples.filter((s) => s.variant === v.name);
    return { name: v.name, n: of.length, ...Object.fromEntries(cols.map((c) => [c, median(of.map((s) => s[c]))])) } as { name: string; n: number } & Record<(typeof cols)[number], number>;
  });
  const [src, dist] = med as [(typeof med)[0], (typeof med)[0]];
  const fmt = (c: (typeof cols)[number], n: number) => (c === 'seconds' ? n.toFixed(2) : n.toFixed(0));
  const rows = [
    ...med.map((m) => [m.name, ...cols.map((c) => fmt(c, m[c]))]),
    ['compiled / sources', ...cols.map((c) => (dist[c] / src[c]).toFixed(2))],
  ];
  const head = ['worker', 'idle RSS MB', 'start peak MB', 'job peak MB', 'job s'];
  printMarkdownTable(head, rows);
  console.log(
    `\n${rounds > 1 ? `Medians of ${rounds} rounds. ` : ''}Idle: VmRSS after "worker polling", settled. Start peak: VmHWM then (workflow bundling). ` +
      'Job peak: VmHWM over the 10M-row job (reset before it). Same digest for every worker.',
  );
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
