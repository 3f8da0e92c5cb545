/**
 * GET /openapi.json (OpenAPI 3.1, generated from the route definitions) and GET /docs (Swagger UI).
 *
 * Swagger UI comes from the `swagger-ui-dist` package and is served by the API itself under
 * /docs/assets/, so /docs works without internet access; the page references nothing else.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { versions } from '../health.js';
import { ProblemError } from '../middleware/problem.js';
import type { ApiDeps, AppEnv } from '../types.js';

const require = createRequire(import.meta.url);
const SWAGGER_UI_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));
const SWAGGER_UI_VERSION = (require('swagger-ui-dist/package.json') as { version: string }).version;

export const DOCS_ASSETS = '/docs/assets';

/** Our own start script: Swagger UI on /openapi.json, no top bar, no online validator. */
const INITIALIZER = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
};
`;

/** What /docs/assets/ serves: the package's files by name, and the start script. Nothing else. */
const ASSETS: Record<string, { type: string; file?: string; text?: string }> = {
  'swagger-ui.css': { type: 'text/css; charset=utf-8', file: 'swagger-ui.css' },
  'swagger-ui-bundle.js': { type: 'text/javascript; charset=utf-8', file: 'swagger-ui-bundle.js' },
  'swagger-initializer.js': { type: 'text/javascript; charset=utf-8', text: INITIALIZER },
  'favicon-32x32.png': { type: 'image/png', file: 'favicon-32x32.png' },
  'favicon-16x16.png': { type: 'image/png', file: 'favicon-16x16.png' },
};

export const DOCS_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>shardflow API</title>
    <link rel="stylesheet" href="${DOCS_ASSETS}/swagger-ui.css">
    <link rel="icon" type="image/png" href="${DOCS_ASSETS}/favicon-32x32.png" sizes="32x32">
    <link rel="icon" type="image/png" href="${DOCS_ASSETS}/favicon-16x16.png" sizes="16x16">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${DOCS_ASSETS}/swagger-ui-bundle.js" charset="utf-8"></script>
    <script src="${DOCS_ASSETS}/swagger-initializer.js" charset="utf-8"></script>
  </body>
</html>
`;

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

  // GET /metrics is served by ./metrics.ts (plain text, not an OpenAPI route); described here.
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/metrics',
    tags: ['operations'],
    summary: 'Prometheus metrics of the API process (text exposition format 0.0.4): jobs by kind and status, status changes, database connections, data disk, HTTP requests and latency, process metrics (docs/operations.md lists them)',
    security: [],
    responses: {
      200: { description: 'the metrics', content: { 'text/plain; version=0.0.4': { schema: { type: 'string', example: 'http_requests_total{method="GET",route="/v1/jobs",status="200"} 3' } } } },
    },
  });

  app.get('/docs', (c) => c.html(DOCS_HTML));

  // Read once, on first use; the package's files do not change while the process runs.
  const cache = new Map<string, Promise<Uint8Array<ArrayBuffer>>>();
  const bytesOf = (name: string, a: (typeof ASSETS)[string]) => {
    let p = cache.get(name);
    if (!p) {
      p = a.text !== undefined ? Promise.resolve(new TextEncoder().encode(a.text)) : readFile(path.join(SWAGGER_UI_DIR, a.file!)).then((b) => new Uint8Array(b));
      p.catch(() => cache.delete(name));
      cache.set(name, p);
    }
    return p;
  };
  app.get(`${DOCS_ASSETS}/:name`, async (c) => {
    const name = c.req.param('name');
    const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name]! : undefined;
    if (!asset) throw ProblemError.notFound(`no file ${name} in ${DOCS_ASSETS}`);
    const etag = `"swagger-ui-dist-${SWAGGER_UI_VERSION}-${name}"`;
    const headers = { 'Content-Type': asset.type, 'Cache-Control': 'public, max-age=3600', ETag: etag };
    if (c.req.header('If-None-Match') === etag) return c.body(null, 304, headers);
    return c.body(await bytesOf(name, asset), 200, headers);
  });
}
