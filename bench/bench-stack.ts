/**
 * What the end-to-end benches share: a private stack (Temporal dev server + embedded Postgres,
 * fsync off, or TEMPORAL_ADDRESS / DATABASE_URL), the API in this process on a random port with auth
 * off, and the environment of the worker child process on a private task queue.
 */
import { loadConfig } from '../src/config.js';
import { createDb } from '../src/db/client.js';
import { createLogger } from '../src/log.js';
import { startApiServer } from '../src/api/server.js';
import { connectTemporal } from '../src/api/temporal.js';
import { builtInKinds } from '../src/kinds/index.js';
import { startTestStack, uniqueTaskQueue } from '../test/support/stack.js';

export async function startBenchStack(queuePrefix: string, log: (line: string) => void, env: Record<string, string> = {}) {
  const testStack = await startTestStack({ log });
  const common = { ...testStack.env, TEMPORAL_TASK_QUEUE: uniqueTaskQueue(queuePrefix), ...env };
  const config = loadConfig({ ...process.env, ...common, HOST: '127.0.0.1', PORT: '0', SHARDFLOW_AUTH: 'off', LOG_LEVEL: 'silent' });
  const logger = createLogger(config, 'bench-api');
  const db = createDb(config.database.url!, { max: 4, applicationName: 'shardflow-bench-api' });
  const temporal = await connectTemporal(config, logger, 30_000);
  const server = await startApiServer(config, { config, db, kinds: builtInKinds, temporal, logger }, { handleSignals: false, gracePeriodMs: 1000 });
  const workerEnv: NodeJS.ProcessEnv = { ...process.env, ...common, WORKER_METRICS_PORT: '0', LOG_LEVEL: process.env.LOG_LEVEL || 'info' };
  return {
    /** The stack's own temp folder (removed by stop()). */
    tmpRoot: testStack.tmpRoot,
    common,
    config,
    logger,
    db,
    temporal,
    server,
    workerEnv,
    workerConfig: loadConfig(workerEnv),
    /** Stops the API, its database client and the stack (never throws). */
    async stop() {
      await db.close().catch(() => undefined);
      await server.close().catch(() => undefined);
      await testStack.stop().catch(() => undefined);
    },
  };
}
