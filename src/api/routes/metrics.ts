/** GET /metrics — Prometheus text format, public. */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { registry } from '../metrics.js';
import type { ApiDeps, AppEnv } from '../types.js';

export function registerMetricsRoutes(app: OpenAPIHono<AppEnv>, _deps: ApiDeps): void {
  app.get('/metrics', async (c) => c.body(await registry.metrics(), 200, { 'Content-Type': registry.contentType }));
}
