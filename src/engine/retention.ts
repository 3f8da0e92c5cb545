/**
 * Retention's activity, `expireJobs`: removes every job that finished (completed, failed or
 * cancelled) before a cutoff, as `DELETE /v1/jobs/{id}` would (src/engine/remove-job.ts: load
 * released, folder removed, row last). Jobs that are running, paused or cancelling are never
 * taken, whatever their timestamps say.
 *
 * Jobs are read in batches in (finished_at, id) order from a keyset cursor, and the cursor is the
 * heartbeat's details: a retried attempt starts after the last job it dealt with. A job whose
 * removal fails for any reason but an unreachable Postgres is logged, counted as `failed` and
 * passed over (the next run tries it again); an unreachable Postgres fails the attempt, which
 * Temporal retries from the cursor. Started hourly by the Temporal schedule `shardflow-retention`
 * (src/workflows/retention.ts; the API creates it: src/api/retention.ts).
 */
import { Context, log } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type postgres from 'postgres';
import type { PostgresTargets } from '../destinations/index.js';
import { isPostgresUnavailable, outageCode } from '../db/unavailable.js';
import { FINISHED_STATUSES, pooledLoadClients, removeJobData } from './remove-job.js';
import type { JobInput } from './types.js';

/** Jobs read per query. */
export const EXPIRE_BATCH = 100;
/** The heartbeat while one job is removed (a large folder or a DROP TABLE may take a while). */
const BEAT_EVERY_MS = 5_000;

export interface ExpireJobsInput {
  /** ISO time: jobs that finished before it are removed. */
  cutoff: string;
  batchSize?: number;
}

/** Where an attempt stands: its heartbeat details (a retry resumes from them). */
export interface ExpireProgress {
  cutoff: string;
  /** The last job dealt with (removed, gone already or failed), in (finished_at, id) order. */
  cursor: { finishedAt: string; id: string } | null;
  expired: number;
  failed: number;
}

export interface ExpireJobsResult {
  cutoff: string;
  /** Jobs removed. */
  expired: number;
  /** Jobs whose removal failed (logged; tried again by the next run). */
  failed: number;
}

/** What retention's activity needs from the worker, and the hook its metric hangs on. */
export interface RetentionHooks {
  /** Called with the number of jobs just removed (1 per job), e.g. to count shardflow_jobs_expired_total. */
  onExpired?: (n: number) => void;
}

export interface RetentionDeps extends RetentionHooks {
  /** The service's database; without it the activity refuses (non-retryable). */
  sql?: postgres.Sql;
  dataDir: string;
  /** The load targets (the worker's `deps.postgres`): a job with `output.postgres` needs its target. */
  postgres?: PostgresTargets;
}

interface ActivityContext {
  details?: ExpireProgress;
  beat(p: ExpireProgress): void;
  signal?: AbortSignal;
}

/** The running activity's context, or a stand-in when called directly (tests). */
function activityContext(): ActivityContext {
  try {
    const ctx = Context.current();
    return { details: ctx.info.heartbeatDetails as ExpireProgress | undefined, beat: (p) => ctx.heartbeat(p), signal: ctx.cancellationSignal };
  } catch {
    return { beat: () => {} };
  }
}

const errorText = (err: unknown) => String((err as Error)?.message ?? err);

export function createRetentionActivities(deps: RetentionDeps) {
  async function expireJobs(input: ExpireJobsInput): Promise<ExpireJobsResult> {
    const sql = deps.sql;
    if (!sql) throw ApplicationFailure.nonRetryable('this worker has no database (DATABASE_URL): retention cannot run here', 'RetentionUnavailable');
    if (Number.isNaN(Date.parse(input.cutoff))) throw ApplicationFailure.nonRetryable(`invalid cutoff ${JSON.stringify(input.cutoff)}`, 'InvalidRetentionInput');
    const batch = Math.max(1, Math.min(input.batchSize ?? EXPIRE_BATCH, 10_000));
    const ctx = activityContext();
    const resumed = ctx.details?.cutoff === input.cutoff ? ctx.details : undefined;
    const progress: ExpireProgress = resumed ?? { cutoff: input.cutoff, cursor: null, expired: 0, failed: 0 };
    if (resumed) log.info('retention: resuming after the last job an earlier attempt dealt with', { ...progress });

    const removal = {
      sql,
      dataDir: deps.dataDir,
      loadClients: deps.postgres
        ? pooledLoadClients(deps.postgres)
        : () => {
            throw new Error('this worker has no Postgres targets configured');
          },
    };
    const beat = setInterval(() => ctx.beat(progress), BEAT_EVERY_MS);
    try {
      for (;;) {
        const c = progress.cursor;
        // Times travel as ISO text both ways: the worker's client is drizzle's, which turns off
        // postgres.js's Date (de)serialising. finished_at has millisecond precision, as ISO text.
        const rows = await sql<{ id: string; output: JobInput['output'] | null; finished_at: string }[]>`
          select id, output, to_char(finished_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as finished_at from jobs
          where status in ${sql(FINISHED_STATUSES as string[])} and finished_at < ${input.cutoff}::timestamptz
            ${c ? sql`and (finished_at, id) > (${c.finishedAt}::timestamptz, ${c.id}::text)` : sql``}
          order by finished_at, id
          limit ${batch}`;
        for (const row of rows) {
          if (ctx.signal?.aborted) throw new CancelledFailure('retention cancelled');
          try {
            const r = await removeJobData(removal, row, { finishedBefore: input.cutoff });
            if (r.removed) {
              progress.expired++;
              deps.onExpired?.(1);
              log.info('retention: job removed', { jobId: row.id, finishedAt: row.finished_at, ...(r.load ? { load: r.load } : {}) });
            }
          } catch (err) {
            // An outage fails the attempt (retried from the cursor); anything else is this job's alone.
            if (isPostgresUnavailable(err)) {
              throw ApplicationFailure.retryable(`Postgres is unreachable (${outageCode(err) ?? 'connection error'}); retried from the cursor`, 'PostgresUnavailable');
            }
            progress.failed++;
            log.warn('retention: could not remove a job; the next run tries again', { jobId: row.id, error: errorText(err) });
          }
          progress.cursor = { finishedAt: row.finished_at, id: row.id };
          ctx.beat(progress);
        }
        if (rows.length < batch) break;
      }
    } finally {
      clearInterval(beat);
    }
    const result: ExpireJobsResult = { cutoff: input.cutoff, expired: progress.expired, failed: progress.failed };
    log.info('retention: done', { ...result });
    return result;
  }

  return { expireJobs };
}

export type RetentionActivities = ReturnType<typeof createRetentionActivities>;
