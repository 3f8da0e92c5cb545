/**
 * The `emissions` kind: calculates the emissions of a tenant's pending activities (docs/EMISSIONS.md).
 * It writes to the service's database, not to files: the plan is one segment over the activities'
 * id space (keys of rows read from Postgres), each shard a key range computed batch by batch with
 * set-based SQL (calculate.ts), each batch one transaction; the shard's totals (kg CO2e by type and
 * scope) add up in the workflow. finalize writes `emissions.json` (the totals) into the job folder.
 */
import path from 'node:path';
import { openDestination } from '../../destinations/index.js';
import { siblingModule, SpecError, type Kind, type KindContext } from '../../engine/kind.js';
import { scopeFilter, type Scope } from './calculate.js';
import { resolveFactorSet } from './factors.js';
import { DEFAULT_BATCH_SIZE, EmissionsSpecSchema, type EmissionsSpec, type EmissionsSpecBody } from './spec.js';

export const EMISSIONS_TABLE = 'activities';

export function scopeOf(tenantId: string, spec: EmissionsSpec): Scope {
  return { tenantId, factorSet: spec.factorSet, orgId: spec.orgId, types: spec.types, from: spec.from, to: spec.to };
}

function needSql(ctx: KindContext) {
  if (!ctx.sql) throw new Error('the emissions kind needs the database');
  return ctx.sql;
}

/** Pending activities of the job's scope: count and id range (one index scan). */
async function pending(ctx: KindContext, tenantId: string, spec: EmissionsSpec): Promise<{ n: number; min: number; max: number }> {
  const sql = needSql(ctx);
  const s = scopeOf(tenantId, spec);
  const [row] = await sql<{ n: string; min: string | null; max: string | null }[]>`
    select count(*)::text as n, min(a.id)::text as min, max(a.id)::text as max from activities a
    where ${scopeFilter(sql, s)}
      and not exists (select 1 from emission_results r where r.activity_id = a.id and r.factor_set = ${spec.factorSet})`;
  return { n: Number(row!.n), min: Number(row!.min ?? 0), max: Number(row!.max ?? -1) };
}

export const emissions: Kind = {
  name: 'emissions',
  unit: 'activities',
  spec: EmissionsSpecSchema,
  // Results go to Postgres (emission_results); the job folder gets emissions.json only.
  formats: ['ndjson'],
  usesDatabase: true,
  sizePath: 'spec',
  example: { types: ['electricity', 'goods_services', 'air_travel'], batchSize: 5000 },
  async normalize(body, ctx) {
    const b = body as EmissionsSpecBody;
    const sql = needSql(ctx);
    if (b.from && b.to && b.from > b.to) throw new SpecError(400, [{ path: 'spec.to', message: 'must not be before spec.from' }]);
    const factorSet = await resolveFactorSet(sql, ctx.tenantId, b.factorSet);
    if (!factorSet) throw new SpecError(422, [{ path: 'spec.factorSet', message: `no factor set ${b.factorSet}` }]);
    const spec: EmissionsSpec = {
      ...(b.orgId !== undefined ? { orgId: b.orgId } : {}),
      ...(b.types ? { types: [...new Set(b.types)] } : {}),
      ...(b.from ? { from: b.from } : {}),
      ...(b.to ? { to: b.to } : {}),
      recalculate: b.recalculate ?? false,
      factorSet,
      batchSize: b.batchSize ?? DEFAULT_BATCH_SIZE,
    };
    const { n } = await pending(ctx, ctx.tenantId, spec);
    return { spec: spec as unknown as Record<string, unknown>, units: n };
  },
  // No tables: the activities' ids are the index space, cut into key ranges by the engine (shardRows ids each).
  async plan(input, ctx) {
    const spec = input.spec as unknown as EmissionsSpec;
    const p = await pending(ctx, input.tenantId, spec);
    return { tables: [], segments: [{ table: EMISSIONS_TABLE, start: p.min, end: p.max + 1, units: p.n }] };
  },
  shardModule: siblingModule(import.meta.url, './shard'),
  async finalize(input, plan, ctx) {
    const spec = input.spec as unknown as EmissionsSpec;
    const name = 'emissions.json';
    const report = { factorSet: spec.factorSet, activities: plan.total, totals: ctx.totals, results: 'emission_results (run_id = job id)' };
    const dest = await openDestination({ kind: 'file', path: path.join(ctx.jobDir, name) });
    try {
      await dest.write(Buffer.from(JSON.stringify(report, null, 2) + '\n', 'utf8'));
      const { bytes, sha256 } = await dest.commit();
      const tonnes = Math.round(((ctx.totals.kgCo2e ?? 0) / 1000) * 1e6) / 1e6;
      return { files: [{ name, table: '', rows: 0, bytes, sha256 }], result: { summary: { factorSet: spec.factorSet, totalTonnesCo2e: tonnes, totals: ctx.totals, file: name } } };
    } catch (err) {
      await dest.abort();
      throw err;
    }
  },
};
