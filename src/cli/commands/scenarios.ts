/** `shardflow scenarios list|show|create|update|validate|delete`: patients scenarios (docs/PATIENTS.md § Scenarios API). */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { Scenario, ScenarioBody } from '../../client/index.js';
import { table } from '../format.js';
import { UsageError } from '../io.js';

/** A scenario file: JSON, or YAML (any file that is not JSON). */
async function readScenario(file: string): Promise<ScenarioBody> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  try {
    return JSON.parse(text) as ScenarioBody;
  } catch {
    try {
      return parseYaml(text) as ScenarioBody;
    } catch (err) {
      throw new UsageError(`${file}: neither JSON nor YAML (${(err as Error).message})`);
    }
  }
}

const describe = (s: Scenario) =>
  `${s.id}  ${s.name}${s.builtIn ? ' (built-in preset)' : `  version ${s.version} of ${s.latestVersion}`}` +
  (s.resolved ? `\n  ${JSON.stringify(s.resolved.durationDays)} days from ${String(s.resolved.start)}, ${JSON.stringify(s.resolved.baseCasualties)} casualties + ${(s.resolved.events as unknown[]).length} event(s)` : '');

export function registerScenarios(program: Command, ctx: import('./context.js').Ctx): void {
  const scenarios = program.command('scenarios').description('patients scenarios: list, show, create, update, validate, delete');

  scenarios
    .command('list')
    .description('the built-in presets, then your scenarios')
    .action(async (_o: unknown, cmd: Command) => {
      const items: Scenario[] = [];
      let cursor: string | undefined;
      do {
        const page = await ctx.client(cmd).listScenarios({ limit: 500, cursor });
        items.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      if (ctx.json(cmd)) return ctx.io.out(JSON.stringify(items));
      ctx.io.out(table([['ID', 'NAME', 'VERSION', 'UPDATED'], ...items.map((s) => [s.id, s.name, s.builtIn ? 'preset' : String(s.latestVersion), s.updatedAt ?? 'built in'])]));
    });

  scenarios
    .command('show <id>')
    .description('a scenario (its latest version, or --version n), resolved')
    .option('--version <n>', 'an older version')
    .action(async (id: string, o: { version?: string }, cmd: Command) => {
      if (o.version !== undefined && !/^[1-9]\d*$/.test(o.version)) throw new UsageError('--version takes a version number (1, 2, …)');
      const s = await ctx.client(cmd).getScenario(id, o.version ? { version: Number(o.version) } : {});
      ctx.io.out(ctx.json(cmd) ? JSON.stringify(s) : describe(s));
    });

  scenarios
    .command('create <file>')
    .description('store a scenario from a JSON or YAML file (version 1)')
    .option('--idempotency-key <key>', 'the Idempotency-Key header')
    .action(async (file: string, o: { idempotencyKey?: string }, cmd: Command) => {
      const s = await ctx.client(cmd).createScenario(await readScenario(file), o.idempotencyKey ? { idempotencyKey: o.idempotencyKey } : {});
      ctx.io.out(ctx.json(cmd) ? JSON.stringify(s) : `created ${describe(s)}`);
    });

  scenarios
    .command('update <id> <file>')
    .description('a new version of a scenario from a JSON or YAML file')
    .action(async (id: string, file: string, _o: unknown, cmd: Command) => {
      const s = await ctx.client(cmd).updateScenario(id, await readScenario(file));
      ctx.io.out(ctx.json(cmd) ? JSON.stringify(s) : `updated ${describe(s)}`);
    });

  scenarios
    .command('validate <file>')
    .description('check a scenario file and print it resolved; stores nothing')
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const v = await ctx.client(cmd).validateScenario(await readScenario(file));
      ctx.io.out(ctx.json(cmd) ? JSON.stringify(v) : JSON.stringify(v.resolved, null, 2));
    });

  scenarios
    .command('delete <id>')
    .description('delete a scenario and its versions (jobs keep their copy)')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      await ctx.client(cmd).deleteScenario(id);
      ctx.io.out(ctx.json(cmd) ? JSON.stringify({ deleted: id }) : `deleted ${id}`);
    });
}
