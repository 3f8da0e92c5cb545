/**
 * Removing a job's data: what `DELETE /v1/jobs/{id}` does once the job's workflow has closed, and
 * what retention does to each expired job (src/engine/retention.ts). In this order:
 *
 *   1. its Postgres load, if it has one (`output.postgres`): `releaseLoad` — tables it did not
 *      load completely are dropped, its claims and part markers deleted; tables it loaded
 *      completely stay (the user's data, now unclaimed);
 *   2. its folder under the data dir;
 *   3. its row in `jobs` (and the sealed key of an encrypted job, `job_keys`), last: a removal that
 *      fails half-way leaves the row, so it can simply be run again (every step is a no-op on what
 *      is already gone).
 *
 * Temporal is not touched here: the caller makes sure the workflow is closed (DELETE cancels it,
 * retention only takes jobs whose row says they finished). A leaf of the engine: no API imports.
 */
import { rm } from 'node:fs/promises';
import type postgres from 'postgres';
import { openClient, type PostgresTargets } from '../destinations/index.js';
import { jobDir } from './job-files.js';
import { releaseLoad } from './load.js';
import type { JobInput, JobStatus } from './types.js';

/** The statuses of a job whose workflow has ended: the only ones retention removes. */
export const FINISHED_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];

/** A client on a load target for the time of one removal. */
export interface LoadClient {
  sql: postgres.Sql;
  done(): Promise<void>;
}
/** How a removal reaches the target of a job's load (`output.postgres.target`; undefined = the service's database). */
export type LoadClients = (target: string | undefined) => LoadClient;

/** A process's own clients, kept open (the worker's `deps.postgres`). */
export function pooledLoadClients(targets: PostgresTargets): LoadClients {
  return (target) => ({ sql: targets.sql(target), done: async () => {} });
}

/**
 * The service's database through the targets' default client, a named target through a client
 * opened for this removal alone and closed after it (the API: it keeps no pools on load targets).
 */
export function oneShotLoadClients(targets: PostgresTargets, applicationName: string): LoadClients {
  return (target) => {
    if (target === undefined) return { sql: targets.sql(undefined), done: async () => {} };
    const sql = openClient(targets.url(target), 1, applicationName);
    return { sql, done: () => sql.end({ timeout: 5 }) };
  };
}

export interface RemoveJobDeps {
  /** The service's database (the `jobs` table). */
  sql: postgres.Sql;
  dataDir: string;
  loadClients: LoadClients;
}

export interface RemovableJob {
  id: string;
  output: JobInput['output'] | null;
}

export interface RemoveJobOptions {
  /** Only while the row belongs to this tenant (DELETE). */
  tenantId?: string;
  /**
   * Only while the row says the job finished before this instant (ISO time; retention): checked before
   * anything is removed and again by the row's delete, so a job resumed meanwhile is left alone.
   */
  finishedBefore?: string;
}

export interface RemoveJobResult {
  /** False when the row was not there (any more) or no longer matched the options. */
  removed: boolean;
  /** Tables of its load dropped (not completely loaded) and kept (loaded completely). */
  load?: { dropped: string[]; kept: string[] };
}

/** Steps 1–3 above. Idempotent: a job half-removed before is finished off. */
export async function removeJobData(deps: RemoveJobDeps, job: RemovableJob, opts: RemoveJobOptions = {}): Promise<RemoveJobResult> {
  const { sql } = deps;
  const dir = jobDir(deps.dataDir, job.id); // validates the id before anything is removed
  const match = () => sql`
    id = ${job.id}
    ${opts.tenantId !== undefined ? sql`and tenant_id = ${opts.tenantId}` : sql``}
    ${opts.finishedBefore !== undefined ? sql`and status in ${sql(FINISHED_STATUSES as string[])} and finished_at < ${opts.finishedBefore}::timestamptz` : sql``}`;
  if (opts.finishedBefore !== undefined) {
    const still = await sql`select 1 from jobs where ${match()}`;
    if (still.length === 0) return { removed: false };
  }
  let load: RemoveJobResult['load'];
  const out = job.output?.postgres;
  if (out) {
    const client = deps.loadClients(out.target);
    try {
      load = await releaseLoad(client.sql, job.id);
    } finally {
      await client.done();
    }
  }
  await rm(dir, { recursive: true, force: true });
  // The row and the sealed key of an encrypted job (docs/ENCRYPTION.md) in one statement.
  const deleted = await sql`
    with d as (delete from jobs where ${match()} returning id),
    k as (delete from job_keys where job_id in (select id from d))
    select id from d`;
  return { removed: deleted.length > 0, ...(load ? { load } : {}) };
}
