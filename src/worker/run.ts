/**
 * One worker process against the configured Temporal and Postgres, running the given kinds.
 * SIGTERM/SIGINT: stop polling; running shards close their open part, checkpoint and stop (they
 * resume there on another worker); other activities finish (up to the grace time); exit 0.
 * A second signal exits at once.
 *
 * Its HTTP port (WORKER_METRICS_HOST:WORKER_METRICS_PORT; 0 = none) serves /metrics — shardflow's
 * and the Temporal SDK's, whose exporter listens on a loopback port of its own — and /health.
 * The SDK's logs (activities and workflows) go through the worker's pino logger as JSON lines.
 */
import net from 'node:net';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { loadConfigOrExit } from '../config.js';
import { createDb } from '../db/client.js';
import type { KindRegistry } from '../engine/kind.js';
import { createLogger, temporalLogMethod, type Logger } from '../log.js';
import { createWorkerMetrics } from './metrics.js';
import { startMetricsServer } from './metrics-server.js';
import { createShardflowWorker } from './worker.js';

/** A free loopback port for the SDK's exporter (only this process reads it). */
async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const SDK_LEVEL: Record<string, LogLevel> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', fatal: 'ERROR', silent: 'ERROR' };

/**
 * The SDK's log entries as pino lines; a workflow's or activity's `workflowId` is the job id. An
 * activity's task token is left out: it completes the activity for whoever holds it.
 */
export function sdkLogger(log: Logger, level: string): DefaultLogger {
  return new DefaultLogger(SDK_LEVEL[level] ?? 'INFO', (entry) => {
    const { workflowId, taskToken: _token, isLocal: _local, ...meta } = (entry.meta ?? {}) as Record<string, unknown>;
    const fields = { ...(typeof workflowId === 'string' && workflowId.startsWith('job-') ? { jobId: workflowId } : workflowId ? { workflowId } : {}), ...meta };
    log[temporalLogMethod(entry.level, entry.message)](fields, entry.message);
  });
}

export async function runWorkerProcess(kinds: KindRegistry): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config, 'worker');
  if (!config.database.url) {
    process.stderr.write('shardflow: invalid configuration: DATABASE_URL: required by the worker\n');
    process.exit(2);
  }
  const sdkPort = config.worker.metricsPort ? await freeLoopbackPort() : 0;
  Runtime.install({
    // Signals are handled below, so running shards are told to checkpoint and stop first.
    shutdownSignals: [],
    logger: sdkLogger(log, config.logLevel),
    telemetryOptions: sdkPort ? { metrics: { prometheus: { bindAddress: `127.0.0.1:${sdkPort}` } } } : undefined,
  });
  const metrics = createWorkerMetrics();
  const db = createDb(config.database.url, { max: Math.min(config.database.poolMax, 4), applicationName: 'shardflow-worker' });
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const w = await createShardflowWorker({ config, kinds, connection, sql: db.sql, observer: metrics.observer });
  metrics.watchSlots(w.slots);
  const server = config.worker.metricsPort
    ? await startMetricsServer({
        host: config.worker.metricsHost,
        port: config.worker.metricsPort,
        registry: metrics.registry,
        sdkMetricsUrl: `http://127.0.0.1:${sdkPort}/metrics`,
        health: () => ({ slots: w.slots.stats(), taskQueue: config.temporal.taskQueue, kinds: kinds.names }),
      })
    : undefined;
  log.info(
    {
      taskQueue: config.temporal.taskQueue,
      threads: config.worker.threads,
      maxConcurrentActivities: config.worker.maxConcurrentActivities,
      maxRssMb: config.worker.maxRssBytes === null ? null : config.worker.maxRssBytes / 2 ** 20,
      metrics: server ? `${config.worker.metricsHost}:${server.port}` : 'off',
      kinds: kinds.names,
    },
    'worker polling',
  );
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      log.warn({ signal }, 'second signal: exiting without waiting for running shards');
      process.exit(1);
    }
    signalled = true;
    log.info({ signal }, 'shutting down: running shards close their part, checkpoint and stop');
    w.shutdown();
  };
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, onSignal);
  try {
    await w.run();
  } finally {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.off(sig, onSignal);
    await server?.close();
    await connection.close();
    await db.close();
    log.info('worker stopped');
  }
}
