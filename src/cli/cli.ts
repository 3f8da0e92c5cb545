/**
 * `shardflow <command>` (commander). Everything but `keys` talks to the HTTP API (--url / --key or
 * SHARDFLOW_URL / SHARDFLOW_KEY); `keys` talks to the database (DATABASE_URL); `dev` runs the
 * embedded stack. Returns the exit code: 0 ok, 1 failed, 2 usage or configuration error, 3 a
 * watched job was cancelled, 130 detached with Ctrl-C. Errors are one line on stderr (an API
 * problem as `422 Unprocessable Content: spec.nPerArm: …`); with --json they are the problem
 * itself on stderr.
 */
import { Command, CommanderError, Option } from 'commander';
import { ApiError } from '../client/index.js';
import { ConfigError, loadConfig } from '../config.js';
import { createDb, type Db } from '../db/client.js';
import { runMigrations } from '../db/migrate.js';
import { createCtx } from './commands/context.js';
import { registerDecrypt } from './commands/decrypt.js';
import { registerJobs } from './commands/jobs.js';
import { KEYS_USAGE, runKeys } from './commands/keys.js';
import { registerEmissions } from './commands/emissions.js';
import { registerModels } from './commands/models.js';
import { registerScenarios } from './commands/scenarios.js';
import { registerRun } from './commands/run.js';
import { registerSeed } from './commands/seed.js';
import { CommandFailed, EXIT, stdio, UsageError, type CliIo } from './io.js';

/** Opens (and migrates) the database named by DATABASE_URL. */
async function openDb(env: NodeJS.ProcessEnv): Promise<Db> {
  const config = loadConfig(env);
  if (!config.database.url) throw new ConfigError('DATABASE_URL', 'is required (a postgres:// URL)');
  await runMigrations(config.database.url);
  return createDb(config.database.url, { max: 2, applicationName: 'shardflow-cli' });
}

export function buildProgram(io: CliIo, env: NodeJS.ProcessEnv, handleSigint: boolean) {
  const ctx = createCtx(io, env, handleSigint);
  const program = new Command('shardflow')
    .description('Very large data jobs as durable Temporal workflows: start, watch, control and download them')
    .addOption(new Option('--url <url>', 'the API (default $SHARDFLOW_URL, else http://127.0.0.1:8080)'))
    .addOption(new Option('--key <key>', 'an API key (default $SHARDFLOW_KEY; none needed on the embedded dev stack)'))
    .option('--json', 'machine-readable output (one JSON document, or NDJSON events while watching)')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.out(t.replace(/\n$/, '')), writeErr: (t) => io.err(t.replace(/\n$/, '')) });

  registerRun(program, ctx);
  registerJobs(program, ctx);
  registerModels(program, ctx);
  registerScenarios(program, ctx);
  registerEmissions(program, ctx);
  registerSeed(program, ctx);
  registerDecrypt(program, ctx);

  program
    .command('keys')
    .description('API keys (talks to the database: DATABASE_URL)')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]')
    .addHelpText('after', `\n${KEYS_USAGE}`)
    .action(async (args: string[], _o: unknown, cmd: Command) => {
      const rest = [...args, ...(cmd.optsWithGlobals().json ? ['--json'] : [])];
      ctx.exitCode = await runKeys(rest, () => openDb(env), io);
    });

  program
    .command('dev')
    .description('the whole stack on embedded defaults (Temporal dev server, Postgres, worker, API, a demo job): the same as npm run dev')
    .allowUnknownOption()
    .action(async () => {
      await import('../dev/main.js');
      // The dev supervisor runs until Ctrl-C and exits the process itself.
      await new Promise(() => {});
    });

  // Commander keeps parsed options on the command objects: one program per run.
  program.commands.forEach((c) => c.exitOverride());
  return { program, ctx };
}

export const USAGE = `usage: shardflow <command> (shardflow --help for all)

commands: run, jobs, models, scenarios, emissions, seed, decrypt, keys, dev
${KEYS_USAGE}`;

export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env, io: CliIo = stdio): Promise<number> {
  const handleSigint = io === stdio;
  const { program, ctx } = buildProgram(io, env, handleSigint);
  if (argv.length === 0) {
    io.err(program.helpInformation().trimEnd());
    return EXIT.usage;
  }
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version are exit 0; commander has printed the error already.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof UsageError) {
      io.err(`shardflow: ${err.message}`);
      return EXIT.usage;
    }
    if (err instanceof ConfigError) {
      io.err(`shardflow: ${err.message}`);
      return EXIT.usage;
    }
    if (err instanceof ApiError) {
      io.err(json ? JSON.stringify(err.problem) : `shardflow: ${err.message}`);
      return EXIT.failed;
    }
    if (err instanceof CommandFailed) {
      io.err(`shardflow: ${err.message}`);
      return err.code;
    }
    io.err(`shardflow: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.failed;
  }
}
