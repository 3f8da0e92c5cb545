/** Trial shards, on a shard thread: rows of `vitals` from the generator, written by the engine's table writer. */
import type { ShardRunner } from '../../engine/kind.js';
import { writeTableShard } from '../../engine/table-shard.js';
import { createTrialTable } from './generate.js';
import type { TrialModel } from './model.js';
import type { ResolvedTrialSpec } from './spec.js';

export interface TrialPayload {
  spec: ResolvedTrialSpec;
  model: TrialModel;
}

export const runShard: ShardRunner<TrialPayload> = (run) => writeTableShard(createTrialTable(run.payload.spec, run.payload.model), run);
