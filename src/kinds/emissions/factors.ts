/**
 * Emission factor sets in Postgres: the built-in default is loaded on first use (idempotent, under
 * an advisory lock), another set is loaded whole by `loadFactorSet` (an endpoint and a CLI command).
 * A set is never changed once loaded: a new version is a new set, so old results keep their factors.
 */
import type postgres from 'postgres';
import { ACTIVITY_TYPES, DEFAULT_FACTOR_SET, defaultFactors, type FactorRow } from './reference.js';

/** Arbitrary but fixed advisory lock key: "emfactor". */
const LOCK_KEY = 0x656d666163746f72n;

export class FactorSetError extends Error {
  constructor(
    message: string,
    readonly errors: Array<{ path: string; message: string }> = [],
    readonly status: 409 | 422 = 422,
  ) {
    super(message);
    this.name = 'FactorSetError';
  }
}

export interface FactorSetInput {
  version: string;
  description?: string;
  factors: FactorRow[];
}

/** Checks a set before it is loaded: known types, finite non-negative factors, unique keys. */
export function checkFactorSet(set: FactorSetInput): Array<{ path: string; message: string }> {
  const errors: Array<{ path: string; message: string }> = [];
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(set.version)) errors.push({ path: 'version', message: '1–64 letters, digits, dots, dashes or underscores' });
  const seen = new Set<string>();
  set.factors.forEach((f, i) => {
    if (!(ACTIVITY_TYPES as readonly string[]).includes(f.type)) errors.push({ path: `factors.${i}.type`, message: `one of ${ACTIVITY_TYPES.join(', ')}` });
    if (!Number.isFinite(f.kgCo2e) || f.kgCo2e < 0) errors.push({ path: `factors.${i}.kgCo2e`, message: 'a finite number ≥ 0' });
    if (f.type === 'goods_services' && !f.currency) errors.push({ path: `factors.${i}.currency`, message: 'a spend factor names its currency' });
    const k = `${f.type}\u0000${f.key}`;
    if (seen.has(k)) errors.push({ path: `factors.${i}.key`, message: `duplicate key ${f.key} for ${f.type}` });
    seen.add(k);
  });
  return errors;
}

async function insertSet(tx: postgres.TransactionSql, set: FactorSetInput, tenantId: string | null, isDefault: boolean): Promise<void> {
  await tx`insert into emission_factor_sets (version, tenant_id, description, is_default) values (${set.version}, ${tenantId}, ${set.description ?? null}, ${isDefault})`;
  const rows = set.factors.map((f) => ({
    factor_set: set.version,
    type: f.type,
    key: f.key,
    unit: f.unit,
    kg_co2e: f.kgCo2e,
    kg_co2: f.kgCo2 ?? null,
    kg_ch4: f.kgCh4 ?? null,
    kg_n2o: f.kgN2o ?? null,
    currency: f.currency ?? null,
    base_year: f.baseYear ?? null,
    source: f.source,
    source_table: f.sourceTable ?? null,
    year: f.year ?? null,
    region: f.region ?? null,
    url: f.url ?? null,
    label: f.label ?? null,
  }));
  for (let i = 0; i < rows.length; i += 500) await tx`insert into emission_factors ${tx(rows.slice(i, i + 500))}`;
}

const ensured = new WeakSet<object>();

/** Loads the built-in set once per database (a no-op when it is there). */
export async function ensureDefaultFactorSet(sql: postgres.Sql): Promise<void> {
  if (ensured.has(sql)) return;
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${LOCK_KEY.toString()}::bigint)`;
    const [found] = await tx`select 1 from emission_factor_sets where version = ${DEFAULT_FACTOR_SET}`;
    if (found) return;
    // An earlier built-in version stays (its results keep it) but is no longer the default.
    await tx`update emission_factor_sets set is_default = false where is_default`;
    await insertSet(tx, { version: DEFAULT_FACTOR_SET, description: 'Built in: DESNZ 2025 flights, EPA USEEIO v1.2 spend (subset) deflated to 2021 USD by US CPI-U, Ember grid averages (docs/EMISSIONS.md)', factors: defaultFactors() }, null, true);
  });
  ensured.add(sql);
}

/** Loads a new set (all or nothing). A version that exists already is a 409. */
export async function loadFactorSet(sql: postgres.Sql, set: FactorSetInput, tenantId: string | null): Promise<{ version: string; factors: number }> {
  const errors = checkFactorSet(set);
  if (errors.length) throw new FactorSetError('invalid factor set', errors);
  await ensureDefaultFactorSet(sql);
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${LOCK_KEY.toString()}::bigint)`;
    const [found] = await tx`select 1 from emission_factor_sets where version = ${set.version}`;
    if (found) throw new FactorSetError(`factor set ${set.version} exists already; load a new version`, [{ path: 'version', message: 'exists already' }], 409);
    await insertSet(tx, set, tenantId, false);
  });
  return { version: set.version, factors: set.factors.length };
}

/** The version a job uses: the one asked for (visible to the tenant), else the built-in default. */
export async function resolveFactorSet(sql: postgres.Sql, tenantId: string, version: string | undefined): Promise<string | null> {
  await ensureDefaultFactorSet(sql);
  if (version === undefined) return DEFAULT_FACTOR_SET;
  const [row] = await sql`select version from emission_factor_sets where version = ${version} and (tenant_id is null or tenant_id = ${tenantId})`;
  return row ? (row.version as string) : null;
}
