/**
 * Request id (`X-Request-Id`: the client's when sane, else a UUID; echoed on the response) and one
 * pino log line per request. Sets `c.var.requestId` and `c.var.log` (a child logger with the id).
 */
import type { MiddlewareHandler } from 'hono';
import { requestId } from 'hono/request-id';
import type { Logger } from '../../log.js';
import type { AppEnv } from '../types.js';

export const requestIds = (): MiddlewareHandler => requestId({ limitLength: 128 });

const QUIET = /^\/(health|metrics)(\/|$)/;

export function requestLogging(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const start = performance.now();
    const log = logger.child({ requestId: c.var.requestId });
    c.set('log', log);
    await next();
    const status = c.res.status;
    const entry = {
      method: c.req.method,
      path: c.req.path,
      status,
      ms: Math.round((performance.now() - start) * 10) / 10,
      tenant: c.var.tenant?.tenantId,
    };
    // A 503 from a health probe is an answer (the checks say why), not a failure of the API; the
    // readiness itself is logged when it changes (src/api/health.ts, readinessReporter).
    if (status === 503 && QUIET.test(c.req.path)) log.debug(entry, 'not ready');
    else if (status >= 500) log.error(entry, 'request failed');
    else if (QUIET.test(c.req.path)) log.debug(entry, 'request');
    else log.info(entry, 'request');
  };
}
