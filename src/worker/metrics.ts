/**
 * The worker's own Prometheus metrics (prom-client), served with the Temporal SDK's on the
 * worker's metrics port (src/worker/metrics-server.ts). The engine reports through an
 * EngineObserver; this module is the only place that knows metric names on the worker.
 *
 * Names are stable (docs/operations.md lists them); labels are bounded: kind, format, status.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EngineObserver } from '../engine/observer.js';
import type { ActivitySlots } from './slots.js';

/** Seconds: a shard runs seconds to hours; a job minutes to days. */
const SHARD_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200];
const JOB_BUCKETS = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 16 * 3600, 24 * 3600, 48 * 3600];

export interface WorkerMetrics {
  registry: Registry;
  observer: EngineObserver;
  /** Slot and memory-guard gauges read from these slots at each scrape. */
  watchSlots(slots: ActivitySlots): void;
}

export function createWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const rows = new Counter({
    name: 'shardflow_rows_generated_total',
    help: 'Work units (rows, patients, activities) committed by shards, by kind and output format.',
    labelNames: ['kind', 'format'] as const,
    registers: [registry],
  });
  const bytes = new Counter({
    name: 'shardflow_bytes_written_total',
    help: 'Bytes of part files committed by shards, by kind and output format.',
    labelNames: ['kind', 'format'] as const,
    registers: [registry],
  });
  const shardSeconds = new Histogram({
    name: 'shardflow_shard_duration_seconds',
    help: 'Run time of shard attempts that completed their shard, by kind.',
    labelNames: ['kind'] as const,
    buckets: SHARD_BUCKETS,
    registers: [registry],
  });
  const retries = new Counter({
    name: 'shardflow_shard_retries_total',
    help: 'Shard attempts after the first (a retry after a failure, a timeout or a lost worker), by kind.',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const pgWaits = new Counter({
    name: 'shardflow_shard_postgres_waits_total',
    help: 'Times a running shard found Postgres unreachable and waited to go on from its last commit (no attempt spent), by kind.',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const jobSeconds = new Histogram({
    name: 'shardflow_job_duration_seconds',
    help: 'Time from a job start to its terminal status (completed, failed, cancelled), by kind.',
    labelNames: ['kind'] as const,
    buckets: JOB_BUCKETS,
    registers: [registry],
  });
  const changes = new Counter({
    name: 'shardflow_job_status_changes_total',
    help: 'Job status changes recorded by this worker, by kind, previous and new status.',
    labelNames: ['kind', 'from', 'to'] as const,
    registers: [registry],
  });
  const expired = new Counter({
    name: 'shardflow_jobs_expired_total',
    help: 'Finished jobs removed by retention (SHARDFLOW_RETENTION_DAYS) on this worker.',
    registers: [registry],
  });
  const activities = new Counter({
    name: 'shardflow_activities_calculated_total',
    help: 'Activities whose emissions shards calculated and committed (shard totals `activities.<type>`), by activity type.',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  const watched: ActivitySlots[] = [];
  const read = (f: (s: ReturnType<ActivitySlots['stats']>) => number) => watched.reduce((n, s) => n + f(s.stats()), 0);
  new Gauge({
    name: 'shardflow_worker_shards_running',
    help: 'Shards this worker process runs now.',
    registers: [registry],
    collect() {
      this.set(read((s) => s.shardsRunning));
    },
  });
  new Gauge({
    name: 'shardflow_worker_shards_max',
    help: 'Activities (shards and bookkeeping steps) this worker process runs at most at once (WORKER_MAX_CONCURRENT_ACTIVITIES).',
    registers: [registry],
    collect() {
      this.set(read((s) => s.max));
    },
  });
  new Gauge({
    name: 'shardflow_worker_memory_guard_engaged',
    help: '1 while the memory guard refuses new activities (resident memory above WORKER_MAX_RSS_MB), else 0.',
    registers: [registry],
    collect() {
      this.set(read((s) => (s.memoryGuard.engaged ? 1 : 0)));
    },
  });
  new Gauge({
    name: 'shardflow_worker_memory_limit_bytes',
    help: 'The memory guard limit on resident memory (WORKER_MAX_RSS_MB); 0 when there is none.',
    registers: [registry],
    collect() {
      this.set(read((s) => s.memoryGuard.maxRssBytes ?? 0));
    },
  });
  const observer: EngineObserver = {
    committed(kind, format, units, n) {
      if (units > 0) rows.inc({ kind, format }, units);
      if (n > 0) bytes.inc({ kind, format }, n);
    },
    totalsCommitted(_kind, delta) {
      for (const [k, v] of Object.entries(delta)) {
        const m = /^activities\.(electricity|goods_services|air_travel)$/.exec(k);
        if (m) activities.inc({ type: m[1]! }, v);
      }
    },
    shardCompleted: (kind, seconds) => shardSeconds.observe({ kind }, seconds),
    shardRetried: (kind) => retries.inc({ kind }),
    shardWaitedForPostgres: (kind) => pgWaits.inc({ kind }),
    statusChanged(kind, from, to, seconds) {
      changes.inc({ kind, from, to });
      if (seconds !== undefined) jobSeconds.observe({ kind }, seconds);
    },
    jobsExpired: (n) => expired.inc(n),
  };
  return { registry, observer, watchSlots: (slots) => void watched.push(slots) };
}
