/**
 * Where a job's files live, and the small JSON records that make shards resumable:
 *   $SHARDFLOW_DATA_DIR/jobs/{id}/manifest.json
 *   $SHARDFLOW_DATA_DIR/jobs/{id}/{table}/part-00000.parquet …
 *   $SHARDFLOW_DATA_DIR/jobs/{id}/.state/shard-00000.json   (checkpoint, then completion record)
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { cleanTempFiles, tempPathFor } from '../destinations/index.js';
import type { OutputFormat, Compression } from '../encoders/types.js';
import type { PartRecord } from './types.js';

export interface ShardRecord {
  shardIndex: number;
  complete: boolean;
  rowsCommitted: number;
  parts: PartRecord[];
}

export const JOB_ID_PATTERN = /^job-[A-Za-z0-9_-]{1,64}$/;

export function jobDir(dataDir: string, jobId: string): string {
  if (!JOB_ID_PATTERN.test(jobId)) throw new Error(`invalid job id: ${jobId}`);
  return path.join(dataDir, 'jobs', jobId);
}

export const stateDir = (dataDir: string, jobId: string) => path.join(jobDir(dataDir, jobId), '.state');
export const shardRecordPath = (dataDir: string, jobId: string, shardIndex: number) =>
  path.join(stateDir(dataDir, jobId), `shard-${String(shardIndex).padStart(5, '0')}.json`);

export function partExtension(format: OutputFormat, compression: Compression): string {
  if (format === 'parquet') return '.parquet';
  const base = format === 'csv' ? '.csv' : '.ndjson';
  return compression === 'gzip' ? `${base}.gz` : base;
}

/** Part names are global (shard × parts per shard + k), so files sort in row order. */
export function partName(table: string, globalPart: number, ext: string): string {
  return `${table}/part-${String(globalPart).padStart(5, '0')}${ext}`;
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
  readJson<ShardRecord>(shardRecordPath(dataDir, jobId, shardIndex));

/** Parts whose files are still there with the recorded size: a checkpoint is only as good as its files. */
export async function verifiedParts(dir: string, parts: PartRecord[]): Promise<PartRecord[]> {
  const ok: PartRecord[] = [];
  for (const part of parts) {
    try {
      const st = await fs.stat(path.join(dir, part.name));
      if (st.size !== part.bytes) break;
    } catch {
      break;
    }
    ok.push(part);
  }
  return ok;
}

/** Removes temp files (see sinks' isTempFileName) anywhere under a job's folder. */
export async function removeTempFiles(dir: string): Promise<number> {
  let removed = (await cleanTempFiles(dir)).length;
  for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory()) removed += await removeTempFiles(path.join(dir, e.name));
  }
  return removed;
}
