/**
 * One worker process against the configured Temporal and Postgres, running the given kinds.
 * SIGTERM/SIGINT: stop polling, let running activities finish (up to the grace time), exit 0.
 */
import { NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfigOrExit } from '../config.js';
import { createDb } from '../db/client.js';
import type { KindRegistry } from '../engine/kind.js';
import { createLogger } from '../log.js';
import { createShardflowWorker } from './worker.js';

export async function runWorkerProcess(kinds: KindRegistry): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config, 'worker');
  if (!config.database.url) {
    process.stderr.write('shardflow: invalid configuration: DATABASE_URL: required by the worker\n');
    process.exit(2);
  }
  Runtime.install({
    telemetryOptions: config.worker.metricsPort
      ? { metrics: { prometheus: { bindAddress: `0.0.0.0:${config.worker.metricsPort}` } } }
      : undefined,
  });
  const db = createDb(config.database.url, { max: Math.min(config.database.poolMax, 4), applicationName: 'shardflow-worker' });
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const w = await createShardflowWorker({ config, kinds, connection, sql: db.sql });
  log.info(
    { taskQueue: config.temporal.taskQueue, threads: config.worker.threads, metrics: config.worker.metricsPort, kinds: kinds.names },
    'worker polling',
  );
  try {
    await w.run();
  } finally {
    await connection.close();
    await db.close();
    log.info('worker stopped');
  }
}
