/**
 * The whole database schema, as code. Migrations in ./migrations are GENERATED from this
 * file by `npm run db:generate` (drizzle-kit); never edit them by hand.
 *
 * Timestamps are timestamptz(3): millisecond precision, so a JS Date round-trips exactly
 * and (created_at, id) cursors compare correctly.
 */
import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, date, doublePrecision, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });

/** API keys. The secret itself is never stored: only its sha256 (hex) and a display prefix. */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: text('id').primaryKey(), // key_…
    tenantId: text('tenant_id').notNull(),
    name: text('name'),
    keyHash: text('key_hash').notNull().unique(),
    prefix: text('prefix').notNull(),
    maxRows: bigint('max_rows', { mode: 'number' }),
    maxConcurrentJobs: integer('max_concurrent_jobs'),
    /** Requests per minute (429 beyond); null = SHARDFLOW_RATE_LIMIT_PER_MINUTE, else unlimited. */
    ratePerMinute: integer('rate_per_minute'),
    /** Bytes the tenant's jobs may hold on disk before new jobs are refused; null = unlimited. */
    maxStorageBytes: bigint('max_storage_bytes', { mode: 'number' }),
    createdAt: ts('created_at').notNull().defaultNow(),
    revokedAt: ts('revoked_at'),
  },
  (t) => [index('api_keys_tenant_idx').on(t.tenantId)],
);

/** Jobs: the last known state of every job (Temporal is the source of truth while it runs). */
export const jobs = pgTable(
  'jobs',
  {
    id: text('id').primaryKey(), // job-…, also the workflow id
    tenantId: text('tenant_id').notNull(),
    kind: text('kind').notNull(),
    status: text('status').notNull(),
    spec: jsonb('spec').notNull(),
    output: jsonb('output').notNull(),
    partitioning: jsonb('partitioning').notNull(),
    rowsTotal: bigint('rows_total', { mode: 'number' }),
    /** High-water mark of progress.done, so progress never goes backwards between two reads. */
    rowsDone: bigint('rows_done', { mode: 'number' }),
    /** The last shard counts a workflow answered ({ total, completed, running }): shown while it cannot answer (no worker polls). */
    shards: jsonb('shards'),
    idempotencyKey: text('idempotency_key'),
    requestHash: text('request_hash'),
    createdAt: ts('created_at').notNull().defaultNow(),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
    error: jsonb('error'),
    result: jsonb('result'),
  },
  (t) => [
    uniqueIndex('jobs_tenant_idempotency_key_uq').on(t.tenantId, t.idempotencyKey),
    index('jobs_tenant_created_idx').on(t.tenantId, t.createdAt.desc(), t.id.desc()),
    index('jobs_tenant_status_idx').on(t.tenantId, t.status),
    // Retention reads finished jobs in (finished_at, id) order (src/engine/retention.ts).
    index('jobs_finished_idx').on(t.finishedAt, t.id),
  ],
);

/**
 * The key of an encrypted job (output.encryption, docs/ENCRYPTION.md): its 32-byte master key,
 * sealed with SHARDFLOW_SECRET_KEY (AES-256-GCM, the job id as additional data), so neither this
 * table nor a backup of it gives the key. Deleted when the job completes, and when the job is removed.
 */
export const jobKeys = pgTable('job_keys', {
  // No foreign key (the migrations name no schema, and a key would have to): removing a job deletes its key (src/engine/remove-job.ts).
  jobId: text('job_id').primaryKey(),
  /** base64 of IV (12) ‖ ciphertext (32) ‖ tag (16). */
  sealed: text('sealed').notNull(),
  /** The job salt (base64 of 16 bytes): not secret, also in every file's header. */
  salt: text('salt').notNull(),
  /** { id: 'scrypt', logN, r, p } | { id: 'none' }: not secret. */
  kdf: jsonb('kdf').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
});

/** Fitted generative models. tenant_id null = built in (e.g. pilot-vitals), visible to all. A model is found by id, else by its tenant's name. */
export const models = pgTable(
  'models',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id'),
    name: text('name').notNull(),
    groupBy: text('group_by')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    params: jsonb('params').notNull(),
    sourceRows: integer('source_rows'),
    idempotencyKey: text('idempotency_key'),
    requestHash: text('request_hash'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('models_tenant_created_idx').on(t.tenantId, t.createdAt.desc(), t.id.desc()),
    uniqueIndex('models_tenant_idempotency_key_uq').on(t.tenantId, t.idempotencyKey),
    /** A model is referenced by its name as well as its id: names are unique per tenant. */
    uniqueIndex('models_tenant_name_uq').on(t.tenantId, t.name),
  ],
);

/**
 * Emission factor sets (docs/EMISSIONS.md): a named, versioned collection of factors. tenant_id null
 * = loaded by the operator for everyone (the built-in default); a tenant's own sets are its alone.
 */
export const emissionFactorSets = pgTable('emission_factor_sets', {
  version: text('version').primaryKey(),
  tenantId: text('tenant_id'),
  description: text('description'),
  isDefault: boolean('is_default').notNull().default(false),
  loadedAt: ts('loaded_at').notNull().defaultNow(),
});

/**
 * One published figure: `type` (electricity | goods_services | air_travel) and an exact `key`
 * (electricity: ISO 3166 alpha-3 country, `country:region`, or `WORLD`; goods_services: a NAICS-6
 * code; air_travel: `band:cabin:with_rf|without_rf`). kg CO2e per `unit`, and the gases where the
 * source gives them; provenance in source/table/year/region/url.
 */
export const emissionFactors = pgTable(
  'emission_factors',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    factorSet: text('factor_set').notNull(),
    type: text('type').notNull(),
    key: text('key').notNull(),
    unit: text('unit').notNull(),
    kgCo2e: doublePrecision('kg_co2e').notNull(),
    kgCo2: doublePrecision('kg_co2'),
    kgCh4: doublePrecision('kg_ch4'),
    kgN2o: doublePrecision('kg_n2o'),
    /** Spend factors: the currency and price year of `unit`. */
    currency: text('currency'),
    baseYear: integer('base_year'),
    source: text('source').notNull(),
    sourceTable: text('source_table'),
    year: integer('year'),
    region: text('region'),
    url: text('url'),
    label: text('label'),
  },
  (t) => [uniqueIndex('emission_factors_set_type_key_uq').on(t.factorSet, t.type, t.key)],
);

/**
 * Activities, one wide table for the three types (keyset reads by id; COPY loads them). Columns a
 * type does not use are null. `period` is YYYY-MM for every type (an air trip's is its date's).
 */
export const activities = pgTable(
  'activities',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tenantId: text('tenant_id').notNull(),
    orgId: text('org_id').notNull(),
    type: text('type').notNull(),
    period: text('period').notNull(),
    // electricity
    kwh: doublePrecision('kwh'),
    country: text('country'),
    region: text('region'),
    /** Market-based: the supplier contract's kg CO2e per kWh, when the organisation has one. */
    contractFactor: doublePrecision('contract_factor'),
    // goods_services
    amount: doublePrecision('amount'),
    currency: text('currency'),
    category: text('category'),
    // air_travel
    activityDate: date('activity_date'),
    origin: text('origin'),
    destination: text('destination'),
    cabinClass: text('cabin_class'),
    passengers: integer('passengers'),
    roundTrip: boolean('round_trip'),
    /** As reported by the user (then used as is), else null. */
    distanceKm: doublePrecision('distance_km'),
    /** Great-circle distance between the airports (data/emissions/airports.csv), computed at ingest. */
    gcDistanceKm: doublePrecision('gc_distance_km'),
    originCountry: text('origin_country'),
    destinationCountry: text('destination_country'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  // Keyset reads of a job's scope: by tenant in id order, or by tenant and organisation in id order.
  (t) => [index('activities_tenant_id_idx').on(t.tenantId, t.id), index('activities_tenant_org_id_idx').on(t.tenantId, t.orgId, t.id)],
);

/** A POST /v1/activities that carried an Idempotency-Key: its answer, replayed for the same request. */
export const activityIngests = pgTable(
  'activity_ingests',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tenantId: text('tenant_id').notNull(),
    idempotencyKey: text('idempotency_key'),
    requestHash: text('request_hash').notNull(),
    response: jsonb('response').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('activity_ingests_tenant_idempotency_key_uq').on(t.tenantId, t.idempotencyKey)],
);

/**
 * Results: one row per activity and factor-set version. A retried batch inserts with
 * ON CONFLICT DO NOTHING on that pair, so it neither skips nor duplicates.
 */
export const emissionResults = pgTable(
  'emission_results',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    activityId: bigint('activity_id', { mode: 'number' }).notNull(),
    factorSet: text('factor_set').notNull(),
    tenantId: text('tenant_id').notNull(),
    orgId: text('org_id').notNull(),
    type: text('type').notNull(),
    period: text('period').notNull(),
    /** scope2 | scope3 */
    scope: text('scope').notNull(),
    /** GHG Protocol: scope2 (electricity), scope3.cat1 (purchased goods and services), scope3.cat6 (business travel). */
    ghgCategory: text('ghg_category').notNull(),
    /** Electricity: location-based; the market-based figure is kg_co2e_market. */
    kgCo2e: doublePrecision('kg_co2e').notNull(),
    kgCo2: doublePrecision('kg_co2'),
    kgCh4: doublePrecision('kg_ch4'),
    kgN2o: doublePrecision('kg_n2o'),
    kgCo2eMarket: doublePrecision('kg_co2e_market'),
    factorId: bigint('factor_id', { mode: 'number' }).notNull(),
    /** Which key matched: region | country | world (electricity), exact (spend), cabin | band_average (air). */
    matchLevel: text('match_level').notNull(),
    distanceKm: doublePrecision('distance_km'),
    /** great_circle | reported */
    distanceMethod: text('distance_method'),
    uplift: doublePrecision('uplift'),
    rfMultiplier: doublePrecision('rf_multiplier'),
    /** Spend: units of the factor's currency per unit of the activity's (the bundled 2021 rates). */
    fxRate: doublePrecision('fx_rate'),
    /** Spend: × this turns money of the activity's month into money of the factor's base year (US CPI-U; 1 when not deflated). */
    priceRatio: doublePrecision('price_ratio'),
    /** Spend: the CPI-U month the ratio used (the period, clamped into the table); null when not deflated. */
    priceIndexMonth: text('price_index_month'),
    /** The job (calculation run) that wrote the row. */
    runId: text('run_id').notNull(),
    calculatedAt: ts('calculated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('emission_results_activity_set_uq').on(t.activityId, t.factorSet),
    index('emission_results_tenant_org_idx').on(t.tenantId, t.orgId, t.factorSet),
    index('emission_results_run_idx').on(t.runId, t.activityId),
  ],
);

/**
 * Stored `patients` scenarios of a tenant (POST /v1/scenarios). A scenario has versions 1, 2, …:
 * PUT adds one and never changes an older one. DELETE removes the scenario and its versions; jobs
 * that used one keep their resolved copy in their spec.
 */
export const scenarios = pgTable(
  'scenarios',
  {
    id: text('id').primaryKey(), // scn-…
    tenantId: text('tenant_id').notNull(),
    name: text('name').notNull(),
    latestVersion: integer('latest_version').notNull(),
    idempotencyKey: text('idempotency_key'),
    requestHash: text('request_hash'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('scenarios_tenant_created_idx').on(t.tenantId, t.createdAt.desc(), t.id.desc()), uniqueIndex('scenarios_tenant_idempotency_key_uq').on(t.tenantId, t.idempotencyKey)],
);

/** One version of a scenario: the body as sent and the resolved scenario (defaults filled) the generator takes. */
export const scenarioVersions = pgTable(
  'scenario_versions',
  {
    scenarioId: text('scenario_id')
      .notNull()
      .references(() => scenarios.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    body: jsonb('body').notNull(),
    resolved: jsonb('resolved').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.scenarioId, t.version] })],
);

export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type JobRow = typeof jobs.$inferSelect;
export type NewJobRow = typeof jobs.$inferInsert;
export type ModelRow = typeof models.$inferSelect;
export type NewModelRow = typeof models.$inferInsert;
export type ScenarioRow = typeof scenarios.$inferSelect;
