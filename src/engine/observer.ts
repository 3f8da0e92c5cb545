/**
 * What the engine reports while it works, for whoever watches (the worker turns it into
 * Prometheus metrics: src/worker/metrics.ts). Every method is optional; the engine never
 * depends on a metrics library.
 */
export interface EngineObserver {
  /** A shard committed `units` more work units (rows, …) and `bytes` more bytes of files. */
  committed?(kind: string, format: string, units: number, bytes: number): void;
  /**
   * A shard's committed totals grew by `delta` (the kind's own sums, e.g. `activities.<type>` of
   * emissions), reported with each commit as `committed` is.
   */
  totalsCommitted?(kind: string, delta: Record<string, number>): void;
  /** A shard attempt that ended with the shard complete, and how long that attempt ran. */
  shardCompleted?(kind: string, seconds: number): void;
  /** A shard attempt that is a retry (attempt > 1) started. */
  shardRetried?(kind: string): void;
  /** A running shard found Postgres unreachable and waits to go on from its last commit (no attempt spent). */
  shardWaitedForPostgres?(kind: string): void;
  /** A job's recorded status changed; `jobSeconds` (since it started) when the new one is terminal. */
  statusChanged?(kind: string, from: string, to: string, jobSeconds?: number): void;
  /** Retention removed `n` more finished jobs (src/engine/retention.ts). */
  jobsExpired?(n: number): void;
}
