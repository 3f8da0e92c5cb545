/**
 * The whole database schema, as code. Migrations in ./migrations are GENERATED from this
 * file by `npm run db:generate` (drizzle-kit); never edit them by hand.
 *
 * Timestamps are timestamptz(3): millisecond precision, so a JS Date round-trips exactly
 * and (created_at, id) cursors compare correctly.
 */
import { sql } from 'drizzle-orm';
import { bigint, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

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

export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type JobRow = typeof jobs.$inferSelect;
export type NewJobRow = typeof jobs.$inferInsert;
export type ModelRow = typeof models.$inferSelect;
export type NewModelRow = typeof models.$inferInsert;
