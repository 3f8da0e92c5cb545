/**
 * The shard runner of kinds that generate tables (trial, relational, patients): rows of one table
 * in [shard.start, shard.end), part by part; each part is encoded, written to a temp name, fsynced,
 * renamed and committed (the part list is the checkpoint), so a retry resumes after the last
 * closed part. Runs on a shard thread; the generator is pure.
 *
 * With a Postgres load (`io.load`), each part's batches also go to `COPY schema.table FROM STDIN`
 * in one transaction with the part's marker row (src/destinations/postgres.ts); a part whose
 * marker is there already (an earlier attempt committed it) is not copied again. The transaction
 * commits after the file is in place and before `io.commit`, so a committed part is always in
 * both, and a part retried after a crash in between is written again to the file only.
 */
import path from 'node:path';
import { TableDigest } from '../data/digest.js';
import type { Batch, TableGenerator } from '../data/batch.js';
import { ENCRYPTED_EXTENSION, openPart, openPartLoad } from '../destinations/index.js';
import type { Destination } from '../destinations/index.js';
import type { ShardIO, ShardRun } from './kind.js';
import { openPgCopy, partExtension, type Encoder } from '../encoders/index.js';
import { partName } from './job-files.js';
import type { FileRecord } from './types.js';

const BATCH_ROWS = 65_536;
const PROGRESS_EVERY_MS = 200;

/**
 * A kind's running sums over the rows it writes (e.g. trial's quality statistics): `add` sees every
 * batch of a part before the part is committed; `totals` are committed with it (as the shard's
 * totals, which the engine adds up across shards). Made from the totals of the commit a retry
 * resumes from, so that each committed row is counted once.
 */
export interface RowObserver {
  add(batch: Batch): void;
  totals(): Record<string, number>;
}

export async function writeTableShard(
  table: TableGenerator,
  run: ShardRun,
  observer?: (resumed: Record<string, number> | undefined) => RowObserver,
): Promise<{ stopped: boolean }> {
  const { shard, io } = run;
  const observe = observer?.(run.resume?.totals);
  const { format, compression } = run.input.output;
  if (run.input.output.encryption && !io.encryption) throw new Error(`job ${run.input.jobId} is encrypted, and the shard has no key`);
  const ext = partExtension(format, compression) + (io.encryption ? ENCRYPTED_EXTENSION : '');
  const done: FileRecord[] = run.resume?.files ?? [];
  let rows = done.reduce((n, f) => n + f.rows, 0);
  let lastReport = 0;
  // The batch before last, whose write has settled: the generator may refill its arrays (TableGenerator.batch).
  let spare: Batch | undefined;
  let last: Batch | undefined;
  for (let k = done.length; shard.start + k * shard.partSize < shard.end; k++) {
    if (io.shouldStop()) return { stopped: true };
    const partStart = shard.start + k * shard.partSize;
    const partEnd = Math.min(shard.end, partStart + shard.partSize);
    const name = partName(table.table, shard.firstPart + k, ext);
    const sink = await openPart({
      path: path.join(io.jobDir, name),
      format,
      compression,
      schema: table.schema,
      ...(io.encryption ? { encryption: { jobKey: io.encryption, name } } : {}),
    });
    let load: PartLoad | null = null;
    try {
      load = io.load ? await openLoad(io.load, table, shard.firstPart + k, partEnd - partStart) : null;
    } catch (err) {
      await sink.abort().catch(() => undefined);
      throw err;
    }
    const digest = new TableDigest();
    // The next batch is generated while the previous one is written (its pages compressed).
    let writing: Promise<void> = Promise.resolve();
    try {
      for (let a = partStart; a < partEnd; a += BATCH_ROWS) {
        const b = Math.min(partEnd, a + BATCH_ROWS);
        const batch = table.batch(a, b, spare);
        digest.add(batch, table.schema);
        observe?.add(batch);
        await writing;
        writing = load ? both(sink.write(batch), load.encoder.write(batch)) : sink.write(batch);
        writing.catch(() => undefined);
        spare = last;
        last = batch;
        const now = Date.now();
        if (now - lastReport > PROGRESS_EVERY_MS) {
          lastReport = now;
          io.progress(rows + (b - partStart));
        }
      }
      await writing;
      const written = await sink.finish();
      if (load) {
        await load.encoder.finish();
        await load.dest.commit();
        load = null;
      }
      rows += written.rows;
      await io.commit({
        checkpoint: null,
        files: [{ name, table: table.table, ...written, digest: digest.toString() }],
        units: rows,
        ...(observe ? { totals: observe.totals() } : {}),
      });
    } catch (err) {
      await writing.catch(() => undefined);
      await sink.abort().catch(() => undefined);
      load?.encoder.destroy();
      await load?.dest.abort().catch(() => undefined);
      throw err;
    }
  }
  return { stopped: false };
}

interface PartLoad {
  dest: Destination;
  encoder: Encoder;
}

/** Opens a part's COPY (null: the part is loaded already). */
async function openLoad(load: NonNullable<ShardIO['load']>, table: TableGenerator, part: number, rows: number): Promise<PartLoad | null> {
  const dest = await openPartLoad({ sql: load.sql, schema: load.schema, table: table.table, columns: table.schema.map((c) => c.name), jobId: load.jobId, part, rows });
  return dest ? { dest, encoder: openPgCopy(dest, table.schema) } : null;
}

/** Both writes settled (neither is still running when the part is aborted); the first failure, if any. */
async function both(a: Promise<void>, b: Promise<void>): Promise<void> {
  const [x, y] = await Promise.allSettled([a, b]);
  if (x.status === 'rejected') throw x.reason;
  if (y.status === 'rejected') throw y.reason;
}
