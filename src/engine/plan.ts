/**
 * The shard grid: a plan's segments cut into shards and parts, and shard i resolved from it.
 * Pure (the workflow uses it): a plan of any size stays a few numbers per segment.
 */
import type { JobPlan, PlanSegment, ShardRef } from './types.js';

/** Shards of one segment (an empty segment has none). */
export function segmentShards(s: Pick<PlanSegment, 'start' | 'end' | 'shardSize'>): number {
  return s.end > s.start ? Math.ceil((s.end - s.start) / s.shardSize) : 0;
}

/** Parts per full shard of a segment. */
export function partsPerShard(s: Pick<PlanSegment, 'shardSize' | 'partSize'>): number {
  return Math.ceil(s.shardSize / s.partSize);
}

export function shardCount(segments: readonly PlanSegment[]): number {
  return segments.reduce((n, s) => n + segmentShards(s), 0);
}

/** Shard i of the plan: which table, which index range, where its part numbers start. */
export function shardAt(plan: Pick<JobPlan, 'segments'>, index: number): ShardRef {
  let i = index;
  // Part numbers run on across the segments of one table.
  const partsSoFar = new Map<string, number>();
  for (const s of plan.segments) {
    const n = segmentShards(s);
    const base = partsSoFar.get(s.table) ?? 0;
    if (i < n) {
      const start = s.start + i * s.shardSize;
      return { index, table: s.table, start, end: Math.min(s.end, start + s.shardSize), partSize: s.partSize, firstPart: base + i * partsPerShard(s) };
    }
    i -= n;
    partsSoFar.set(s.table, base + n * partsPerShard(s));
  }
  throw new RangeError(`shard ${index} is outside the plan (${shardCount(plan.segments)} shards)`);
}
