/**
 * Where a job's files live, and the small JSON records that make shards resumable:
 *   $SHARDFLOW_DATA_DIR/jobs/{id}/manifest.json               (src/engine/manifest.ts)
 *   $SHARDFLOW_DATA_DIR/jobs/{id}/{table}/part-00000.parquet …
 *   $SHARDFLOW_DATA_DIR/jobs/{id}/.state/plan.json            (the shard grid, fixed at the first plan)
 *   $SHARDFLOW_DATA_DIR/jobs/{id}/.state/shard-00000.json     (a shard's last commit, then its completion)
 * This is the one place that builds these paths.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { cleanTempFiles, tempPathFor } from '../destinations/index.js';
import type { FileRecord, JobPlan, ShardState } from './types.js';

export const JOB_ID_PATTERN = /^job-[A-Za-z0-9_-]{1,64}$/;

/** The job's folder; throws on anything that is not a job id (so no path ever escapes the data folder). */
export function jobDir(dataDir: string, jobId: string): string {
  if (!JOB_ID_PATTERN.test(jobId)) throw new Error(`invalid job id: ${JSON.stringify(jobId)}`);
  return path.resolve(dataDir, 'jobs', jobId);
}

const stateDir = (dataDir: string, jobId: string) => path.join(jobDir(dataDir, jobId), '.state');
export const planPath = (dataDir: string, jobId: string) => path.join(stateDir(dataDir, jobId), 'plan.json');
export const manifestPath = (dataDir: string, jobId: string) => path.join(jobDir(dataDir, jobId), 'manifest.json');
export const shardRecordPath = (dataDir: string, jobId: string, shardIndex: number) =>
  path.join(stateDir(dataDir, jobId), `shard-${String(shardIndex).padStart(5, '0')}.json`);

/** `{table}/part-NNNNN{ext}`: part numbers run across a table's shards, so names sort in row order. */
export function partName(table: string, part: number, ext: string): string {
  return `${table}/part-${String(part).padStart(5, '0')}${ext}`;
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempPathFor(file);
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(JSON.stringify(value, null, 2) + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, file);
}

export async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch (err: any) {
    if (err?.code === 'ENOENT') return undefined;
    throw err;
  }
}

export const readShardRecord = (dataDir: string, jobId: string, shardIndex: number) =>
  readJson<ShardState>(shardRecordPath(dataDir, jobId, shardIndex));

/** True when every file is there with its recorded size: a checkpoint is only as good as its files. */
export async function filesIntact(dir: string, files: readonly FileRecord[]): Promise<boolean> {
  for (const f of files) {
    const st = await fs.stat(path.join(dir, f.name)).catch(() => undefined);
    if (!st?.isFile() || st.size !== f.bytes) return false;
  }
  return true;
}

/** Removes temp files (see destinations' isTempFileName) anywhere under a job's folder. */
export async function removeTempFiles(dir: string): Promise<number> {
  let removed = (await cleanTempFiles(dir)).length;
  for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory()) removed += await removeTempFiles(path.join(dir, e.name));
  }
  return removed;
}

/** The grid as first planned: kept in `.state/plan.json`, so no later run or worker setting changes it. */
export type StoredPlan = Pick<JobPlan, 'unit' | 'total' | 'shardCount' | 'segments' | 'tables'> & { kind: string };

export const readStoredPlan = (dataDir: string, jobId: string) => readJson<StoredPlan>(planPath(dataDir, jobId));
