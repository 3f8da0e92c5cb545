/**
 * Builds the Temporal worker: the workflow bundle, the activities (with their dependencies),
 * and a pool of threads for shard work. Scale out by running more of these on more machines.
 */
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import type { Config } from '../config.js';
import { createActivities, type ActivityDeps } from '../engine/activities.js';
import { createEmissionsActivities } from '../kinds/emissions/calculator.js';
import type { KindRegistry } from '../engine/kind.js';
import { ThreadPool } from '../engine/thread-pool.js';
import { createPostgresTargets } from '../destinations/index.js';
import type postgres from 'postgres';
import type { EngineObserver } from '../engine/observer.js';
import { ActivitySlots } from './slots.js';

/** The workflow bundle's entry (TypeScript under tsx, JavaScript when compiled). */
export const workflowsPath = fileURLToPath(new URL(`../workflows/index${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

export interface ShardflowWorkerOptions {
  config: Config;
  /** The kinds this worker runs (src/kinds: builtInKinds). */
  kinds: KindRegistry;
  connection: NativeConnection;
  sql?: postgres.Sql;
  /** A prebuilt workflow bundle (tests build one and share it); otherwise bundled at start. */
  workflowBundle?: WorkflowBundleOption;
  taskQueue?: string;
  faults?: ActivityDeps['faults'];
  /** Told of rows, bytes, shards and status changes (src/worker/metrics.ts). */
  observer?: EngineObserver;
}

export interface ShardflowWorker {
  worker: Worker;
  pool: ThreadPool;
  /** Its activity slots and memory guard (stats for /health and metrics). */
  slots: ActivitySlots;
  /** Runs until shutdown() (or a signal) and the pool is closed. */
  run(): Promise<void>;
  shutdown(): void;
}

export async function createShardflowWorker(opts: ShardflowWorkerOptions): Promise<ShardflowWorker> {
  const { config } = opts;
  const pool = new ThreadPool(config.worker.threads);
  // SIGTERM: running shards close their part, checkpoint and stop (src/engine/shard-activity.ts).
  const stopping = new AbortController();
  const slots = new ActivitySlots(config.worker.maxConcurrentActivities, config.worker.maxRssBytes);
  // Load targets: the service's database (this worker's own pool on the main thread) and the configured ones.
  const postgres = createPostgresTargets({ defaultUrl: config.database.url, defaultSql: opts.sql, named: config.postgresTargets, applicationName: 'shardflow-worker-load' });
  const activities = createActivities({
    postgres,
    kinds: opts.kinds,
    dataDir: config.dataDir,
    pool,
    sql: opts.sql,
    secretKey: config.secretKey,
    shardsPerRun: config.worker.shardsPerRun,
    partRows: config.worker.partRows,
    faults: opts.faults,
    observer: opts.observer,
    onExpired: (n) => opts.observer?.jobsExpired?.(n),
    stopping: stopping.signal,
  });
  let worker: Worker;
  try {
    worker = await Worker.create({
      connection: opts.connection,
      namespace: config.temporal.namespace,
      taskQueue: opts.taskQueue ?? config.temporal.taskQueue,
      ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath }),
      activities: { ...activities, ...createEmissionsActivities({ sql: opts.sql }) },
      // Activities: at most WORKER_MAX_CONCURRENT_ACTIVITIES, none taken above WORKER_MAX_RSS_MB (src/worker/slots.ts).
      tuner: {
        activityTaskSlotSupplier: slots,
        workflowTaskSlotSupplier: { type: 'fixed-size', numSlots: 100 },
        localActivityTaskSlotSupplier: { type: 'fixed-size', numSlots: 100 },
        nexusTaskSlotSupplier: { type: 'fixed-size', numSlots: 100 },
      },
      // Progress reads heartbeats: send them to the server at least every second.
      maxHeartbeatThrottleInterval: '1 second',
      defaultHeartbeatThrottleInterval: '1 second',
      shutdownGraceTime: '20 seconds',
    });
  } catch (err) {
    await pool.close();
    await postgres.close();
    throw err;
  }
  return {
    worker,
    pool,
    slots,
    async run() {
      try {
        await worker.run();
      } finally {
        await pool.close();
        await postgres.close();
      }
    },
    shutdown() {
      stopping.abort('worker shutting down');
      if (worker.getState() === 'RUNNING') worker.shutdown();
    },
  };
}
