/** GET /health/live, /health/ready, /health — public. */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { diskInfo, poolInfo, readiness as checkReadiness, readinessReporter, versions } from '../health.js';
import type { ApiDeps, AppEnv } from '../types.js';

const Check = z.string().openapi({ description: '"ok" or "fail: <reason>"', example: 'ok' });
const Checks = z.object({ postgres: Check, temporal: Check, worker: Check });
const Ready = z
  .object({ status: z.enum(['ready', 'unavailable']), checks: Checks })
  .openapi('Readiness');
const Health = Ready.extend({
  details: z.object({
    pool: z.object({ max: z.number().int(), connections: z.number().int().optional() }),
    disk: z.object({
      path: z.string(),
      freeBytes: z.number().optional(),
      totalBytes: z.number().optional(),
      error: z.string().optional(),
    }),
    memory: z.object({ rss: z.number(), heapTotal: z.number(), heapUsed: z.number(), external: z.number(), arrayBuffers: z.number() }),
    uptimeSeconds: z.number(),
    versions: z.object({
      node: z.string(),
      shardflow: z.string(),
      temporalClient: z.string(),
      temporalServer: z.string().optional(),
    }),
  }),
}).openapi('Health');

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

const live = createRoute({
  method: 'get',
  path: '/health/live',
  tags: ['operations'],
  summary: 'The process answers',
  security: [],
  responses: { 200: json(z.object({ status: z.literal('alive') }), 'alive') },
});

const ready = createRoute({
  method: 'get',
  path: '/health/ready',
  tags: ['operations'],
  summary: 'Postgres and Temporal answer and a worker polls the task queue',
  security: [],
  responses: { 200: json(Ready, 'ready'), 503: json(Ready, 'not ready; the failing checks say why') },
});

const health = createRoute({
  method: 'get',
  path: '/health',
  tags: ['operations'],
  summary: 'Readiness with details: pool, disk, memory, versions',
  security: [],
  responses: { 200: json(Health, 'ready'), 503: json(Health, 'not ready') },
});

export function registerHealthRoutes(app: OpenAPIHono<AppEnv>, deps: ApiDeps): void {
  // Logged when it changes, not at every probe (a 503 probe is itself only a debug line of the request log).
  const report = readinessReporter(deps.logger);
  const readiness = async (d: ApiDeps) => {
    const r = await checkReadiness(d);
    report(r);
    return r;
  };
  app.openapi(live, (c) => c.json({ status: 'alive' as const }, 200));

  app.openapi(ready, async (c) => {
    const r = await readiness(deps);
    const body = { status: r.ready ? ('ready' as const) : ('unavailable' as const), checks: r.checks };
    return r.ready ? c.json(body, 200) : c.json(body, 503);
  });

  app.openapi(health, async (c) => {
    const [r, pool, disk] = await Promise.all([readiness(deps), poolInfo(deps), diskInfo(deps.config.dataDir)]);
    const body = {
      status: r.ready ? ('ready' as const) : ('unavailable' as const),
      checks: r.checks,
      details: {
        pool,
        disk,
        memory: process.memoryUsage(),
        uptimeSeconds: Math.round(process.uptime()),
        versions: { ...versions, temporalServer: r.temporalServerVersion },
      },
    };
    return r.ready ? c.json(body, 200) : c.json(body, 503);
  });
}
