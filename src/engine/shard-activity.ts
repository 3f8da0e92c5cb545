/**
 * The `runShard` activity: runs one shard on a worker thread and heartbeats its state (the
 * checkpoint) at least every second. A retry resumes from the newer of the last heartbeat and the
 * shard record on disk; a shard started again after a pause or a job resume, from the record.
 */
import { activityInfo, Context, log } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import postgres from 'postgres';
import { isPostgresUnavailable, outageCode } from '../db/unavailable.js';
import { SpecError, type KindContext, type KindRegistry } from './kind.js';
import { filesIntact, jobDir, readShardRecord, readStoredPlan } from './job-files.js';
import { UnknownTargetError, type JobKey, type PostgresTargets } from '../destinations/index.js';
import { jobKeyCache, JobKeyUnavailable, loadJobKey } from './job-keys.js';
import type { EngineObserver } from './observer.js';
import type { ShardThreadJob } from './shard-thread.js';
import type { ShardThreadError, ThreadPool } from './thread-pool.js';
import type { ShardResult, ShardState, ShardTask } from './types.js';

export interface ShardDeps {
  kinds: KindRegistry;
  dataDir: string;
  pool: ThreadPool;
  sql?: KindContext['sql'];
  /** Where `output.postgres` loads go: the service's database and the configured targets. */
  postgres?: PostgresTargets;
  /**
   * Aborted when the worker shuts down (SIGTERM): running shards close their open part,
   * checkpoint and fail with a retryable `WorkerShutdown`, so another worker resumes them there.
   */
  stopping?: AbortSignal;
  /** Told of committed rows and bytes, completed shards and retries (metrics). */
  observer?: EngineObserver;
  /** SHARDFLOW_SECRET_KEY: unseals the keys of encrypted jobs (src/engine/job-keys.ts). */
  secretKey?: Uint8Array;
  /** Test and chaos hook: called before a shard starts work; may throw to fail it. */
  faults?: { beforeShard?(task: ShardTask, attempt: number, cancelled: AbortSignal): void | Promise<void> };
}

const HEARTBEAT_EVERY_MS = 1000;
/** Waits between tries while Postgres is unreachable: 1 s, doubling, at most 30 s. */
const OUTAGE_FIRST_WAIT_MS = 1000;
const OUTAGE_MAX_WAIT_MS = 30_000;
/** The outage budget when a job's input has none (the workflow's default bookkeeping budget). */
const DEFAULT_OUTAGE_BUDGET_SECONDS = 6 * 3600;

/**
 * The outage code when the Postgres a shard uses (its load target or the service database) does
 * not answer a `select 1` now; undefined when it answers, or when the shard uses none.
 */
async function outageNow(t: Pick<ShardThreadJob, 'load' | 'db'>): Promise<string | undefined> {
  const url = t.load?.url ?? t.db?.url;
  if (!url) return undefined;
  const probe = postgres(url, { max: 1, connect_timeout: 5, idle_timeout: 1, onnotice: () => {}, connection: { application_name: 'shardflow-probe' } });
  try {
    await probe`select 1`;
    return undefined;
  } catch (err) {
    return isPostgresUnavailable(err) ? (outageCode(err) ?? 'CONNECTION_CLOSED') : undefined;
  } finally {
    await probe.end({ timeout: 1 }).catch(() => undefined);
  }
}

/** Resolves after `ms`, or as soon as either signal aborts. */
function waitOrStop(ms: number, ...signals: (AbortSignal | undefined)[]): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      for (const s of signals) s?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const s of signals) s?.addEventListener('abort', done, { once: true });
    if (signals.some((s) => s?.aborted)) done();
  });
}
/** Prepared payloads kept per worker (one per recent job). */
const PAYLOAD_CACHE = 64;

/** The state to resume from: the one with more committed work, if its files are all intact. */
async function resumeState(dir: string, a: ShardState | undefined, b: ShardState | undefined): Promise<ShardState | undefined> {
  const pick = !a ? b : !b ? a : b.unitsCommitted > a.unitsCommitted || (b.complete && !a.complete) ? b : a;
  if (!pick || pick.unitsCommitted === 0) return undefined;
  return (await filesIntact(dir, pick.files)) ? pick : undefined;
}

const bytesOf = (s: ShardState | undefined): number => (s ? s.files.reduce((n, f) => n + f.bytes, 0) : 0);

/** What the workflow gets (and its history keeps): a kind's private totals stay in the shard record, for finalize. */
const summary = (s: ShardState, resumedUnits: number, hidden?: string): ShardResult => {
  const totals = s.totals && hidden ? Object.fromEntries(Object.entries(s.totals).filter(([k]) => !k.startsWith(hidden))) : s.totals;
  return {
    shardIndex: s.shardIndex,
    units: s.unitsCommitted,
    bytes: s.files.reduce((n, f) => n + f.bytes, 0),
    files: s.files.length,
    resumedUnits,
    ...(totals && Object.keys(totals).length ? { totals } : {}),
  };
};

/**
 * The key of an encrypted job, unsealed once per job and process (src/engine/job-keys.ts). A key
 * that cannot be had (no server key, no row, another server key) fails the job (non-retryable); a
 * database that does not answer is an outage like any other, which the caller waits out.
 */
export function createJobKeys(deps: Pick<ShardDeps, 'sql' | 'secretKey'>) {
  const cache = jobKeyCache((jobId) => {
    if (!deps.sql) return Promise.reject(new JobKeyUnavailable(`this worker has no database: it cannot read the key of job ${jobId}`));
    return loadJobKey(deps.sql, deps.secretKey, jobId);
  });
  return {
    async of(input: ShardTask['input']): Promise<JobKey | undefined> {
      if (!input.output.encryption) return undefined;
      try {
        return await cache.get(input.jobId);
      } catch (err) {
        if (err instanceof JobKeyUnavailable) throw ApplicationFailure.nonRetryable(err.message, err.name);
        throw err;
      }
    },
    forget: (jobId: string) => cache.forget(jobId),
  };
}

export function createRunShard(deps: ShardDeps, keys = createJobKeys(deps)) {
  const payloads = new Map<string, Promise<unknown>>();
  const payloadFor = (task: ShardTask): Promise<unknown> => {
    const kind = deps.kinds.get(task.input.kind);
    if (!kind.prepare) return Promise.resolve(undefined);
    let p = payloads.get(task.input.jobId);
    if (!p) {
      const prepare = kind.prepare.bind(kind);
      p = readStoredPlan(deps.dataDir, task.input.jobId)
        .then((plan) => {
          if (!plan) throw new Error(`job ${task.input.jobId} has no plan in its folder`);
          return prepare(task.input, { tenantId: task.input.tenantId, sql: deps.sql }, plan);
        })
        .catch((err) => {
          throw err instanceof SpecError ? ApplicationFailure.nonRetryable(err.message, 'InvalidSpec') : err;
        });
      p.catch(() => payloads.delete(task.input.jobId));
      payloads.set(task.input.jobId, p);
      if (payloads.size > PAYLOAD_CACHE) payloads.delete(payloads.keys().next().value!);
    }
    return p;
  };

  /** The thread's load target: the URL resolved here, from this worker's configuration (never from the request). */
  const loadOf = (task: ShardTask): Pick<ShardThreadJob, 'load' | 'db'> => {
    const out = task.input.output.postgres;
    if (deps.kinds.get(task.input.kind).usesDatabase) {
      if (!deps.postgres?.has(undefined)) throw ApplicationFailure.nonRetryable('this worker has no database configured', 'DatabaseRequired');
      if (out) throw ApplicationFailure.nonRetryable(`a ${task.input.kind} job writes to the service database and takes no output.postgres`, 'PostgresLoadRefused');
      return { db: { url: deps.postgres.url(undefined) } };
    }
    if (!out) return {};
    if (!deps.postgres) throw ApplicationFailure.nonRetryable('this worker has no Postgres targets configured', 'PostgresLoadRefused');
    try {
      return { load: { url: deps.postgres.url(out.target), schema: out.schema } };
    } catch (err) {
      throw err instanceof UnknownTargetError ? ApplicationFailure.nonRetryable(err.message, 'PostgresLoadRefused') : err;
    }
  };

  return async function runShard(task: ShardTask): Promise<ShardResult> {
    const ctx = Context.current();
    const info = activityInfo();
    const kind = deps.kinds.get(task.input.kind);
    const { jobId } = task.input;
    const dir = jobDir(deps.dataDir, jobId);
    const record = await readShardRecord(deps.dataDir, jobId, task.shard.index);
    const resume = await resumeState(dir, info.heartbeatDetails as ShardState | undefined, record);
    const resumedUnits = resume?.unitsCommitted ?? 0;
    if (resume?.complete) return summary(resume, resumedUnits, kind.privateTotalsPrefix);
    const obs = deps.observer;
    const format = task.input.output.format;
    const startedAt = performance.now();
    if (info.attempt > 1) obs?.shardRetried?.(task.input.kind);
    // Counted as committed: what this attempt adds to the state it resumed from.
    let counted = { units: resumedUnits, bytes: bytesOf(resume) };
    let countedTotals: Record<string, number> = { ...(resume?.totals ?? {}) };
    const count = (s: ShardState) => {
      const now = { units: s.unitsCommitted, bytes: bytesOf(s) };
      if (now.units > counted.units || now.bytes > counted.bytes) {
        obs?.committed?.(task.input.kind, format, Math.max(0, now.units - counted.units), Math.max(0, now.bytes - counted.bytes));
        counted = now;
      }
      if (obs?.totalsCommitted && s.totals) {
        const delta: Record<string, number> = {};
        for (const [k, v] of Object.entries(s.totals)) if (v > (countedTotals[k] ?? 0)) delta[k] = v - (countedTotals[k] ?? 0);
        if (Object.keys(delta).length) obs.totalsCommitted(task.input.kind, delta);
        countedTotals = { ...s.totals };
      }
    };

    const where = { jobId, tenantId: task.input.tenantId, kind: task.input.kind, shard: task.shard.index, attempt: info.attempt };
    log.info('shard started', { ...where, table: task.shard.table, start: task.shard.start, end: task.shard.end, resumedUnits });
    let last: ShardState = resume ?? { shardIndex: task.shard.index, complete: false, unitsCommitted: 0, unitsDone: 0, files: [], checkpoint: null };
    ctx.heartbeat(last);
    const beat = setInterval(() => ctx.heartbeat(last), HEARTBEAT_EVERY_MS);
    try {
      await deps.faults?.beforeShard?.(task, info.attempt, ctx.cancellationSignal);
      const payload = await payloadFor(task);
      const runOnce = async (from: ShardState | undefined) => {
        const encryption = await keys.of(task.input);
        const handle = await deps.pool.run(
          { module: kind.shardModule.href, dataDir: deps.dataDir, input: task.input, shard: task.shard, payload, resume: from, ...loadOf(task), ...(encryption ? { encryption } : {}) },
          {
            progress: (unitsDone) => (last = { ...last, unitsDone }),
            commit: (state) => {
              last = state;
              ctx.heartbeat(last);
              count(state);
            },
          },
          ctx.cancellationSignal,
        );
        const stop = () => handle.stop();
        ctx.cancellationSignal.addEventListener('abort', stop, { once: true });
        // The worker's shutdown signal outlives the shard: its listener goes when the run ends.
        deps.stopping?.addEventListener('abort', stop, { once: true });
        if (ctx.cancellationSignal.aborted || deps.stopping?.aborted) handle.stop();
        try {
          return await handle.result;
        } finally {
          ctx.cancellationSignal.removeEventListener('abort', stop);
          deps.stopping?.removeEventListener('abort', stop);
        }
      };
      // Postgres unreachable mid-shard (a restart, a failover): the shard waits here, heartbeating its
      // last committed state, and goes on from that state once Postgres answers again, for as long
      // as the job's bookkeeping budget; attempts are not spent on an outage.
      let outcome: Awaited<ReturnType<typeof runOnce>>;
      let from = resume;
      let outageSince: number | undefined;
      for (let wait = OUTAGE_FIRST_WAIT_MS; ; wait = Math.min(wait * 2, OUTAGE_MAX_WAIT_MS)) {
        try {
          outcome = await runOnce(from);
          break;
        } catch (err) {
          if (ctx.cancellationSignal.aborted || deps.stopping?.aborted) throw err;
          // Only kinds whose shards work in the service database wait here; a Postgres load's shard
          // fails its attempt and is retried as before (a load stalled after a restart in the chaos
          // round when it waited in its attempt; not understood yet, so not done).
          if (!deps.kinds.get(task.input.kind).usesDatabase) throw err;
          // The thread names an outage it saw; any other error of a shard that uses Postgres is one
          // too when Postgres does not answer now (a client may fail oddly on a socket closed under it).
          // Reading an encrypted job's key on this thread may meet the outage itself.
          const here = isPostgresUnavailable(err) ? (outageCode(err) ?? 'CONNECTION_CLOSED') : undefined;
          const code = (err as ShardThreadError).outage ?? here ?? (await outageNow(loadOf(task)));
          if (!code) throw err;
          outageSince ??= Date.now();
          const budget = (task.input.bookkeepingRetry?.budgetSeconds ?? DEFAULT_OUTAGE_BUDGET_SECONDS) * 1000;
          if (Date.now() - outageSince >= budget) {
            throw ApplicationFailure.retryable(`Postgres is unreachable (${code}) for longer than the job's budget; shard ${task.shard.index} resumes after ${last.unitsCommitted} units`, 'PostgresUnavailable');
          }
          log.warn('shard waits for Postgres', { ...where, code, unitsCommitted: last.unitsCommitted, retryInMs: wait });
          obs?.shardWaitedForPostgres?.(task.input.kind);
          await waitOrStop(wait, ctx.cancellationSignal, deps.stopping);
          if (ctx.cancellationSignal.aborted) throw new CancelledFailure(String(ctx.cancellationSignal.reason ?? 'cancelled'));
          if (deps.stopping?.aborted) {
            outcome = { state: last, stopped: true };
            break;
          }
          from = last.unitsCommitted > 0 && (await filesIntact(dir, last.files)) ? last : resume;
        }
      }
      last = outcome.state;
      ctx.heartbeat(last);
      count(last);
      if (outcome.stopped && !ctx.cancellationSignal.aborted && deps.stopping?.aborted) {
        log.info('shard stopped: the worker is shutting down', { ...where, unitsCommitted: last.unitsCommitted });
        throw ApplicationFailure.retryable(
          `the worker shut down: shard ${task.shard.index} stopped after ${last.unitsCommitted} units, and resumes from there`,
          'WorkerShutdown',
        );
      }
      if (outcome.stopped) throw new CancelledFailure(`shard ${task.shard.index} stopped after ${last.unitsCommitted} units`);
      const seconds = (performance.now() - startedAt) / 1000;
      obs?.shardCompleted?.(task.input.kind, seconds);
      log.info('shard completed', { ...where, units: last.unitsCommitted, seconds: Math.round(seconds * 1000) / 1000 });
      return summary(last, resumedUnits, kind.privateTotalsPrefix);
    } catch (err) {
      if (ctx.cancellationSignal.aborted && !(err instanceof CancelledFailure)) {
        throw new CancelledFailure(String(ctx.cancellationSignal.reason ?? 'cancelled'));
      }
      throw err;
    } finally {
      clearInterval(beat);
    }
  };
}
