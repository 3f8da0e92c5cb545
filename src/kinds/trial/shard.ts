/** Trial shards, on a shard thread: rows of `vitals` from the generator, written by the engine's table writer, with the quality sums. */
import type { ShardRunner } from '../../engine/kind.js';
import { writeTableShard } from '../../engine/table-shard.js';
import { createTrialTable } from './generate.js';
import type { TrialModel } from './model.js';
import { TrialStats } from './quality.js';
import type { ResolvedTrialSpec } from './spec.js';

export interface TrialPayload {
  spec: ResolvedTrialSpec;
  model: TrialModel;
}

export const runShard: ShardRunner<TrialPayload> = (run) => {
  const gen = createTrialTable(run.payload.spec, run.payload.model);
  const V = run.payload.spec.visits.length;
  return writeTableShard(gen, run, (resumed) => {
    const stats = TrialStats.fromTotals(V, resumed);
    return {
      add(b) {
        stats.add(b);
        stats.addPairs(gen, b);
      },
      totals: () => stats.toTotals(),
    };
  });
};
