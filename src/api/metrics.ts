/**
 * The API's Prometheus registry, served at GET /metrics. Add `shardflow_*` metrics to it:
 *
 *   import { registry } from '../metrics.js';
 *   const jobsStarted = new Counter({ name: 'shardflow_jobs_started_total', help: '…', labelNames: ['kind'], registers: [registry] });
 *
 * Metrics are process-wide (module singletons), so creating several apps (tests) is fine.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
