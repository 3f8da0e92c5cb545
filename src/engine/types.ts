/**
 * Shapes shared by the job workflow, its activities and the API. Types and pure helpers only:
 * this file is bundled into the deterministic workflow sandbox.
 */
import type { Compression, OutputFormat } from '../encoders/types.js';

export type JobKind = 'trial' | 'relational' | 'patients' | 'emissions';
export type JobStatus = 'running' | 'paused' | 'completed' | 'failed' | 'cancelled';

export interface JobOutput {
  format: OutputFormat;
  compression: Compression;
  postgres?: { schema: string };
}

export interface JobPartitioning {
  shardRows: number;
  maxParallelShards: number;
}

/** The workflow's input: everything a shard needs, fixed when the job is created. */
export interface JobInput {
  jobId: string;
  tenantId: string;
  kind: JobKind;
  spec: Record<string, unknown>;
  output: JobOutput;
  partitioning: JobPartitioning;
}

/** What `planJob` decides: the shard grid, and which shards a previous run already finished. */
export interface JobPlan {
  unit: 'rows' | 'activities' | 'patients';
  totalRows: number;
  shardRows: number;
  shardCount: number;
  /** Rows per part file inside a shard; a part is the unit of checkpointing. */
  partRows: number;
  /** Shards already complete on disk, as inclusive [first, last] ranges. */
  completed: Array<[number, number]>;
  completedRows: number;
  /** Shards one run may complete before it continues as new (bounds history). */
  shardsPerRun: number;
}

export interface ShardTask {
  input: JobInput;
  plan: Pick<JobPlan, 'totalRows' | 'shardRows' | 'partRows' | 'shardCount'>;
  shardIndex: number;
}

/** One closed part file, as recorded in checkpoints and shard records. */
export interface PartRecord {
  name: string;
  rows: number;
  bytes: number;
  sha256: string;
  digest: string;
}

/** Heartbeat details of a running shard: the checkpoint a retry resumes from. */
export interface ShardCheckpoint {
  shardIndex: number;
  /** Rows of this shard in closed parts; a retry continues after them. */
  rowsCommitted: number;
  /** Rows written so far, closed parts plus the open one: what progress shows. */
  rowsWritten: number;
  parts: PartRecord[];
}

export interface ShardResult {
  shardIndex: number;
  rows: number;
  bytes: number;
  parts: number;
  /** Parts reused from an earlier attempt's checkpoint rather than written again. */
  resumedParts: number;
}

export interface JobResultSummary {
  rows: number;
  shards: number;
  files: number;
  bytes: number;
  manifest: string;
  digest: string;
}

export interface ShardCounts {
  total: number;
  completed: number;
  running: number;
}

/** The `progress` query's answer (API.md); the API adds running shards' heartbeats and rate/ETA. */
export interface JobProgress {
  unit: JobPlan['unit'];
  done: number;
  total: number;
  fraction: number;
  paused: boolean;
  phase: 'planning' | 'running' | 'finalizing' | 'done';
  shards: ShardCounts;
  /** Shards running now, so a reader can match heartbeats to them. */
  runningShards: number[];
  /** How many times this job continued as new (history stays bounded). */
  runs: number;
}

/** State carried across continue-as-new. Compact: completed shards as ranges. */
export interface CarriedState {
  plan: JobPlan;
  paused: boolean;
  runs: number;
}

export const SEARCH_ATTRIBUTES = {
  kind: 'ShardflowKind',
  tenant: 'ShardflowTenant',
  rowsTotal: 'ShardflowRowsTotal',
  rowsDone: 'ShardflowRowsDone',
} as const;

/** Adds shard i to a sorted list of inclusive ranges, merging neighbours. */
export function addToRanges(ranges: Array<[number, number]>, i: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let placed = false;
  for (const [a, b] of ranges) {
    if (placed || b < i - 1) {
      out.push([a, b]);
      continue;
    }
    if (a > i + 1) {
      out.push([i, i], [a, b]);
      placed = true;
      continue;
    }
    // overlaps or touches: absorb i, then maybe merge with the next range below
    const merged: [number, number] = [Math.min(a, i), Math.max(b, i)];
    placed = true;
    const last = out[out.length - 1];
    if (last && last[1] >= merged[0] - 1) last[1] = Math.max(last[1], merged[1]);
    else out.push(merged);
  }
  if (!placed) {
    const last = out[out.length - 1];
    if (last && last[1] === i - 1) last[1] = i;
    else out.push([i, i]);
  }
  // a range may now touch its successor
  const merged: Array<[number, number]> = [];
  for (const r of out) {
    const last = merged[merged.length - 1];
    if (last && last[1] >= r[0] - 1) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}

export function inRanges(ranges: Array<[number, number]>, i: number): boolean {
  for (const [a, b] of ranges) if (i >= a && i <= b) return true;
  return false;
}

export function countRanges(ranges: Array<[number, number]>): number {
  let n = 0;
  for (const [a, b] of ranges) n += b - a + 1;
  return n;
}

export function shardRowRange(plan: Pick<JobPlan, 'totalRows' | 'shardRows'>, shardIndex: number): [number, number] {
  const start = shardIndex * plan.shardRows;
  return [start, Math.min(plan.totalRows, start + plan.shardRows)];
}
