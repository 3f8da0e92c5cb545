/**
 * The API's Prometheus registry, served at GET /metrics. Add `shardflow_*` metrics to it:
 *
 *   import { registry } from '../metrics.js';
 *   const jobsStarted = new Counter({ name: 'shardflow_jobs_started_total', help: '…', labelNames: ['kind'], registers: [registry] });
 *
 * Metrics are process-wide (module singletons), so creating several apps (tests) is fine.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const httpRequestsTotal = new Counter({
  name: 'http_requests_total',
  help: 'HTTP requests answered, by method, route template and status.',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [registry],
});

export const httpRequestDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'Time to answer an HTTP request (until the handler returns; streamed bodies excluded).',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

/** Jobs by kind and status, counted in Postgres at each scrape (every tenant's). */
export const jobsGauge = new Gauge({
  name: 'shardflow_jobs',
  help: 'Jobs by kind and recorded status (all tenants), read from Postgres at each scrape.',
  labelNames: ['kind', 'status'] as const,
  registers: [registry],
});

/** Status changes the API records itself (create: from "new"; pause, resume, cancel); the workers count theirs. */
export const apiStatusChanges = new Counter({
  name: 'shardflow_job_status_changes_total',
  help: 'Job status changes recorded by this API process (from "new" for a created job), by kind, previous and new status.',
  labelNames: ['kind', 'from', 'to'] as const,
  registers: [registry],
});

export const dbConnections = new Gauge({
  name: 'shardflow_db_connections',
  help: "Connections to shardflow's database by application name and state (pg_stat_activity), at each scrape.",
  labelNames: ['application', 'state'] as const,
  registers: [registry],
});

export const dbPoolMax = new Gauge({
  name: 'shardflow_db_pool_max',
  help: "The most connections this API process's pool opens (DB_POOL_MAX).",
  registers: [registry],
});

export const dataDiskFree = new Gauge({
  name: 'shardflow_data_disk_free_bytes',
  help: 'Bytes available to shardflow on the file system of SHARDFLOW_DATA_DIR.',
  registers: [registry],
});

export const dataDiskSize = new Gauge({
  name: 'shardflow_data_disk_size_bytes',
  help: 'Size in bytes of the file system of SHARDFLOW_DATA_DIR.',
  registers: [registry],
});
