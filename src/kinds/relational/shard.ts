/** Relational shards, on a shard thread: rows of one table from the generator, written by the engine's table writer. */
import type { ShardRunner } from '../../engine/kind.js';
import { writeTableShard } from '../../engine/table-shard.js';
import { createRelationalTables, type RelationalTables } from './generate.js';
import { childCounter, type Layouts } from './layout.js';
import type { RelationalSpec } from './spec.js';

/** What a shard needs: the spec and the layouts (offsets only; the draws are recomputed). */
export interface RelationalPayload {
  spec: RelationalSpec;
  rows: number[];
  children: Array<{ table: number; parentRows: number; offsets: number[] }>;
}

export function layoutsFromPayload(p: RelationalPayload): Layouts {
  const children = new Map(
    p.children.map((c) => {
      const t = p.spec.tables[c.table]!;
      if (typeof t.rows === 'number') throw new Error(`table ${t.name} is not perParent`);
      const offsets = Float64Array.from(c.offsets);
      return [c.table, { parentRows: c.parentRows, rows: offsets[offsets.length - 1]!, offsets, count: childCounter(p.spec.seed, t.name, t.rows.distribution) }];
    }),
  );
  return { rows: p.rows, children };
}

/** Generators per job, kept for the thread's recent jobs. */
const cache = new Map<string, RelationalTables>();
const CACHE = 8;

export const runShard: ShardRunner<RelationalPayload> = (run) => {
  let t = cache.get(run.input.jobId);
  if (!t) {
    t = createRelationalTables(run.payload.spec, layoutsFromPayload(run.payload));
    cache.set(run.input.jobId, t);
    if (cache.size > CACHE) cache.delete(cache.keys().next().value!);
  }
  const table = t.tables.find((g) => g.table === run.shard.table);
  if (!table) throw new Error(`the spec has no table ${run.shard.table}`);
  return writeTableShard(table, run);
};
