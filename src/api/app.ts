/**
 * The HTTP API: an OpenAPIHono app with request ids and logging, metrics, problem+json errors,
 * API-key auth on /v1/*, and the route modules from ./routes.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { auth } from './middleware/auth.js';
import { bodyLimits } from './middleware/body-limit.js';
import { notFoundOrNotAllowed } from './middleware/not-allowed.js';
import { httpMetrics } from './middleware/metrics.js';
import { rateLimit } from './middleware/rate-limit.js';
import { problemErrorHandler, problemNotFound, validationHook } from './middleware/problem.js';
import { requestIds, requestLogging } from './middleware/request-log.js';
import { registerRoutes } from './routes/index.js';
import type { ApiDeps, AppEnv } from './types.js';

export type { ApiDeps, AppEnv, Tenant } from './types.js';

export function createApp(deps: ApiDeps): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.onError(problemErrorHandler(app));
  app.notFound(notFoundOrNotAllowed(app, problemNotFound()));

  app.use(requestIds());
  app.use(requestLogging(deps.logger));
  app.use(httpMetrics());
  app.use(async (c, next) => {
    c.set('deps', deps);
    await next();
  });
  // /health/*, /metrics, /openapi.json and /docs stay public.
  app.use('/v1/*', auth(deps));
  app.use('/v1/*', rateLimit());
  app.use('/v1/*', bodyLimits(deps.config.limits));

  registerRoutes(app, deps);
  return app;
}
