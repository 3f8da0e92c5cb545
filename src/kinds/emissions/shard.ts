/**
 * Emissions shards, on a shard thread: the key range [start, end) of activity ids, batch by batch
 * (keyset: the next `batchSize` matching ids after the cursor), each batch calculated and committed
 * in one transaction (calculate.ts), then `io.commit` with the cursor and the running totals.
 * A retry resumes at the committed cursor; a batch committed in Postgres but not yet checkpointed
 * is done again harmlessly (ON CONFLICT DO NOTHING, and its counts are of this run's rows).
 */
import type { ShardRunner } from '../../engine/kind.js';
import { calculateBatch, nextBatchEnd } from './calculate.js';
import { scopeOf } from './index.js';
import type { EmissionsSpec } from './spec.js';

interface Checkpoint {
  /** Ids below this are done. */
  cursor: number;
}

export const runShard: ShardRunner<unknown, Checkpoint> = async ({ input, shard, resume, io }) => {
  const sql = io.db;
  if (!sql) throw new Error('the emissions kind needs the service database (Kind.usesDatabase)');
  const spec = input.spec as unknown as EmissionsSpec;
  const scope = scopeOf(input.tenantId, spec);
  let cursor = resume?.checkpoint?.cursor ?? shard.start;
  let units = resume?.unitsCommitted ?? 0;
  const totals: Record<string, number> = { ...(resume?.totals ?? {}) };
  for (;;) {
    if (io.shouldStop()) return { stopped: true };
    const end = await nextBatchEnd(sql, scope, cursor, shard.end, spec.batchSize);
    if (end === null) break;
    const batch = await calculateBatch(sql, scope, input.jobId, cursor, end);
    units += batch.units;
    for (const [k, v] of Object.entries(batch.totals)) totals[k] = (totals[k] ?? 0) + v;
    cursor = end;
    await io.commit({ checkpoint: { cursor }, units, totals: { ...totals } });
  }
  if (cursor < shard.end) await io.commit({ checkpoint: { cursor: shard.end }, units, totals: { ...totals } });
  return { stopped: false };
};
