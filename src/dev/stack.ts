/**
 * The infrastructure half of the embedded stack — Temporal dev server, Postgres, migrations —
 * shared by `npm run dev` (src/dev/main.ts) and the test harness (test/support/stack.ts).
 * Either part can be external instead (TEMPORAL_ADDRESS / DATABASE_URL given).
 */
import path from 'node:path';
import type { Config } from '../config.js';
import { runMigrations } from '../db/migrate.js';
import { startEmbeddedPostgres, type EmbeddedPostgres, type EmbeddedPostgresOptions } from './postgres.js';
import { resolveTemporalBinary } from './temporal-binary.js';
import { startTemporalDevServer, waitForTemporal, type TemporalDevServer } from './temporal-server.js';

export interface EmbeddedTemporalOptions {
  /** Path to the CLI; resolved with resolveTemporalBinary() when omitted. */
  binary?: string;
  port: number;
  /** `null`: headless. */
  uiPort: number | null;
  /** `null`: in memory. */
  dbFile: string | null;
  ip?: string;
  logFile?: string;
  onLine?: (line: string) => void;
}

export interface StackOptions {
  namespace: string;
  /** An existing server (`{ address }`) or one to start (`{ embedded }`). */
  temporal: { address: string } | { embedded: EmbeddedTemporalOptions };
  /** An existing database (`{ url }`) or an embedded one (`{ embedded }`). */
  database: { url: string } | { embedded: EmbeddedPostgresOptions };
  /** Apply src/db migrations (default true). */
  migrate?: boolean;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Env for resolving the Temporal CLI (TEMPORAL_CLI, PATH, …). */
  env?: NodeJS.ProcessEnv;
}

export interface StackTimings {
  /** Milliseconds, each measured from the start of startStack. */
  temporalReadyMs: number;
  postgresReadyMs: number;
  migratedMs: number;
  totalMs: number;
}

export interface Stack {
  namespace: string;
  temporalAddress: string;
  /** Only for an embedded, non-headless Temporal. */
  temporalUiUrl?: string;
  databaseUrl: string;
  temporal?: TemporalDevServer;
  postgres?: EmbeddedPostgres;
  timings: StackTimings;
  /** Stops what this stack started (Temporal and Postgres in parallel). Idempotent. */
  stop(): Promise<void>;
}

export async function startStack(o: StackOptions): Promise<Stack> {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const t0 = Date.now();
  let temporal: TemporalDevServer | undefined;
  let pg: EmbeddedPostgres | undefined;
  const timings: StackTimings = { temporalReadyMs: 0, postgresReadyMs: 0, migratedMs: 0, totalMs: 0 };

  const stop = async () => {
    await Promise.all([temporal?.stop(), pg?.stop()]);
  };

  const temporalStep = async (): Promise<string> => {
    if ('address' in o.temporal) {
      await waitForTemporal(o.temporal.address, o.namespace, { timeoutMs: 30_000 });
      timings.temporalReadyMs = Date.now() - t0;
      log(`temporal: using ${o.temporal.address} (namespace ${o.namespace})`);
      return o.temporal.address;
    }
    const e = o.temporal.embedded;
    const binary = e.binary ?? (await resolveTemporalBinary({ env: o.env, log: (l) => log(`temporal: ${l}`) }));
    temporal = await startTemporalDevServer({
      binary,
      port: e.port,
      uiPort: e.uiPort,
      dbFile: e.dbFile,
      ip: e.ip,
      namespace: o.namespace,
      logFile: e.logFile,
      onLine: e.onLine,
    });
    timings.temporalReadyMs = Date.now() - t0;
    log(
      `temporal: dev server ready at ${temporal.address} in ${(timings.temporalReadyMs / 1000).toFixed(1)} s` +
        ` (${e.dbFile ? `sqlite ${e.dbFile}` : 'in memory'}${e.logFile ? `, log ${e.logFile}` : ''})`,
    );
    return temporal.address;
  };

  const postgresStep = async (): Promise<string> => {
    if ('url' in o.database) {
      timings.postgresReadyMs = Date.now() - t0;
      log(`postgres: using DATABASE_URL (${redact(o.database.url)})`);
      return o.database.url;
    }
    pg = await startEmbeddedPostgres(o.database.embedded);
    timings.postgresReadyMs = Date.now() - t0;
    log(
      `postgres: embedded ready at ${redact(pg.url)} in ${(timings.postgresReadyMs / 1000).toFixed(1)} s (data ${pg.dataDir})`,
    );
    return pg.url;
  };

  try {
    const [temporalAddress, databaseUrl] = await settleAll([temporalStep(), postgresStep()]);
    if (o.migrate !== false) {
      const m0 = Date.now();
      await runMigrations(databaseUrl);
      timings.migratedMs = Date.now() - t0;
      log(`postgres: migrations applied (${Date.now() - m0} ms)`);
    }
    timings.totalMs = Date.now() - t0;
    return {
      namespace: o.namespace,
      temporalAddress,
      temporalUiUrl: temporal?.uiUrl,
      databaseUrl,
      temporal,
      postgres: pg,
      timings,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Like Promise.all, but waits for every promise to settle before rejecting (so nothing starts behind our back). */
async function settleAll<T extends readonly unknown[]>(ps: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(ps);
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length === 1) throw failed[0]!.reason;
  if (failed.length > 1) {
    throw new Error(failed.map((f) => (f.reason as Error)?.message ?? String(f.reason)).join('\n\n'));
  }
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}

/**
 * `npm run dev`'s choice: Temporal is embedded (on 127.0.0.1:EMBEDDED_TEMPORAL_PORT) unless
 * TEMPORAL_ADDRESS is set in the environment (then that server is used as is); Postgres is embedded
 * unless DATABASE_URL is set.
 * Everything embedded lives under SHARDFLOW_DATA_DIR.
 */
export function devStackOptions(config: Config, env: NodeJS.ProcessEnv = process.env): StackOptions {
  const logs = path.join(config.dataDir, 'logs');
  return {
    namespace: config.temporal.namespace,
    env,
    temporal: env.TEMPORAL_ADDRESS
      ? { address: config.temporal.address }
      : {
          embedded: {
            ip: '127.0.0.1',
            port: config.temporal.embeddedPort,
            uiPort: config.temporal.uiPort,
            dbFile: path.join(config.dataDir, 'temporal.sqlite'),
            logFile: path.join(logs, 'temporal.log'),
          },
        },
    database: config.database.url
      ? { url: config.database.url }
      : {
          embedded: {
            dataDir: path.join(config.dataDir, 'postgres'),
            port: config.database.embeddedPort,
            logFile: path.join(logs, 'postgres.log'),
          },
        },
  };
}

export function splitHostPort(address: string): [string, string] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i).replace(/^\[|\]$/g, ''), address.slice(i + 1)];
}
