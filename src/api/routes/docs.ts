/** GET /openapi.json (OpenAPI 3.1, generated from the route definitions) and GET /docs (Swagger UI). */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { swaggerUI } from '@hono/swagger-ui';
import { versions } from '../health.js';
import type { ApiDeps, AppEnv } from '../types.js';

export function registerDocsRoutes(app: OpenAPIHono<AppEnv>, _deps: ApiDeps): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key (`sf_…`, from `shardflow keys create`) as a bearer token.',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
    description: 'The same API key in the X-API-Key header.',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'shardflow',
      version: versions.shardflow,
      description:
        'Very large data jobs as durable Temporal workflows. Errors are RFC 9457 application/problem+json; ' +
        'lists take `limit` (default 50, max 500) and an opaque `cursor`; creating POSTs honour `Idempotency-Key`.',
    },
    // Everything needs a key unless a route says `security: []` (health, metrics, docs).
    security: [{ bearer: [] }, { apiKey: [] }],
  });
  app.get('/docs', swaggerUI({ url: '/openapi.json', title: 'shardflow API' }));
}
