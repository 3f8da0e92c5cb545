/**
 * `npm run api`: validate config, migrate and connect Postgres, connect Temporal, serve.
 * Exit 2 on bad configuration (one line naming the variable), 1 when a dependency is unreachable.
 */
import { loadConfigOrExit } from '../config.js';
import { createDb } from '../db/client.js';
import { runMigrations } from '../db/migrate.js';
import { createBuiltInKinds } from '../kinds/index.js';
import { createLogger } from '../log.js';
import { syncRetentionScheduleAtStart } from './retention.js';
import { startApiServer } from './server.js';
import { connectTemporal } from './temporal.js';

function fail(message: string, code = 1): never {
  process.stderr.write(`shardflow: ${message}\n`);
  process.exit(code);
}

const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const url = config.database.url;
  if (!url) {
    fail('DATABASE_URL is required for the API (a postgres:// URL); `npm run dev` starts an embedded Postgres and sets it', 2);
  }
  const logger = createLogger(config, 'api');

  try {
    await runMigrations(url);
  } catch (err) {
    fail(`cannot migrate the database at DATABASE_URL: ${errorMessage(err)}`);
  }
  const db = createDb(url, { max: config.database.poolMax, applicationName: 'shardflow-api' });

  let temporal: Awaited<ReturnType<typeof connectTemporal>>;
  try {
    temporal = await connectTemporal(config, logger);
  } catch (err) {
    await db.close();
    fail(errorMessage(err));
  }

  let server: Awaited<ReturnType<typeof startApiServer>>;
  try {
    server = await startApiServer(config, { config, db, kinds: createBuiltInKinds({ relational: config.relational }), temporal, logger });
  } catch (err) {
    await Promise.allSettled([db.close(), temporal.connection.close()]);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') fail(`cannot listen on ${config.host}:${config.port}: address in use (HOST, PORT)`);
    throw err;
  }

  if (config.auth === 'off') {
    logger.warn(
      { host: config.host },
      'AUTH IS OFF: every request acts as tenant "local" without quotas (only allowed on loopback; SHARDFLOW_AUTH=required turns it on)',
    );
  }
  logger.info(
    { url: server.url, auth: config.auth, docs: `${server.url}/docs`, temporal: config.temporal.address, taskQueue: config.temporal.taskQueue },
    `shardflow API listening on ${server.url} (auth ${config.auth === 'off' ? 'OFF' : 'required'})`,
  );
  await syncRetentionScheduleAtStart(temporal.client, config, logger);
}

main().catch((err: unknown) => fail(err instanceof Error ? (err.stack ?? err.message) : String(err)));
