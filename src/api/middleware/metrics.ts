/** Records http_requests_total and http_request_duration_seconds, labelled by route template. */
import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { httpRequestDuration, httpRequestsTotal } from '../metrics.js';

export function httpMetrics(): MiddlewareHandler {
  return async (c, next) => {
    const start = performance.now();
    try {
      await next();
    } finally {
      // The last matched route that is not a middleware (`use` registers method ALL) is the handler.
      const handler = matchedRoutes(c).findLast((r) => r.method !== 'ALL');
      const labels = { method: c.req.method, route: handler?.path ?? 'unmatched', status: String(c.res.status) };
      httpRequestsTotal.inc(labels);
      httpRequestDuration.observe(labels, (performance.now() - start) / 1000);
    }
  };
}
