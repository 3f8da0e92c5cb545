/**
 * GET /metrics — Prometheus text format, public. The domain gauges (jobs by kind and status,
 * database connections, data disk) are read at each scrape; when Postgres cannot answer, those
 * keep their last values and the rest is served all the same.
 */
import { statfs } from 'node:fs/promises';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { JOB_STATUSES } from '../../engine/types.js';
import { dataDiskFree, dataDiskSize, dbConnections, dbPoolMax, jobsGauge, registry } from '../metrics.js';
import type { ApiDeps, AppEnv } from '../types.js';

/** A scrape waits this long for Postgres at most. */
const DB_READ_MS = 2000;

async function refresh(deps: ApiDeps): Promise<void> {
  dbPoolMax.set(deps.config.database.poolMax);
  const disk = statfs(deps.config.dataDir).then(
    (s) => {
      dataDiskFree.set(s.bavail * s.bsize);
      dataDiskSize.set(s.blocks * s.bsize);
    },
    () => undefined, // no data folder yet: nothing to report
  );
  const db = (async () => {
    const sql = deps.db.sql;
    const [jobs, conns] = await Promise.all([
      sql<{ kind: string; status: string; n: number }[]>`select kind, status, count(*)::int as n from jobs group by kind, status`,
      sql<{ application: string; state: string; n: number }[]>`
        select coalesce(nullif(application_name, ''), 'unnamed') as application, coalesce(state, 'unknown') as state, count(*)::int as n
        from pg_stat_activity where datname = current_database() group by 1, 2`,
    ]);
    jobsGauge.reset();
    // Every kind and status appears, at 0 when there is none, so rates and alerts see a series.
    for (const kind of deps.kinds.names) for (const status of JOB_STATUSES) jobsGauge.set({ kind, status }, 0);
    for (const r of jobs) jobsGauge.set({ kind: r.kind, status: r.status }, r.n);
    dbConnections.reset();
    for (const r of conns) dbConnections.set({ application: r.application, state: r.state }, r.n);
  })();
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, DB_READ_MS).unref());
  await Promise.all([disk, Promise.race([db.catch(() => undefined), timeout])]);
}

export function registerMetricsRoutes(app: OpenAPIHono<AppEnv>, deps: ApiDeps): void {
  app.get('/metrics', async (c) => {
    await refresh(deps);
    return c.body(await registry.metrics(), 200, { 'Content-Type': registry.contentType });
  });
}
