/**
 * The job workflow's activities, built by a factory that receives their dependencies (kinds,
 * data folder, database, thread pool). `JobActivities` is what workflows import, as a type.
 */
import os from 'node:os';
import path from 'node:path';
import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { TableDigest } from '../data/digest.js';
import { isPostgresUnavailable, outageCode } from '../db/unavailable.js';
import { ENCRYPTED_EXTENSION, openJobFile, openPart, UnknownTargetError, type JobKey } from '../destinations/index.js';
import { partExtension } from '../encoders/index.js';
import { SpecError } from './kind.js';
import { abandonLoad, finishLoad, setupLoad } from './load.js';
import { hasKeys, schemaSql } from './load-ddl.js';
import { filesIntact, jobDir, partName, planPath, readShardRecord, readStoredPlan, removeTempFiles, writeJsonAtomic, type StoredPlan } from './job-files.js';
import { fileEntry, MANIFEST_VERSION, writeManifest, type Manifest, type ManifestTable } from './manifest.js';
import { shardCount } from './plan.js';
import { addToRanges, type Ranges } from './ranges.js';
import { forgetJobKey as deleteJobKey } from './job-keys.js';
import { createJobKeys, createRunShard, type ShardDeps } from './shard-activity.js';
import { createRetentionActivities, type RetentionHooks } from './retention.js';
import type { FileRecord, JobInput, JobPlan, JobResultSummary, JobStatus, PlanSegment } from './types.js';

export interface ActivityDeps extends ShardDeps, RetentionHooks {
  shardsPerRun: number;
  /** Default rows per part (the checkpoint unit inside a shard), when the kind sets none. Fixed per job at its first plan. */
  partRows: number;
}


/**
 * Writes a file of the job's own (`schema.sql`, a kind's report) into its folder, atomically; its
 * file record. With the job's key, encrypted as `<name>.enc`.
 */
async function writeJobFile(dir: string, name: string, data: Uint8Array, key?: JobKey): Promise<FileRecord> {
  const stored = key ? `${name}${ENCRYPTED_EXTENSION}` : name;
  const dest = await openJobFile(path.join(dir, stored), key ? { jobKey: key, name: stored } : undefined);
  try {
    await dest.write(data);
    const { bytes, sha256 } = await dest.commit();
    return { name: stored, table: '', rows: 0, bytes, sha256 };
  } catch (err) {
    await dest.abort();
    throw err;
  }
}

/** The job folder's `schema.sql` (src/engine/load-ddl.ts), written atomically; its file record. */
async function writeSchemaSql(dir: string, input: JobInput, tables: JobPlan['tables'], key?: JobKey): Promise<FileRecord> {
  const text = schemaSql(input.output.postgres?.schema, tables, `shardflow job ${input.jobId} (${input.kind}): the tables${input.output.postgres ? ' as loaded' : ''}, then their keys and indexes`);
  return writeJobFile(dir, 'schema.sql', Buffer.from(text, 'utf8'), key);
}

/** Heartbeats the running activity, if any (finalize steps may run for long; tests call activities directly). */
function heartbeat(): void {
  try {
    Context.current().heartbeat();
  } catch {
    // not inside an activity
  }
}

/**
 * Bookkeeping activities retry without an attempt cap, for as long as their schedule-to-close
 * allows (hours: src/workflows/job.ts), because Postgres may be down that long. That is only
 * right for an outage: any other error ends the retries after this many attempts, as before.
 */
export const BOOKKEEPING_MAX_ATTEMPTS = 10;

function attemptNow(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1; // not inside an activity (tests call activities directly)
  }
}

/**
 * Runs a bookkeeping activity: an unreachable Postgres becomes a retryable `PostgresUnavailable`
 * failure whose message names the error code and nothing else (the job's recorded error is shown
 * to its tenant: no address); any other error after BOOKKEEPING_MAX_ATTEMPTS becomes
 * non-retryable, keeping its message and type.
 */
async function bookkeeping<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApplicationFailure) throw err;
    if (isPostgresUnavailable(err)) {
      const message = `Postgres is unreachable (${outageCode(err) ?? 'connection error'}); retried until it is back`;
      throw ApplicationFailure.retryable(message, 'PostgresUnavailable');
    }
    const attempt = attemptNow();
    if (attempt >= BOOKKEEPING_MAX_ATTEMPTS) {
      const e = err as Error;
      throw ApplicationFailure.create({
        message: `${e?.message ?? String(err)} (attempt ${attempt}; not retried further)`,
        type: e?.name ?? 'Error',
        nonRetryable: true,
        cause: e instanceof Error ? e : undefined,
      });
    }
    throw err;
  }
}

function addTotals(into: Record<string, number>, add: Record<string, number> | undefined, hidden?: string): void {
  for (const [k, v] of Object.entries(add ?? {})) if (!hidden || !k.startsWith(hidden)) into[k] = (into[k] ?? 0) + v;
}

export function createActivities(deps: ActivityDeps) {
  const keys = createJobKeys(deps);
  const runShard = createRunShard(deps, keys);
  const kindContext = (input: JobInput) => ({ tenantId: input.tenantId, sql: deps.sql });

  /** The main-thread client of the job's load target (output.postgres.target, or the service's database). */
  function loadSql(input: JobInput) {
    if (!deps.postgres) throw ApplicationFailure.nonRetryable('this worker has no Postgres targets configured', 'PostgresLoadRefused');
    try {
      return deps.postgres.sql(input.output.postgres!.target);
    } catch (err) {
      if (err instanceof UnknownTargetError) throw ApplicationFailure.nonRetryable(err.message, 'PostgresLoadRefused');
      throw err;
    }
  }

  async function gridFor(input: JobInput): Promise<StoredPlan> {
    const file = planPath(deps.dataDir, input.jobId);
    const stored = await readStoredPlan(deps.dataDir, input.jobId);
    if (stored) {
      if (stored.kind !== input.kind) throw ApplicationFailure.nonRetryable(`${file} belongs to a ${stored.kind} job`, 'PlanMismatch');
      return stored;
    }
    const kind = deps.kinds.get(input.kind);
    let planned;
    try {
      planned = await kind.plan(input, kindContext(input));
    } catch (err) {
      if (err instanceof SpecError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidSpec');
      throw err;
    }
    const segments: PlanSegment[] = planned.segments.map((s) => {
      const shardSize = s.shardSize ?? input.partitioning.shardRows;
      return { ...s, shardSize, partSize: s.partSize ?? Math.min(shardSize, deps.partRows) };
    });
    const grid: StoredPlan = {
      kind: input.kind,
      unit: kind.unit,
      total: segments.reduce((n, s) => n + s.units, 0),
      shardCount: shardCount(segments),
      segments,
      tables: planned.tables,
    };
    await writeJsonAtomic(file, grid);
    return grid;
  }

  async function planJob(input: JobInput): Promise<JobPlan> {
    return bookkeeping(() => plan(input));
  }

  async function plan(input: JobInput): Promise<JobPlan> {
    const grid = await gridFor(input);
    if (input.output.postgres) await setupLoad(loadSql(input), input, grid.tables);
    const dir = jobDir(deps.dataDir, input.jobId);
    let completed: Ranges = [];
    let completedUnits = 0;
    const totals: Record<string, number> = {};
    // A resumed job (after failure or cancel) keeps every shard whose files are all still there.
    for (let i = 0; i < grid.shardCount; i++) {
      const record = await readShardRecord(deps.dataDir, input.jobId, i);
      if (!record?.complete || !(await filesIntact(dir, record.files))) continue;
      completed = addToRanges(completed, i);
      completedUnits += record.unitsCommitted;
      addTotals(totals, record.totals, deps.kinds.get(input.kind).privateTotalsPrefix);
    }
    const { kind: _kind, ...plan } = grid;
    return { ...plan, completed, completedUnits, totals, shardsPerRun: deps.shardsPerRun };
  }

  /**
   * Finalize heartbeats every 2 s for as long as it runs (its activity has a heartbeat timeout):
   * keys on large tables, or a kind's own finalize, may take long.
   */
  async function finalizeJob(input: JobInput, plan: JobPlan): Promise<JobResultSummary> {
    const beat = setInterval(heartbeat, 2000);
    try {
      return await bookkeeping(() => finalize(input, plan));
    } finally {
      clearInterval(beat);
    }
  }

  async function finalize(input: JobInput, plan: JobPlan): Promise<JobResultSummary> {
    const dir = jobDir(deps.dataDir, input.jobId);
    const key = await keys.of(input);
    const byTable = new Map<string, { files: FileRecord[]; digest: TableDigest; digested: boolean }>(
      plan.tables.map((t) => [t.name, { files: [], digest: new TableDigest(), digested: false }]),
    );
    let units = 0;
    const totals: Record<string, number> = {};
    for (let i = 0; i < plan.shardCount; i++) {
      const record = await readShardRecord(deps.dataDir, input.jobId, i);
      if (!record?.complete) throw new Error(`shard ${i} has no completion record`);
      units += record.unitsCommitted;
      addTotals(totals, record.totals);
      for (const f of record.files) {
        const t = byTable.get(f.table);
        if (!t) throw new Error(`shard ${i} wrote ${f.name} for table ${f.table}, which the plan does not have`);
        t.files.push(f);
        if (f.digest) t.digest.merge(f.digest), (t.digested = true);
      }
    }
    // A table of no rows gets one empty part (its schema, no row groups), so readers globbing the table folder find it.
    for (const t of plan.tables) {
      const e = byTable.get(t.name)!;
      if ((t.rows !== 0 && !t.rowsFromFiles) || e.files.length > 0) continue;
      const name = partName(t.name, 0, partExtension(input.output.format, input.output.compression) + (key ? ENCRYPTED_EXTENSION : ''));
      const sink = await openPart({
        path: path.join(dir, name),
        format: input.output.format,
        compression: input.output.compression,
        schema: t.columns,
        ...(key ? { encryption: { jobKey: key, name } } : {}),
      });
      e.files.push({ name, table: t.name, ...(await sink.finish()), digest: e.digest.toString() });
      e.digested = true;
    }
    const tables: ManifestTable[] = plan.tables.map((t) => {
      const e = byTable.get(t.name)!;
      const rows = e.files.reduce((n, f) => n + f.rows, 0);
      if (e.files.length > 0 && !t.rowsFromFiles && rows !== t.rows) throw new Error(`finalize: table ${t.name} has ${rows} rows on disk, ${t.rows} planned`);
      return { name: t.name, columns: t.columns, rows, digest: e.digested ? e.digest.toString() : null, files: e.files.map(fileEntry) };
    });
    const load = input.output.postgres ? await finishLoad(loadSql(input), input, plan.tables, heartbeat) : undefined;
    const own: FileRecord[] = input.output.postgres || hasKeys(plan.tables) ? [await writeSchemaSql(dir, input, plan.tables, key)] : [];
    const kind = deps.kinds.get(input.kind);
    const finalized = await kind.finalize?.(input, plan, {
      ...kindContext(input),
      jobDir: dir,
      totals: { ...totals },
      writeFile: (name, data) => writeJobFile(dir, name, data, key),
    });
    const hidden = kind.privateTotalsPrefix;
    if (hidden) for (const k of Object.keys(totals)) if (k.startsWith(hidden)) delete totals[k];
    // A kind that writes a file of the same name (its own schema.sql) replaces the engine's.
    const kindFiles = finalized?.files ?? [];
    const extra = [...own.filter((f) => !kindFiles.some((k) => k.name === f.name)), ...kindFiles].map(fileEntry);
    const rows = tables.reduce((n, t) => n + t.rows, 0);
    const bytes = [...tables.flatMap((t) => t.files), ...extra].reduce((n, f) => n + f.bytes, 0);
    const seed = typeof input.spec.seed === 'number' ? input.spec.seed : null;
    const manifest: Manifest = {
      manifestVersion: MANIFEST_VERSION,
      jobId: input.jobId,
      kind: input.kind,
      spec: input.spec,
      seed,
      output: input.output,
      partitioning: input.partitioning,
      unit: plan.unit,
      units,
      rows,
      bytes,
      shards: plan.shardCount,
      tables,
      files: extra,
      ...(Object.keys(totals).length ? { totals } : {}),
      ...(finalized?.result ? { kindResult: finalized.result } : {}),
      ...(load ? { load } : {}),
    };
    await removeTempFiles(dir);
    await writeManifest(deps.dataDir, manifest);
    const result: JobResultSummary = {
      rows,
      shards: plan.shardCount,
      files: tables.reduce((n, t) => n + t.files.length, 0) + extra.length,
      bytes,
      manifest: 'manifest.json',
      ...(tables.length === 1 && tables[0]!.digest ? { digest: tables[0]!.digest } : {}),
      tables: tables.map((t) => ({ name: t.name, rows: t.rows, ...(t.digest ? { digest: t.digest } : {}) })),
      ...(manifest.totals ? { totals: manifest.totals } : {}),
      ...(load ? { load } : {}),
    };
    await writeStatus(input.jobId, 'completed', undefined, result);
    return result;
  }

  /**
   * After a job completed: its sealed key is deleted (docs/ENCRYPTION.md). Only jobs with
   * `output.encryption` schedule this; a failed or cancelled job keeps its key for `resume`.
   */
  async function forgetJobKey(jobId: string): Promise<void> {
    keys.forget(jobId);
    if (!deps.sql) return;
    await bookkeeping(() => deleteJobKey(deps.sql!, jobId));
  }

  /** After a cancel: no temp files stay behind (closed parts stay, for a later resume). */
  async function cleanupJob(jobId: string): Promise<number> {
    return bookkeeping(() => removeTempFiles(jobDir(deps.dataDir, jobId)));
  }

  /**
   * A failed or cancelled job with a load: its claims become `incomplete` (the loaded parts stay
   * for a resume). Never fails: the job's own failure is what the workflow reports.
   */
  async function releaseLoad(input: JobInput): Promise<void> {
    if (!input.output.postgres) return;
    try {
      await abandonLoad(loadSql(input), input);
    } catch (err) {
      log.warn('could not mark the Postgres load incomplete', { jobId: input.jobId, error: String((err as Error)?.message ?? err) });
    }
  }

  /** The activity: retried through an outage (`bookkeeping`). finalize calls `writeStatus` inside its own. */
  async function recordStatus(jobId: string, status: JobStatus, error?: { type: string; message: string }, result?: JobResultSummary): Promise<void> {
    return bookkeeping(() => writeStatus(jobId, status, error, result));
  }

  async function writeStatus(jobId: string, status: JobStatus, error?: { type: string; message: string }, result?: JobResultSummary): Promise<void> {
    if (!deps.sql) return;
    const terminal = status === 'completed' || status === 'failed' || status === 'cancelled';
    // The status it had (locked, so two writers see a change once), for the observer.
    const [changed] = await deps.sql<{ from: string; kind: string; seconds: number | null }[]>`
      with old as (select id, status, kind, coalesce(started_at, created_at) as began from jobs where id = ${jobId} for update)
      update jobs j set status = ${status},
        finished_at = case when ${terminal} then now() else null end,
        error = ${error ? JSON.stringify(error) : null}::jsonb,
        result = coalesce(${result ? JSON.stringify(result) : null}::jsonb, j.result)
      from old where j.id = old.id
      returning old.status as "from", old.kind, extract(epoch from now() - old.began)::float8 as seconds`;
    if (changed && changed.from !== status) deps.observer?.statusChanged?.(changed.kind, changed.from, status, terminal ? (changed.seconds ?? undefined) : undefined);
  }

  async function echo(message: string): Promise<{ message: string; worker: string }> {
    return { message, worker: `${os.hostname()}:${process.pid}` };
  }

  return { planJob, runShard, finalizeJob, forgetJobKey, cleanupJob, releaseLoad, recordStatus, echo, ...createRetentionActivities(deps) };
}

export type JobActivities = ReturnType<typeof createActivities>;
