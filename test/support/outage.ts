/**
 * Dependencies a test can stop and start again, for outage tests: a Temporal dev server with a
 * persistent SQLite file (workflows survive the restart) and an embedded Postgres, each on a port
 * of its own that stays the same across restarts. Everything lives in one temp folder; `stop()`
 * ends both and removes it (SHARDFLOW_KEEP_TEST_DATA=1 keeps it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runMigrations } from '../../src/db/migrate.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/dev/postgres.js';
import { pickFreePorts } from '../../src/dev/process.js';
import { resolveTemporalBinary } from '../../src/dev/temporal-binary.js';
import { startTemporalDevServer, type TemporalDevServer } from '../../src/dev/temporal-server.js';

export interface Restartable {
  /** Stops the process (and waits until it has exited). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data; resolves once it answers. */
  start(): Promise<void>;
  readonly running: boolean;
}

export interface OutageStack {
  dir: string;
  temporalAddress: string;
  databaseUrl: string;
  temporal: Restartable;
  postgres: Restartable;
  /** Env for startTestApi / startTestWorker pointing at these two. */
  env: Record<string, string>;
  /** Stops both and removes the folder. */
  stop(): Promise<void>;
}

export async function startOutageStack(): Promise<OutageStack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-outage-'));
  // As root, the embedded Postgres runs as the `postgres` user, which must be able to enter it.
  fs.chmodSync(dir, 0o755);
  const [temporalPort, pgPort] = await pickFreePorts(2);
  const binary = await resolveTemporalBinary({ allowBuild: false, log: () => {} });

  let temporal: TemporalDevServer | undefined;
  let pg: EmbeddedPostgres | undefined;
  const temporalOptions = {
    binary,
    port: temporalPort!,
    uiPort: null,
    dbFile: path.join(dir, 'temporal.db'),
    namespace: 'default',
    logFile: path.join(dir, 'temporal.log'),
  };
  const startTemporal = async () => {
    try {
      temporal = await startTemporalDevServer(temporalOptions);
    } catch (err) {
      // Once, while exploring, a restart on the same SQLite file never became ready; a second start did.
      process.stderr.write(`outage stack: Temporal did not start (${(err as Error).message.split('\n')[0]}); trying once more\n`);
      temporal = await startTemporalDevServer(temporalOptions);
    }
  };
  const startPostgres = async () => {
    pg = await startEmbeddedPostgres({ dataDir: path.join(dir, 'postgres'), port: pgPort!, fast: true, logFile: path.join(dir, 'postgres.log') });
  };
  const stopAll = async () => {
    await Promise.allSettled([temporal?.stop(), pg?.stop()]);
    temporal = undefined;
    pg = undefined;
  };

  try {
    await Promise.all([startTemporal(), startPostgres()]);
    await runMigrations(pg!.url);
  } catch (err) {
    await stopAll();
    throw err;
  }
  const temporalAddress = temporal!.address;
  const databaseUrl = pg!.url;
  let stopped = false;
  return {
    dir,
    temporalAddress,
    databaseUrl,
    env: { TEMPORAL_ADDRESS: temporalAddress, DATABASE_URL: databaseUrl, TEMPORAL_NAMESPACE: 'default' },
    temporal: {
      get running() {
        return temporal !== undefined;
      },
      async stop() {
        await temporal?.stop();
        temporal = undefined;
      },
      async start() {
        if (!temporal) await startTemporal();
      },
    },
    postgres: {
      get running() {
        return pg !== undefined;
      },
      async stop() {
        await pg?.stop();
        pg = undefined;
      },
      async start() {
        if (!pg) await startPostgres();
      },
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopAll();
      if (process.env.SHARDFLOW_KEEP_TEST_DATA === '1') process.stderr.write(`kept ${dir}\n`);
      else fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `probe` until it returns a value (not undefined), or throws after `timeoutMs` with the last reason. */
export async function pollUntil<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message ?? last})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
