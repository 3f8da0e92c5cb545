/**
 * A kind plugs into the engine with a planner (how many rows, in which tables) and a
 * preparer (what a shard thread needs to generate its rows: resolved spec, fitted model).
 * The workflow, progress, control, search attributes and files stay the same for every kind.
 */
import type { JobInput, JobKind, JobPlan } from '../engine/types.js';
import type { ModelStore } from './trial/models.js';
import { trialKind } from './trial/kind.js';

export interface KindDeps {
  models: ModelStore;
}

export interface TablePlan {
  name: string;
  rows: number;
}

/** Serialisable: posted to a worker thread, which builds its generators from it. */
export interface ShardPayload {
  kind: JobKind;
  [key: string]: unknown;
}

export interface KindPlugin {
  unit: JobPlan['unit'];
  tables(input: JobInput): TablePlan[];
  prepare(input: JobInput, deps: KindDeps): Promise<ShardPayload>;
}

export const kinds: Partial<Record<JobKind, KindPlugin>> = { trial: trialKind };

export function kindPlugin(kind: JobKind): KindPlugin {
  const plugin = kinds[kind];
  if (!plugin) throw new Error(`kind "${kind}" is not available on this worker`);
  return plugin;
}
