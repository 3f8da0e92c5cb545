/**
 * The `emissions` kind: calculates the emissions of a tenant's pending activities (docs/EMISSIONS.md).
 * It writes to the service's database, not to files: the plan is one segment over the activities'
 * id space (keys of rows read from Postgres), each shard a key range computed batch by batch with
 * set-based SQL (calculate.ts), each batch one transaction; the shard's totals (kg CO2e by type and
 * scope) add up in the workflow. finalize writes `emissions.json` (the totals) into the job folder.
 */
import type postgres from 'postgres';
import { siblingModule, SpecError, type Kind, type KindContext } from '../../engine/kind.js';
import { refreshStaleStatistics, scopeFilter, type Scope } from './calculate.js';
import { resolveFactorSet } from './factors.js';
import { DEFAULT_BATCH_SIZE, EmissionsSpecSchema, type EmissionsSpec, type EmissionsSpecBody } from './spec.js';

export const EMISSIONS_TABLE = 'activities';
/** At most this many key ranges (shards) per job. */
export const MAX_SHARDS_PER_JOB = 1024;

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
    await refreshStaleStatistics(needSql(ctx));
    const p = await pending(ctx, input.tenantId, spec);
    const span = Math.max(0, p.max + 1 - p.min);
    // Ids of other tenants and organisations interleave with the scope's: a sparse range gets wider
    // shards rather than thousands of empty ones (each shard walks its range by keyset anyway).
    const shardSize = Math.max(input.partitioning.shardRows, Math.ceil(span / MAX_SHARDS_PER_JOB));
    return { tables: [], segments: [{ table: EMISSIONS_TABLE, start: p.min, end: p.max + 1, units: p.n, shardSize, partSize: shardSize }] };
  },
  shardModule: siblingModule(import.meta.url, './shard'),
  async finalize(input, plan, ctx) {
    const spec = input.spec as unknown as EmissionsSpec;
    const diff = spec.recalculate ? await recalculationDiff(needSql(ctx), input.jobId, spec.factorSet) : undefined;
    const files = [];
    const report = { factorSet: spec.factorSet, activities: plan.total, totals: ctx.totals, results: 'emission_results (run_id = job id)' };
    // emissions.json and diff.json (with .enc appended for an encrypted job).
    const json = (value: unknown) => Buffer.from(JSON.stringify(value, null, 2) + '\n', 'utf8');
    const reportFile = await ctx.writeFile('emissions.json', json(report));
    files.push(reportFile);
    const diffFile = diff ? await ctx.writeFile('diff.json', json(diff)) : undefined;
    if (diffFile) files.push(diffFile);
    const tonnes = Math.round(((ctx.totals.kgCo2e ?? 0) / 1000) * 1e6) / 1e6;
    return {
      files,
      result: {
        summary: {
          factorSet: spec.factorSet,
          totalTonnesCo2e: tonnes,
          totals: ctx.totals,
          file: reportFile.name,
          ...(diff ? { diff: { file: diffFile!.name, groups: diff.groups.slice(0, DIFF_GROUPS_IN_SUMMARY), groupCount: diff.groups.length } } : {}),
        },
      },
    };
  },
};

/** How many diff groups the job's result shows (all of them are in diff.json). */
const DIFF_GROUPS_IN_SUMMARY = 100;


export interface DiffGroup {
  orgId: string;
  type: string;
  /** The activities' previous results (the newest of another factor set), kg CO2e; null when none had one. */
  oldKgCo2e: number | null;
  newKgCo2e: number;
  changeKgCo2e: number;
  activities: number;
  /** Factor sets the old results came from. */
  oldFactorSets: string[];
  /** The new factors that moved the total most: key, the change they account for. */
  factors: Array<{ key: string; changeKgCo2e: number; activities: number }>;
}

/**
 * A recalculation's diff: this run's results against each activity's previous result (the newest
 * one of another factor set), per organisation and type, with the factors that moved it most.
 */
export async function recalculationDiff(sql: postgres.Sql, runId: string, factorSet: string): Promise<{ factorSet: string; groups: DiffGroup[] }> {
  const rows = await sql<{ org_id: string; type: string; old: number | null; new: number; n: number; sets: string[] | null; factors: DiffGroup['factors'] }[]>`
    with n as (select * from emission_results where run_id = ${runId} and factor_set = ${factorSet}),
    o as (
      select distinct on (p.activity_id) p.activity_id, p.kg_co2e, p.factor_set from emission_results p
      join n on n.activity_id = p.activity_id
      where p.factor_set <> ${factorSet}
      order by p.activity_id, p.calculated_at desc, p.id desc),
    j as (select n.org_id, n.type, n.kg_co2e as new, o.kg_co2e as old, o.factor_set as old_set, f.key from n
      left join o on o.activity_id = n.activity_id join emission_factors f on f.id = n.factor_id),
    byf as (select org_id, type, key, sum(new - coalesce(old, 0))::float8 as change, count(*)::int as n,
      row_number() over (partition by org_id, type order by abs(sum(new - coalesce(old, 0))) desc, key) as rk
      from j group by org_id, type, key)
    select g.org_id, g.type, g.old, g.new, g.n, g.sets,
      coalesce((select jsonb_agg(jsonb_build_object('key', b.key, 'changeKgCo2e', b.change, 'activities', b.n) order by b.rk)
        from byf b where b.org_id = g.org_id and b.type = g.type and b.rk <= 3), '[]'::jsonb) as factors
    from (select org_id, type, sum(old)::float8 as old, sum(new)::float8 as new, count(*)::int as n,
      array_agg(distinct old_set) filter (where old_set is not null) as sets from j group by org_id, type) g
    order by g.org_id, g.type`;
  return {
    factorSet,
    groups: rows.map((r) => ({
      orgId: r.org_id,
      type: r.type,
      oldKgCo2e: r.old,
      newKgCo2e: r.new,
      changeKgCo2e: r.new - (r.old ?? 0),
      activities: r.n,
      oldFactorSets: r.sets ?? [],
      factors: r.factors,
    })),
  };
}
