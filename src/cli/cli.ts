/**
 * `shardflow <command>`: operator commands. Returns an exit code: 0 ok, 1 failed, 2 usage or
 * configuration error (one line on stderr).
 */
import { ConfigError, loadConfig } from '../config.js';
import { createDb, type Db } from '../db/client.js';
import { runMigrations } from '../db/migrate.js';
import { stdio, UsageError, type CliIo } from './io.js';
import { runKeys, KEYS_USAGE } from './keys.js';

export const USAGE = `usage: shardflow <command>

commands:
${KEYS_USAGE}

Needs DATABASE_URL. --json prints machine-readable output.`;

/** Opens (and migrates) the database named by DATABASE_URL. */
async function openDb(env: NodeJS.ProcessEnv): Promise<Db> {
  const config = loadConfig(env);
  if (!config.database.url) throw new ConfigError('DATABASE_URL', 'is required (a postgres:// URL)');
  await runMigrations(config.database.url);
  return createDb(config.database.url, { max: 2, applicationName: 'shardflow-cli' });
}

export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env, io: CliIo = stdio): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case 'help':
      case '-h':
      case '--help':
        (command ? io.out : io.err)(USAGE);
        return command ? 0 : 2;
      case 'keys':
        return await runKeys(rest, () => openDb(env), io);
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`shardflow: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof ConfigError) {
      io.err(`shardflow: ${err.message}`);
      return 2;
    }
    io.err(`shardflow: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
