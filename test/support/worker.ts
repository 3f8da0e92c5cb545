/**
 * Real workers for tests: in-process (sharing one workflow bundle per test process) or as a child
 * process running `src/worker/main.ts`, which a test may SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, type WorkflowBundle } from '@temporalio/worker';
import { loadConfig } from '../../src/config.js';
import { createDb, type Db } from '../../src/db/client.js';
import { createShardflowWorker, workflowsPath } from '../../src/worker/worker.js';
import type { ActivityDeps } from '../../src/engine/activities.js';
import type { EngineObserver } from '../../src/engine/observer.js';
import type { ActivitySlots } from '../../src/worker/slots.js';
import { testKinds } from './kinds/index.js';

// The SDK's own log lines of in-process workers (worker state, a line per shard) at WARN and up:
// tests read the API, and an INFO line per shard floods the output (5,200 shards in one test).
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // this test process made its Runtime already
}

let bundle: Promise<WorkflowBundle> | undefined;
export const workflowBundle = () => (bundle ??= bundleWorkflowCode({ workflowsPath, logger: { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} } as any }));

export interface TestWorker {
  /** Its activity slots and memory guard. */
  slots: ActivitySlots;
  stop(): Promise<void>;
}

export async function startTestWorker(opts: {
  taskQueue: string;
  dataDir: string;
  env?: Record<string, string>;
  faults?: ActivityDeps['faults'];
  observer?: EngineObserver;
}): Promise<TestWorker> {
  const config = loadConfig({
    ...process.env,
    TEMPORAL_TASK_QUEUE: opts.taskQueue,
    SHARDFLOW_DATA_DIR: opts.dataDir,
    WORKER_METRICS_PORT: '0',
    LOG_LEVEL: 'silent',
    ...opts.env,
  });
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const db: Db = createDb(config.database.url!, { max: 2, applicationName: 'shardflow-worker-test' });
  const w = await createShardflowWorker({ config, kinds: testKinds, connection, sql: db.sql, workflowBundle: await workflowBundle(), faults: opts.faults, observer: opts.observer });
  const running = w.run();
  return {
    slots: w.slots,
    async stop() {
      w.shutdown();
      await running;
      await connection.close();
      await db.close();
    },
  };
}

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves with the exit code or signal. */
  exited: Promise<number | NodeJS.Signals | null>;
  kill(signal?: NodeJS.Signals): void;
  /** Everything the process printed so far (for failure messages). */
  output(): string;
}

/**
 * The worker process (src/worker/run.ts, with the test kinds: test/support/worker-main.ts), resolved
 * once it polls the task queue. `command` replaces the node arguments and `cwd` the repository root
 * (the compiled worker: `['dist/worker/main.js']`).
 */
export async function spawnWorkerProcess(env: Record<string, string>, opts: { command?: string[]; cwd?: string } = {}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, opts.command ?? ['--import', 'tsx', 'test/support/worker-main.ts'], {
    cwd: opts.cwd ?? root,
    env: { ...process.env, WORKER_METRICS_PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes('worker polling')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    void exited.then((code) => reject(new Error(`worker exited (${code}) before polling:\n${output.slice(-2000)}`)));
  });
  return { child, exited, kill: (signal = 'SIGTERM') => child.kill(signal), output: () => output };
}
