/**
 * Worker-thread entry: runs shards off the main event loop, so heartbeats keep flowing. A shard
 * names the kind's shard module (Kind.shardModule), imported here once per thread.
 */
import { parentPort } from 'node:worker_threads';
import type postgres from 'postgres';
import { isPostgresUnavailable, outageCode } from '../db/unavailable.js';
import { openClient } from '../destinations/index.js';
import type { JobKey } from '../destinations/index.js';
import type { ShardIO, ShardRunner } from './kind.js';
import { jobDir, shardRecordPath, writeJsonAtomic } from './job-files.js';
import type { JobInput, ShardRef, ShardState } from './types.js';

export interface ShardThreadJob {
  /** URL of the kind's shard module. */
  module: string;
  dataDir: string;
  input: JobInput;
  shard: ShardRef;
  payload: unknown;
  resume: ShardState | undefined;
  /** The job's Postgres load: the target's URL, resolved by the worker from its configuration. */
  load?: { url: string; schema: string };
  /** A kind with `usesDatabase`: the service database's URL, resolved by the worker. */
  db?: { url: string };
  /** The job's key (output.encryption), unsealed by the worker: a thread message, never logged. */
  encryption?: JobKey;
}

export interface ShardOutcome {
  state: ShardState;
  /** True when stopped on request (pause, cancel) before the shard was complete. */
  stopped: boolean;
}

export type ToThread = { type: 'run'; id: number; job: ShardThreadJob; stop: SharedArrayBuffer } | { type: 'close' };
export type FromThread =
  | { type: 'closed' }
  | { type: 'progress'; id: number; unitsDone: number }
  | { type: 'commit'; id: number; state: ShardState }
  | { type: 'done'; id: number; outcome: ShardOutcome }
  /** `outage`: the error says Postgres cannot be reached (its postgres.js/socket code or SQLSTATE), see db/unavailable.ts. */
  | { type: 'error'; id: number; name: string; message: string; stack?: string; outage?: string };

const runners = new Map<string, Promise<ShardRunner>>();

/** One small client (one connection) per load target URL, for this thread's life. */
const loadClients = new Map<string, postgres.Sql>();

function loadClient(url: string): postgres.Sql {
  let c = loadClients.get(url);
  if (!c) loadClients.set(url, (c = openClient(url, 1, 'shardflow-shard')));
  return c;
}

/** Ends this thread's load clients (the pool asks before it terminates the thread). */
export async function closeLoadClients(): Promise<void> {
  const all = [...loadClients.values()];
  loadClients.clear();
  await Promise.all(all.map((c) => c.end({ timeout: 2 }).catch(() => undefined)));
}

function runnerOf(module: string): Promise<ShardRunner> {
  let r = runners.get(module);
  if (!r) {
    r = import(module).then((m: { runShard?: ShardRunner }) => {
      if (typeof m.runShard !== 'function') throw new Error(`${module} does not export runShard`);
      return m.runShard;
    });
    runners.set(module, r);
  }
  return r;
}

/** Runs one shard: the kind's runner does the work, the engine records its commits. */
export async function runShardJob(job: ShardThreadJob, shouldStop: () => boolean, post: (msg: FromThread) => void, id: number): Promise<ShardOutcome> {
  const runShard = await runnerOf(job.module);
  const recordPath = shardRecordPath(job.dataDir, job.input.jobId, job.shard.index);
  const state: ShardState = job.resume
    ? { ...job.resume, files: [...job.resume.files], unitsDone: job.resume.unitsCommitted }
    : { shardIndex: job.shard.index, complete: false, unitsCommitted: 0, unitsDone: 0, files: [], checkpoint: null };
  const snapshot = (): ShardState => ({ ...state, files: [...state.files] });
  const io: ShardIO = {
    dataDir: job.dataDir,
    jobDir: jobDir(job.dataDir, job.input.jobId),
    shouldStop,
    ...(job.load ? { load: { sql: loadClient(job.load.url), schema: job.load.schema, jobId: job.input.jobId } } : {}),
    ...(job.db ? { db: loadClient(job.db.url) } : {}),
    ...(job.encryption ? { encryption: job.encryption } : {}),
    progress(unitsDone) {
      state.unitsDone = unitsDone;
      post({ type: 'progress', id, unitsDone });
    },
    async commit(c) {
      state.checkpoint = c.checkpoint;
      if (c.files) state.files.push(...c.files);
      state.unitsCommitted = c.units;
      state.unitsDone = c.units;
      if (c.totals) state.totals = c.totals;
      await writeJsonAtomic(recordPath, state);
      post({ type: 'commit', id, state: snapshot() });
    },
  };
  const { stopped } = await runShard({ input: job.input, shard: job.shard, payload: job.payload, resume: job.resume, io });
  if (!stopped) {
    state.complete = true;
    await writeJsonAtomic(recordPath, state);
  }
  return { state: snapshot(), stopped };
}

if (parentPort) {
  const port = parentPort;
  port.on('message', async (msg: ToThread) => {
    if (msg.type === 'close') {
      await closeLoadClients();
      port.postMessage({ type: 'closed' } satisfies FromThread);
      return;
    }
    if (msg.type !== 'run') return;
    const stop = new Int32Array(msg.stop);
    const post = (m: FromThread) => port.postMessage(m);
    try {
      const outcome = await runShardJob(msg.job, () => Atomics.load(stop, 0) === 1, post, msg.id);
      post({ type: 'done', id: msg.id, outcome });
    } catch (err: any) {
      const outage = isPostgresUnavailable(err) ? (outageCode(err) ?? 'CONNECTION_CLOSED') : undefined;
      post({ type: 'error', id: msg.id, name: err?.name ?? 'Error', message: String(err?.message ?? err), stack: err?.stack, ...(outage ? { outage } : {}) });
    }
  });
}
