/**
 * Activities of the job workflow, built by a factory that receives their dependencies
 * (data folder, database, thread pool, model store). `JobActivities` is what workflows import, as a type.
 */
import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import type postgres from 'postgres';
import { TableDigest } from '../data/digest.js';
import { buildTables } from './shard-work.js';
import type { JobInput, JobPlan, JobResultSummary, JobStatus } from './types.js';
import { addToRanges } from './types.js';
import { jobDir, readShardRecord, removeTempFiles, verifiedParts, writeJsonAtomic } from './job-files.js';
import { kindPlugin } from '../kinds/index.js';
import { UnknownModelError, type ModelStore } from '../kinds/trial/models.js';
import { createRunShard, type ShardDeps } from './shard-activity.js';

export interface ActivityDeps extends ShardDeps {
  sql?: postgres.Sql;
  models: ModelStore;
  shardsPerRun: number;
  /** A part file holds at most this many rows: the unit of checkpointing inside a shard. */
  partRows: number;
}

export function createActivities(deps: ActivityDeps) {
  const runShard = createRunShard(deps);

  async function planJob(input: JobInput): Promise<JobPlan> {
    const plugin = kindPlugin(input.kind);
    try {
      await plugin.prepare(input, deps); // fail fast on an unknown model
    } catch (err) {
      if (err instanceof UnknownModelError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidSpec');
      throw err;
    }
    const totalRows = plugin.tables(input).reduce((n, t) => n + t.rows, 0);
    const shardRows = input.partitioning.shardRows;
    const shardCount = Math.max(1, Math.ceil(totalRows / shardRows));
    const dir = jobDir(deps.dataDir, input.jobId);
    let completed: Array<[number, number]> = [];
    let completedRows = 0;
    // A resumed job (after failure or cancel) keeps every shard whose files are all still there.
    for (let i = 0; i < shardCount; i++) {
      const record = await readShardRecord(deps.dataDir, input.jobId, i);
      if (!record?.complete) continue;
      const parts = await verifiedParts(dir, record.parts);
      if (parts.length !== record.parts.length) continue;
      completed = addToRanges(completed, i);
      completedRows += record.rowsCommitted;
    }
    return {
      unit: plugin.unit,
      totalRows,
      shardRows,
      shardCount,
      partRows: Math.min(shardRows, deps.partRows),
      completed,
      completedRows,
      shardsPerRun: deps.shardsPerRun,
    };
  }

  async function finalizeJob(input: JobInput, plan: JobPlan): Promise<JobResultSummary> {
    const dir = jobDir(deps.dataDir, input.jobId);
    const payload = await kindPlugin(input.kind).prepare(input, deps);
    const [table] = buildTables(payload);
    if (!table) throw new Error('no table');
    const digest = new TableDigest();
    const files: Array<{ name: string; rows: number; bytes: number; sha256: string }> = [];
    let rows = 0;
    for (let i = 0; i < plan.shardCount; i++) {
      const record = await readShardRecord(deps.dataDir, input.jobId, i);
      if (!record?.complete) throw new Error(`shard ${i} has no completion record`);
      for (const part of record.parts) {
        files.push({ name: part.name, rows: part.rows, bytes: part.bytes, sha256: part.sha256 });
        digest.merge(part.digest);
        rows += part.rows;
      }
    }
    if (rows !== plan.totalRows) throw new Error(`finalize: ${rows} rows on disk, ${plan.totalRows} planned`);
    const bytes = files.reduce((n, f) => n + f.bytes, 0);
    const spec = payload.spec as Record<string, unknown>;
    const manifest = {
      manifestVersion: 1,
      jobId: input.jobId,
      kind: input.kind,
      spec,
      seed: spec.seed,
      output: input.output,
      partitioning: input.partitioning,
      rows,
      bytes,
      tables: [{ name: table.table, columns: table.schema, rows, digest: digest.toString(), files }],
    };
    await removeTempFiles(dir);
    await writeJsonAtomic(path.join(dir, 'manifest.json'), manifest);
    const result: JobResultSummary = { rows, shards: plan.shardCount, files: files.length, bytes, manifest: 'manifest.json', digest: digest.toString() };
    await recordStatus(input.jobId, 'completed', undefined, result);
    return result;
  }

  /** After a cancel: no temp files stay behind (closed parts stay, for a later resume). */
  async function cleanupJob(jobId: string): Promise<number> {
    return removeTempFiles(jobDir(deps.dataDir, jobId));
  }

  async function recordStatus(jobId: string, status: JobStatus, error?: { type: string; message: string }, result?: JobResultSummary): Promise<void> {
    if (!deps.sql) return;
    const terminal = status === 'completed' || status === 'failed' || status === 'cancelled';
    await deps.sql`
      update jobs set status = ${status},
        finished_at = case when ${terminal} then now() else null end,
        error = ${error ? JSON.stringify(error) : null}::jsonb,
        result = coalesce(${result ? JSON.stringify(result) : null}::jsonb, result)
      where id = ${jobId}`;
  }

  async function echo(message: string): Promise<{ message: string; worker: string }> {
    return { message, worker: `${os.hostname()}:${process.pid}` };
  }

  return { planJob, runShard, finalizeJob, cleanupJob, recordStatus, echo };
}

export type JobActivities = ReturnType<typeof createActivities>;

/** Exposed for the files API: a job folder exists. */
export async function jobFolderExists(dataDir: string, jobId: string): Promise<boolean> {
  return fs.stat(jobDir(dataDir, jobId)).then(() => true, () => false);
}
