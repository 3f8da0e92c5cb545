/**
 * One batch of the emissions kind: the activities with ids in [lo, hi) that match the job's
 * filters and have no result for its factor set, calculated with set-based SQL
 * (INSERT … SELECT … ON CONFLICT DO NOTHING) and committed in one transaction, with the batch's
 * counts and sums read back in the same transaction. A retried batch inserts nothing new and
 * reads the same counts (they are of this run's rows), so it neither skips nor duplicates.
 *
 * The arithmetic is reference.ts's (airKg, electricityKg, spendKg): docs/EMISSIONS.md.
 */
import type postgres from 'postgres';
import { cpiTable, cpiYearAverage, fxTable, GREAT_CIRCLE_UPLIFT, SHORT_HAUL_MAX_KM, type ActivityType } from './reference.js';

export interface Scope {
  tenantId: string;
  factorSet: string;
  orgId?: string;
  types?: ActivityType[];
  /** Periods YYYY-MM, inclusive. */
  from?: string;
  to?: string;
}

export interface BatchOutcome {
  /** Activities of the range this run accounts for: calculated by it, or with no matching factor. */
  units: number;
  totals: Record<string, number>;
}

export const SCOPE_OF: Record<ActivityType, { scope: string; category: string }> = {
  electricity: { scope: 'scope2', category: 'scope2' },
  goods_services: { scope: 'scope3', category: 'scope3.cat1' },
  air_travel: { scope: 'scope3', category: 'scope3.cat6' },
};

/** The filter on `activities a` of a job, without the id range. */
export function scopeFilter(sql: postgres.Sql, s: Scope) {
  return sql`a.tenant_id = ${s.tenantId}
    ${s.orgId !== undefined ? sql`and a.org_id = ${s.orgId}` : sql``}
    ${s.types ? sql`and a.type = any(${sql.array(s.types)}::text[])` : sql``}
    ${s.from !== undefined ? sql`and a.period >= ${s.from}` : sql``}
    ${s.to !== undefined ? sql`and a.period <= ${s.to}` : sql``}`;
}

let cpiCache: { values: string; months: number; averages: string; first: string; last: string; firstYear: number; firstMonth: number } | undefined;
/**
 * The CPI-U table as Postgres array literals: every month from the first (the table has no gap:
 * checked), and the average of each year from the first year on (null for a year not covered in full).
 */
function cpiArrays() {
  if (!cpiCache) {
    const t = cpiTable();
    const firstYear = Number(t.first.slice(0, 4));
    const firstMonth = Number(t.first.slice(5, 7));
    const values: number[] = [];
    for (let k = 0; ; k++) {
      const m = firstMonth - 1 + k;
      const key = `${firstYear + Math.floor(m / 12)}-${String((m % 12) + 1).padStart(2, '0')}`;
      const v = t.months.get(key);
      if (v === undefined) throw new Error(`the CPI-U table has no ${key}`);
      values.push(v);
      if (key === t.last) break;
    }
    const averages: string[] = [];
    for (let y = firstYear; y <= Number(t.last.slice(0, 4)); y++) averages.push(String(cpiYearAverage(y) ?? 'NULL'));
    cpiCache = { values: `{${values.join(',')}}`, months: values.length, averages: `{${averages.join(',')}}`, first: t.first, last: t.last, firstYear, firstMonth };
  }
  return cpiCache;
}

const fxJson = () => JSON.stringify([...fxTable()].map(([currency, per_eur]) => ({ currency, per_eur })));

export async function calculateBatch(sql: postgres.Sql, s: Scope, runId: string, lo: number, hi: number): Promise<BatchOutcome> {
  return sql.begin(async (tx) => {
    // Planned for this batch's id range: after five executions of a prepared statement Postgres may
    // switch to a generic plan that cannot see how narrow [lo, hi) is (bench/emissions.ts).
    await tx`set local plan_cache_mode = force_custom_plan`;
    const where = tx`${scopeFilter(tx as unknown as postgres.Sql, s)} and a.id >= ${lo} and a.id < ${hi}
      and not exists (select 1 from emission_results r where r.activity_id = a.id and r.factor_set = ${s.factorSet})`;
    const want = (t: ActivityType) => !s.types || s.types.includes(t);

    if (want('electricity')) {
      // Location-based: the grid factor of region → country → WORLD, the first key that exists.
      // Market-based: the contract's factor when given, else the location-based figure.
      await tx`
        insert into emission_results (activity_id, factor_set, tenant_id, org_id, type, period, scope, ghg_category,
          kg_co2e, kg_co2, kg_ch4, kg_n2o, kg_co2e_market, factor_id, match_level, run_id)
        select a.id, ${s.factorSet}, a.tenant_id, a.org_id, a.type, a.period, 'scope2', 'scope2',
          a.kwh * f.kg_co2e, a.kwh * f.kg_co2, a.kwh * f.kg_ch4, a.kwh * f.kg_n2o,
          a.kwh * coalesce(a.contract_factor, f.kg_co2e), f.id, f.level, ${runId}
        from activities a
        cross join lateral (
          -- Probes of the unique (factor_set, type, key) index, whatever the statistics say (a table
          -- not analyzed yet after a big load once made this a scan of every factor per activity).
          select f.*, case f.key when 'WORLD' then 'world' when a.country then 'country' else 'region' end as level
          from emission_factors f
          where f.factor_set = ${s.factorSet} and f.type = 'electricity'
            and f.key = any(array[a.country || ':' || a.region, a.country, 'WORLD'])
          order by case f.key when 'WORLD' then 3 when a.country then 2 else 1 end limit 1) f
        where a.type = 'electricity' and ${where}
        on conflict (activity_id, factor_set) do nothing`;
    }
    if (want('goods_services')) {
      // Exact NAICS key; the amount converted to the factor's currency at the bundled rates (per EUR),
      // then, for a USD factor with a base year, from money of the activity's month to money of that
      // year by US CPI-U (reference.ts priceRatio: the month clamped into the table).
      const c = cpiArrays();
      // The price index by array subscript (O(1) per row): month k of the table is element k, from
      // its first month; a base year's average is element (year − first year + 1) of the averages.
      const monthNo = tx`greatest(1, least(${c.months}, (substr(a.period, 1, 4)::int - ${c.firstYear}) * 12 + substr(a.period, 6, 2)::int - ${c.firstMonth} + 1))`;
      await tx`
        insert into emission_results (activity_id, factor_set, tenant_id, org_id, type, period, scope, ghg_category,
          kg_co2e, kg_co2, kg_ch4, kg_n2o, factor_id, match_level, fx_rate, price_ratio, price_index_month, run_id)
        select x.id, ${s.factorSet}, x.tenant_id, x.org_id, x.type, x.period, 'scope3', 'scope3.cat1',
          x.amount * x.fx * x.ratio * x.kg_co2e, x.amount * x.fx * x.ratio * x.kg_co2,
          x.amount * x.fx * x.ratio * x.kg_ch4, x.amount * x.fx * x.ratio * x.kg_n2o,
          x.factor_id, 'exact', x.fx, x.ratio, x.month, ${runId}
        from (
          select y.*, coalesce(y.avg / y.idx, 1::float8) as ratio, case when y.avg is not null then y.clamped end as month
          from (
            select a.id, a.tenant_id, a.org_id, a.type, a.period, a.amount, f.id as factor_id, f.kg_co2e, f.kg_co2, f.kg_ch4, f.kg_n2o,
              tf.per_eur / af.per_eur as fx,
              case when f.currency = 'USD' then (${c.averages}::float8[])[f.base_year - ${c.firstYear} + 1] end as avg,
              (${c.values}::float8[])[${monthNo}] as idx,
              least(greatest(a.period, ${c.first}), ${c.last}) as clamped
            from activities a
            join emission_factors f on f.factor_set = ${s.factorSet} and f.type = 'goods_services' and f.key = a.category
            join jsonb_to_recordset(${fxJson()}::text::jsonb) as af(currency text, per_eur float8) on af.currency = a.currency
            join jsonb_to_recordset(${fxJson()}::text::jsonb) as tf(currency text, per_eur float8) on tf.currency = f.currency
            where a.type = 'goods_services' and ${where}) y) x
        on conflict (activity_id, factor_set) do nothing`;
    }
    if (want('air_travel')) {
      // DESNZ: distance (reported, or great circle × uplift), band from the unadjusted distance and
      // the UK ends, the cabin's "with RF" factor (else the band's average passenger), × passengers, × 2 for a round trip.
      await tx`
        insert into emission_results (activity_id, factor_set, tenant_id, org_id, type, period, scope, ghg_category,
          kg_co2e, kg_co2, kg_ch4, kg_n2o, factor_id, match_level, distance_km, distance_method, uplift, rf_multiplier, run_id)
        select x.id, ${s.factorSet}, x.tenant_id, x.org_id, x.type, x.period, 'scope3', 'scope3.cat6',
          x.pkm * f.kg_co2e, x.pkm * f.kg_co2, x.pkm * f.kg_ch4, x.pkm * f.kg_n2o,
          f.id, f.level, x.d, x.method, x.up, f.kg_co2e / nullif(nr.kg_co2e, 0), ${runId}
        from (
          select a.*, coalesce(a.distance_km, a.gc_distance_km) as d,
            case when a.distance_km is null then ${GREAT_CIRCLE_UPLIFT}::float8 else 1::float8 end as up,
            case when a.distance_km is null then 'great_circle' else 'reported' end as method,
            coalesce(a.distance_km, a.gc_distance_km) * (case when a.distance_km is null then ${GREAT_CIRCLE_UPLIFT}::float8 else 1::float8 end)
              * a.passengers * (case when a.round_trip then 2 else 1 end) as pkm,
            case when a.origin_country = 'United Kingdom' and a.destination_country = 'United Kingdom' then 'domestic'
                 when a.origin_country = 'United Kingdom' or a.destination_country = 'United Kingdom' then
                   case when coalesce(a.distance_km, a.gc_distance_km) < ${SHORT_HAUL_MAX_KM} then 'short_haul' else 'long_haul' end
                 else 'international' end as band
          from activities a
          where a.type = 'air_travel' and ${where}) x
        cross join lateral (
          select f.*, case when f.key = x.band || ':' || x.cabin_class || ':with_rf' then 'cabin' else 'band_average' end as level
          from emission_factors f
          where f.factor_set = ${s.factorSet} and f.type = 'air_travel'
            and f.key = any(array[x.band || ':' || x.cabin_class || ':with_rf', x.band || ':average:with_rf'])
          order by case when f.key = x.band || ':' || x.cabin_class || ':with_rf' then 1 else 2 end limit 1) f
        left join emission_factors nr on nr.factor_set = ${s.factorSet} and nr.type = 'air_travel' and nr.key = replace(f.key, ':with_rf', ':without_rf')
        on conflict (activity_id, factor_set) do nothing`;
    }

    // This run's rows in the range, and the range's activities no factor matched.
    const rows = await tx<{ type: ActivityType; calculated: number; unmatched: number; kg: number | null; market: number | null }[]>`
      select a.type, count(r.id)::int as calculated, count(*) filter (where r.id is null)::int as unmatched,
        sum(r.kg_co2e)::float8 as kg, sum(r.kg_co2e_market)::float8 as market
      from activities a
      left join emission_results r on r.activity_id = a.id and r.factor_set = ${s.factorSet}
      where ${scopeFilter(tx as unknown as postgres.Sql, s)} and a.id >= ${lo} and a.id < ${hi} and (r.id is null or r.run_id = ${runId})
      group by a.type`;
    const totals: Record<string, number> = {};
    let units = 0;
    const add = (k: string, v: number) => v && (totals[k] = (totals[k] ?? 0) + v);
    for (const r of rows) {
      units += r.calculated + r.unmatched;
      const { scope } = SCOPE_OF[r.type];
      add('activities', r.calculated);
      add(`activities.${r.type}`, r.calculated);
      add('unmatched', r.unmatched);
      add('kgCo2e', r.kg ?? 0);
      add(`kgCo2e.${r.type}`, r.kg ?? 0);
      add(`kgCo2e.${scope}`, r.kg ?? 0);
      if (r.type === 'electricity') add('kgCo2e.scope2.market', r.market ?? 0);
    }
    return { units, totals };
  }) as Promise<BatchOutcome>;
}

/** The end (exclusive) of the next batch of at most `size` matching pending ids after `from` (keyset), or null when none is left before `hi`. */
export async function nextBatchEnd(sql: postgres.Sql, s: Scope, from: number, hi: number, size: number): Promise<number | null> {
  const [row] = await sql<{ last: string | null }[]>`
    select max(id)::text as last from (
      select a.id from activities a where ${scopeFilter(sql, s)} and a.id >= ${from} and a.id < ${hi}
      order by a.id limit ${size}) b`;
  return row?.last == null ? null : Number(row.last) + 1;
}

/**
 * ANALYZE the tables a job's batches plan against when a tenth of their rows changed since the last
 * analysis (a big ingest just before a job, before autovacuum came by): the batches' plans (an
 * anti-join per activity, factor lookups) go wrong on estimates of one row. A sampled ANALYZE takes
 * well under a second even on millions of rows.
 */
export async function refreshStaleStatistics(sql: postgres.Sql): Promise<void> {
  const stale = await sql<{ relname: string }[]>`
    select relname from pg_stat_user_tables
    where relname in ('activities', 'emission_results', 'emission_factors') and schemaname = any(current_schemas(false))
      and n_mod_since_analyze > greatest(1000, n_live_tup / 10)`;
  for (const { relname } of stale) await sql`analyze ${sql(relname)}`;
}
