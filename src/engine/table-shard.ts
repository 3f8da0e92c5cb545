/**
 * The shard runner of kinds that generate tables (trial, relational, patients): rows of one table
 * in [shard.start, shard.end), part by part; each part is encoded, written to a temp name, fsynced,
 * renamed and committed (the part list is the checkpoint), so a retry resumes after the last
 * closed part. Runs on a shard thread; the generator is pure.
 */
import path from 'node:path';
import { TableDigest } from '../data/digest.js';
import type { TableGenerator } from '../data/batch.js';
import { openPart } from '../destinations/index.js';
import type { ShardRun } from './kind.js';
import { partExtension } from '../encoders/index.js';
import { partName } from './job-files.js';
import type { FileRecord } from './types.js';

const BATCH_ROWS = 65_536;
const PROGRESS_EVERY_MS = 200;

export async function writeTableShard(table: TableGenerator, run: ShardRun): Promise<{ stopped: boolean }> {
  const { shard, io } = run;
  const { format, compression } = run.input.output;
  const ext = partExtension(format, compression);
  const done: FileRecord[] = run.resume?.files ?? [];
  let rows = done.reduce((n, f) => n + f.rows, 0);
  let lastReport = 0;
  for (let k = done.length; shard.start + k * shard.partSize < shard.end; k++) {
    if (io.shouldStop()) return { stopped: true };
    const partStart = shard.start + k * shard.partSize;
    const partEnd = Math.min(shard.end, partStart + shard.partSize);
    const name = partName(table.table, shard.firstPart + k, ext);
    const sink = await openPart({ path: path.join(io.jobDir, name), format, compression, schema: table.schema });
    const digest = new TableDigest();
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
        if (now - lastReport > PROGRESS_EVERY_MS) {
          lastReport = now;
          io.progress(rows + (b - partStart));
        }
      }
      await writing;
      const written = await sink.finish();
      rows += written.rows;
      await io.commit({ checkpoint: null, files: [{ name, table: table.table, ...written, digest: digest.toString() }], units: rows });
    } catch (err) {
      await writing.catch(() => undefined);
      await sink.abort().catch(() => undefined);
      throw err;
    }
  }
  return { stopped: false };
}
