/**
 * The API with real dependencies (Postgres from DATABASE_URL, Temporal from TEMPORAL_ADDRESS, both
 * provided by test/run.ts), served on a free loopback port.
 *
 *   const api = await startTestApi({ env: { SHARDFLOW_AUTH: 'required' } });
 *   const res = await fetch(`${api.url}/health/live`);
 *   await api.close();
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { loadConfig } from '../../src/config.js';
import { createDb } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { createLogger, type Logger } from '../../src/log.js';
import { createApp, type ApiDeps, type AppEnv } from '../../src/api/app.js';
import { startApiServer } from '../../src/api/server.js';
import { connectTemporal } from '../../src/api/temporal.js';
import { testKinds } from './kinds/index.js';

/** Why the API tests cannot run here, or false when they can. Use as `test(name, { skip: stackMissing }, …)`. */
export const stackMissing: string | false =
  process.env.DATABASE_URL && process.env.TEMPORAL_ADDRESS
    ? false
    : 'needs DATABASE_URL and TEMPORAL_ADDRESS (run through `npm test`)';

export interface TestApiOptions {
  /** On top of process.env. Defaults: HOST=127.0.0.1, PORT=0, LOG_LEVEL=silent, SHARDFLOW_EMISSIONS_AUTO=off. */
  env?: Record<string, string | undefined>;
  /** The API's logger (default: createLogger at LOG_LEVEL, silent unless env sets it): a test that reads log lines gives its own. */
  logger?: Logger;
  /** Register extra (test-only) routes before the server answers anything. */
  extend?: (app: OpenAPIHono<AppEnv>, deps: ApiDeps) => void;
}

export interface TestApi {
  url: string;
  app: OpenAPIHono<AppEnv>;
  deps: ApiDeps;
  /** fetch(url + path). */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** Stops the server and closes the pool and the Temporal connection. */
  close(): Promise<void>;
}

let migrated: Promise<void> | undefined;

export async function startTestApi(overrides: TestApiOptions = {}): Promise<TestApi> {
  if (stackMissing) throw new Error(`startTestApi ${stackMissing}`);
  const config = loadConfig({
    ...process.env,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    // Event-driven emissions off unless a test turns it on (test/emissions-events.test.ts): other tests
    // count what their own jobs calculate, and the calculator would take those activities first.
    SHARDFLOW_EMISSIONS_AUTO: process.env.SHARDFLOW_EMISSIONS_AUTO ?? 'off',
    ...overrides.env,
  });
  const url = config.database.url!;
  migrated ??= runMigrations(url);
  await migrated;
  const logger = overrides.logger ?? createLogger(config, 'api-test');
  const db = createDb(url, { max: 4, applicationName: 'shardflow-api-test' });
  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  try {
    temporal = await connectTemporal(config, logger, 10_000);
  } catch (err) {
    await db.close();
    throw err;
  }
  const deps: ApiDeps = { config, db, kinds: testKinds, temporal, logger };
  const app = createApp(deps);
  overrides.extend?.(app, deps);
  const server = await startApiServer(config, deps, { app, handleSignals: false, gracePeriodMs: 1000 });
  return {
    url: server.url,
    app,
    deps,
    request: (path, init) => fetch(`${server.url}${path}`, init),
    close: server.close,
  };
}
