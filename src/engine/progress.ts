/**
 * The API's progress object from what the workflow and the running shards report. Pure, so the
 * arithmetic is tested without a server: `done` adds the units inside running shards (from their
 * heartbeats) to the completed shards', never goes below the previous answer (a high-water mark
 * the caller keeps), and the rate and ETA are null while nothing runs.
 */
import type { ApiProgress, JobProgress, JobStatus, ProgressUnit, ShardCounts } from './types.js';

export type { ApiProgress };

export interface ProgressReading {
  status: JobStatus;
  unit: ProgressUnit;
  /** The job's size (from its record). */
  total: number;
  /** The workflow's `progress` query answer, when it answered. */
  query?: JobProgress;
  /** Heartbeat details of pending shard activities. */
  heartbeats: ReadonlyArray<{ shardIndex: number; unitsDone: number }>;
  /** The largest `done` answered before (0 at first). */
  highWater: number;
  /** Shard counts when the workflow did not answer (e.g. a completed job's result). */
  shards?: ShardCounts;
  /** Epoch ms: when the job started, when it ended (terminal jobs), and now. */
  startedAt: number;
  finishedAt?: number;
  now: number;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

export function liveProgress(r: ProgressReading): ApiProgress {
  const running = r.status === 'running';
  let done = r.status === 'completed' ? r.total : (r.query?.done ?? 0);
  if (r.query && (running || r.status === 'paused' || r.status === 'cancelling')) {
    const inFlight = new Set(r.query.runningShards);
    for (const h of r.heartbeats) if (inFlight.has(h.shardIndex)) done += h.unitsDone;
  }
  done = Math.min(r.total, Math.max(done, r.highWater));
  const end = r.finishedAt ?? r.now;
  const seconds = Math.max(0.001, (end - r.startedAt) / 1000);
  const phase = r.status === 'completed' ? 'done' : (r.query?.phase ?? null);
  const moving = (running && phase !== 'finalizing') || r.status === 'completed';
  const rate = moving && done > 0 ? done / seconds : null;
  return {
    // The kind's unit, which the API knows from the registry: before its plan the workflow cannot tell it.
    unit: r.unit,
    done,
    total: r.total,
    fraction: r.total > 0 ? done / r.total : 0,
    ratePerSecond: rate === null ? null : Math.round(rate),
    etaSeconds: r.status === 'completed' ? 0 : moving && rate ? round1((r.total - done) / rate) : null,
    shards: r.query?.shards ?? r.shards ?? { total: 0, completed: 0, running: 0 },
    phase,
    ...(r.query?.totals ? { totals: r.query.totals } : {}),
  };
}
