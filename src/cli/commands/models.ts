/** `shardflow models fit|list|show`: trial models fitted to your own CSV. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Model } from '../../client/index.js';
import { int, table } from '../format.js';
import { UsageError } from '../io.js';

const describe = (m: Model) =>
  `${m.id}  ${m.name}${m.builtIn ? ' (built in)' : ''}\n  ${int(m.rows)} rows, ${int(m.subjects)} subjects, grouped by ${m.groupBy.join(', ')}\n  visits ${m.visits.join(', ')}; arms ${m.arms.join(', ')}`;

export function registerModels(program: Command, ctx: import('./context.js').Ctx): void {
  const models = program.command('models').description('trial models: fit one to a CSV, list, show');

  models
    .command('fit <csv>')
    .description('fit a model to a CSV (SubjectID, TreatmentArm, VisitName, SystolicBP, DiastolicBP, HeartRate, Temperature)')
    .option('--group-by <columns>', 'the grouping columns (default VisitName,TreatmentArm)')
    .option('--name <name>', "the model's name (use it as spec.model)")
    .action(async (csv: string, o: { groupBy?: string; name?: string }, cmd: Command) => {
      let body: Buffer;
      try {
        body = await readFile(csv);
      } catch (err) {
        throw new UsageError(`${csv}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
      }
      const m = await ctx.client(cmd).fitModel(new Uint8Array(body), { ...(o.groupBy ? { groupBy: o.groupBy } : {}), ...(o.name ? { name: o.name } : {}) });
      ctx.io.out(ctx.json(cmd) ? JSON.stringify(m) : `fitted ${describe(m)}`);
    });

  models
    .command('list')
    .description('your models and the built-in one')
    .action(async (_o: unknown, cmd: Command) => {
      const items: Model[] = [];
      let cursor: string | undefined;
      do {
        const page = await ctx.client(cmd).listModels({ limit: 500, cursor });
        items.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      if (ctx.json(cmd)) return ctx.io.out(JSON.stringify(items));
      ctx.io.out(table([['ID', 'NAME', 'ROWS', 'SUBJECTS', 'VISITS', 'CREATED'], ...items.map((m) => [m.id, m.name, int(m.rows), int(m.subjects), String(m.visits.length), m.createdAt ?? 'built in'])]));
    });

  models
    .command('show <id>')
    .description('a model by id or name')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const m = await ctx.client(cmd).getModel(id);
      ctx.io.out(ctx.json(cmd) ? JSON.stringify(m) : describe(m));
    });
}
