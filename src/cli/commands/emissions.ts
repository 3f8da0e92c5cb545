/** `shardflow emissions load-factors|summary`: emission factor sets and calculated totals (docs/EMISSIONS.md). */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { NewFactorSet } from '../../client/index.js';
import { epaFactors } from '../../kinds/emissions/epa.js';
import { table } from '../format.js';
import { UsageError } from '../io.js';

export function registerEmissions(program: Command, ctx: import('./context.js').Ctx): void {
  const em = program.command('emissions').description('emission factor sets and calculated emissions');

  em.command('load-factors <json>')
    .description('load a new factor set from a JSON file { version, description?, factors: [{ type, key, unit, kgCo2e, source, … }] }')
    .action(async (file: string, _o: unknown, cmd: Command) => {
      let set: NewFactorSet;
      try {
        set = JSON.parse(await readFile(file, 'utf8')) as NewFactorSet;
      } catch (err) {
        throw new UsageError(`${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
      }
      const out = await ctx.client(cmd).loadFactorSet(set);
      ctx.io.out(ctx.json(cmd) ? JSON.stringify(out) : `loaded factor set ${out.version}: ${out.factors} factors`);
    });

  em.command('load-epa <csv>')
    .description("load a new factor set from the EPA's SupplyChainGHGEmissionFactors_v1.x_NAICS_CO2e_USD20xx.csv (every NAICS-6 code, with margins)")
    .requiredOption('--set-version <version>', "the new set's version")
    .option('--publication <text>', 'the source to record', 'US EPA Supply Chain Greenhouse Gas Emission Factors for US Industries and Commodities (NAICS-6, with margins)')
    .option('--url <url>', 'where the file was downloaded from')
    .action(async (file: string, o: { setVersion: string; publication: string; url?: string }, cmd: Command) => {
      let factors;
      try {
        factors = epaFactors(await readFile(file, 'utf8'), o.publication, o.url);
      } catch (err) {
        throw new UsageError(`${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
      }
      const out = await ctx.client(cmd).loadFactorSet({ version: o.setVersion, description: `from ${file}`, factors } as NewFactorSet);
      ctx.io.out(ctx.json(cmd) ? JSON.stringify(out) : `loaded factor set ${out.version}: ${out.factors} factors`);
    });

  em.command('summary')
    .description('calculated emissions in tonnes CO2e, grouped by type, scope, month or category')
    .option('--org <orgId>', 'one organisation')
    .option('--group-by <g>', 'type | scope | month | category', 'type')
    .option('--factor-set <version>', 'a factor set other than the default')
    .action(async (o: { org?: string; groupBy: string; factorSet?: string }, cmd: Command) => {
      if (!['type', 'scope', 'month', 'category'].includes(o.groupBy)) throw new UsageError('--group-by: type, scope, month or category');
      const s = await ctx.client(cmd).emissionsSummary({ groupBy: o.groupBy as 'type', ...(o.org ? { orgId: o.org } : {}), ...(o.factorSet ? { factorSet: o.factorSet } : {}) });
      if (ctx.json(cmd)) return ctx.io.out(JSON.stringify(s));
      // The table rounds to kilograms (--json has the API's full figures).
      const t = (x: number) => x.toLocaleString('en-US', { minimumFractionDigits: 3, maximumFractionDigits: 3 });
      const n = (x: number) => x.toLocaleString('en-US');
      const total = s.groups.reduce((k, g) => k + g.activities, 0);
      ctx.io.out(table([[o.groupBy.toUpperCase(), 'TONNES CO2E', 'ACTIVITIES'], ...s.groups.map((g) => [g.key, t(g.tonnesCo2e), n(g.activities)]), ['total', t(s.totalTonnesCo2e), n(total)]]));
    });
}
