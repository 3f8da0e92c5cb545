/**
 * One shard's work, run inside a worker thread: generate rows part by part, encode, write each
 * part atomically, record a checkpoint after every closed part. Pure generators + sinks; no Temporal.
 */
import path from 'node:path';
import { TableDigest } from '../data/digest.js';
import type { TableGenerator } from '../data/batch.js';
import { createTrialTable } from '../kinds/trial/generate.js';
import { openPart } from '../destinations/index.js';
import type { Compression, OutputFormat } from '../encoders/types.js';
import type { ShardPayload } from '../kinds/index.js';
import type { PartRecord, ShardCheckpoint } from './types.js';
import { jobDir, partExtension, partName, shardRecordPath, writeJsonAtomic, type ShardRecord } from './job-files.js';

export interface ShardJob {
  dataDir: string;
  jobId: string;
  format: OutputFormat;
  compression: Compression;
  payload: ShardPayload;
  shardIndex: number;
  rowStart: number;
  rowEnd: number;
  partRows: number;
  partsPerShard: number;
  /** Parts closed by an earlier attempt (from heartbeat details or the shard record). */
  resume: PartRecord[];
}

export interface ShardOutcome {
  checkpoint: ShardCheckpoint;
  /** True when stopped on request (pause/cancel) before the last part. */
  stopped: boolean;
}

const BATCH_ROWS = 65_536;

export function buildTables(payload: ShardPayload): TableGenerator[] {
  switch (payload.kind) {
    case 'trial':
      return [createTrialTable(payload.spec as any, payload.model as any)];
    default:
      throw new Error(`kind "${payload.kind}" has no generator`);
  }
}

export async function runShardWork(
  job: ShardJob,
  shouldStop: () => boolean,
  onProgress: (cp: ShardCheckpoint) => void,
): Promise<ShardOutcome> {
  const [table] = buildTables(job.payload);
  if (!table) throw new Error('no table to generate');
  const dir = jobDir(job.dataDir, job.jobId);
  const ext = partExtension(job.format, job.compression);
  const parts = [...job.resume];
  let rowsCommitted = parts.reduce((n, p) => n + p.rows, 0);
  const checkpoint = (rowsWritten: number): ShardCheckpoint => ({
    shardIndex: job.shardIndex,
    rowsCommitted,
    rowsWritten,
    parts: [...parts],
  });

  for (let k = parts.length; job.rowStart + k * job.partRows < job.rowEnd; k++) {
    if (shouldStop()) return { checkpoint: checkpoint(rowsCommitted), stopped: true };
    const partStart = job.rowStart + k * job.partRows;
    const partEnd = Math.min(job.rowEnd, partStart + job.partRows);
    const name = partName(table.table, job.shardIndex * job.partsPerShard + k, ext);
    const sink = await openPart({ path: path.join(dir, name), format: job.format, compression: job.compression, schema: table.schema });
    const digest = new TableDigest();
    let lastReport = 0;
    // The next batch is generated while the previous one is written (its pages compressed).
    let writing: Promise<void> = Promise.resolve();
    try {
      for (let a = partStart; a < partEnd; a += BATCH_ROWS) {
        const b = Math.min(partEnd, a + BATCH_ROWS);
        const batch = table.batch(a, b);
        digest.add(batch, table.schema);
        await writing;
        writing = sink.write(batch);
        writing.catch(() => undefined);
        const now = Date.now();
        if (now - lastReport > 200) {
          lastReport = now;
          onProgress(checkpoint(rowsCommitted + (b - partStart)));
        }
      }
      await writing;
      const written = await sink.finish();
      parts.push({ name, rows: written.rows, bytes: written.bytes, sha256: written.sha256, digest: digest.toString() });
    } catch (err) {
      await writing.catch(() => undefined);
      await sink.abort().catch(() => undefined);
      throw err;
    }
    rowsCommitted += partEnd - partStart;
    const record: ShardRecord = { shardIndex: job.shardIndex, complete: false, rowsCommitted, parts };
    await writeJsonAtomic(shardRecordPath(job.dataDir, job.jobId, job.shardIndex), record);
    onProgress(checkpoint(rowsCommitted));
  }
  const record: ShardRecord = { shardIndex: job.shardIndex, complete: true, rowsCommitted, parts };
  await writeJsonAtomic(shardRecordPath(job.dataDir, job.jobId, job.shardIndex), record);
  return { checkpoint: checkpoint(rowsCommitted), stopped: false };
}
