/**
 * The real dependencies for a test session: a Temporal dev server (in memory, headless, free
 * port) and an embedded Postgres (temp folder, free port), migrated — unless TEMPORAL_ADDRESS /
 * DATABASE_URL are already given, in which case those are used. test/run.ts starts it once and
 * exports the addresses to every test file's environment; tests read them with `testEnv()`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pickFreePorts } from '../../src/dev/process.js';
import { startStack, type Stack, type StackTimings } from '../../src/dev/stack.js';

export interface TestEnv {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  databaseUrl: string;
  /** SHARDFLOW_DATA_DIR for the session (a temp folder). */
  dataDir: string;
}

/** Why stack-backed tests cannot run, or false. Use as `test(name, { skip: stackMissing }, …)`. */
export const stackMissing: string | false =
  process.env.DATABASE_URL && process.env.TEMPORAL_ADDRESS
    ? false
    : 'needs DATABASE_URL and TEMPORAL_ADDRESS (run through `npm test`)';

/** The session's addresses, from the environment test/run.ts sets. Throws when run outside it. */
export function testEnv(env: NodeJS.ProcessEnv = process.env): TestEnv {
  if (!env.TEMPORAL_ADDRESS || !env.DATABASE_URL) {
    throw new Error(
      'TEMPORAL_ADDRESS and DATABASE_URL are not set: run tests through `npm test` (test/run.ts starts Temporal and Postgres), ' +
        'or export both to point at running ones.',
    );
  }
  return {
    temporalAddress: env.TEMPORAL_ADDRESS,
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    taskQueue: env.TEMPORAL_TASK_QUEUE || 'shardflow',
    databaseUrl: env.DATABASE_URL,
    dataDir: env.SHARDFLOW_DATA_DIR || path.join(os.tmpdir(), 'shardflow-test-data'),
  };
}

/** A task queue no other test uses, for tests that run their own Worker. */
export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export interface TestStack {
  /** Variables to export to the test processes. */
  env: Record<string, string>;
  tmpRoot: string;
  stack: Stack;
  timings: StackTimings;
  /** Stops Temporal and Postgres (if started here) and removes the temp folder (unless `keep`). */
  stop(opts?: { keep?: boolean }): Promise<void>;
}

export async function startTestStack(
  opts: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {},
): Promise<TestStack> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((line: string) => process.stderr.write(`[test-stack] ${line}\n`));
  const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-test-'));
  // As root, the embedded Postgres runs as the `postgres` user, which must be able to enter it.
  fs.chmodSync(tmpRoot, 0o755);
  const dataDir = path.join(tmpRoot, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const namespace = env.TEMPORAL_NAMESPACE || 'default';
  const [temporalPort, pgPort, metricsPort] = await pickFreePorts(3);

  let stack: Stack;
  try {
    stack = await startStack({
      namespace,
      env,
      log,
      temporal: env.TEMPORAL_ADDRESS
        ? { address: env.TEMPORAL_ADDRESS }
        : {
            embedded: {
              port: temporalPort!,
              uiPort: null,
              dbFile: null,
              logFile: path.join(tmpRoot, 'temporal.log'),
            },
          },
      database: env.DATABASE_URL
        ? { url: env.DATABASE_URL }
        : {
            embedded: {
              dataDir: path.join(tmpRoot, 'postgres'),
              port: pgPort!,
              fast: true,
              logFile: path.join(tmpRoot, 'postgres.log'),
            },
          },
    });
  } catch (err) {
    log(`could not start the test stack; logs kept in ${tmpRoot}`);
    throw err;
  }

  const vars: Record<string, string> = {
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_NAMESPACE: namespace,
    DATABASE_URL: stack.databaseUrl,
    SHARDFLOW_DATA_DIR: env.SHARDFLOW_DATA_DIR || dataDir,
    SHARDFLOW_DEMO: 'off',
    // a worker started by a test must not collide with a dev stack's :9464
    WORKER_METRICS_PORT: env.WORKER_METRICS_PORT || String(metricsPort),
  };
  if (stack.postgres) vars.EMBEDDED_POSTGRES_PORT = String(stack.postgres.port);

  let stopped = false;
  return {
    env: vars,
    tmpRoot,
    stack,
    timings: stack.timings,
    async stop({ keep = false } = {}) {
      if (stopped) return;
      stopped = true;
      await stack.stop();
      if (keep) log(`kept ${tmpRoot}`);
      else fs.rmSync(tmpRoot, { recursive: true, force: true });
    },
  };
}
