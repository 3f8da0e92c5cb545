/**
 * The engine's Postgres load (`output.postgres`), generic for every kind whose plan has tables
 * (docs/ENGINE.md, "Postgres load"):
 *
 *   setup (planJob, every call; idempotent)  bookkeeping schema `shardflow_load` (claims, parts),
 *       claim each table for the job, drop it first under `ifExists: "replace"` when another job
 *       or nobody owns it, create the user schema and the tables without keys;
 *   parts (shards, src/engine/table-shard.ts)  each part's rows by COPY in one transaction with
 *       its marker row in `shardflow_load.parts`: a retried part is skipped, never doubled;
 *   finish (finalizeJob)  per table: row count against the plan, then primary keys and unique
 *       constraints, foreign keys, indexes (each skipped when it exists by name), ANALYZE, and
 *       the claims marked `complete`;
 *   abandon (a failed or cancelled job)  claims `incomplete` and a comment on each table; the
 *       loaded parts stay, so `resume` continues where the load stopped.
 */
import { ApplicationFailure } from '@temporalio/common';
import type postgres from 'postgres';
import { LOAD_SCHEMA, quoteIdent } from '../destinations/index.js';
import { createSchemaSql, createTableSql, keySteps, qualified } from './load-ddl.js';
import type { JobInput, LoadSummary, PostgresOutput, TablePlan } from './types.js';

export type { LoadSummary } from './types.js';

/** Schemas a load may never write to (besides the one the service's own tables live in). */
export function reservedSchemaReason(schema: string, serviceSchemas: readonly string[] = []): string | undefined {
  if (schema === 'public' || schema === 'information_schema' || schema === 'drizzle') return `${schema} is reserved`;
  if (schema.startsWith('pg_')) return 'schemas starting with pg_ are reserved by Postgres';
  if (schema.startsWith('shardflow')) return 'schemas starting with shardflow are reserved for shardflow itself';
  if (serviceSchemas.includes(schema)) return `${schema} holds shardflow's own tables`;
  return undefined;
}

/** The tables among `names` that exist in `schema` of the target (what the API refuses without `replace`). */
export async function existingTables(sql: postgres.Sql, schema: string, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const rows = await sql<{ table_name: string }[]>`
    select table_name from information_schema.tables where table_schema = ${schema} and table_name = any(${names as string[]}) order by table_name`;
  return rows.map((r) => r.table_name);
}

/** The claims on `names` in `schema` of the target (none when the bookkeeping schema is not there yet). */
export async function loadClaims(sql: postgres.Sql, schema: string, names: readonly string[]): Promise<Array<{ table: string; jobId: string; status: string }>> {
  if (names.length === 0) return [];
  const [{ present }] = await sql<{ present: boolean }[]>`select to_regclass(${`${quoteIdent(LOAD_SCHEMA)}.claims`}) is not null as present`;
  if (!present) return [];
  const rows = await sql<{ table_name: string; job_id: string; status: string }[]>`
    select table_name, job_id, status from ${sql(LOAD_SCHEMA)}.claims where schema_name = ${schema} and table_name = any(${names as string[]}) order by table_name`;
  return rows.map((r) => ({ table: r.table_name, jobId: r.job_id, status: r.status }));
}

/** Creates the bookkeeping schema and tables in the target (serialised: CREATE … IF NOT EXISTS races). */
async function ensureBookkeeping(tx: postgres.TransactionSql): Promise<void> {
  await tx`select pg_advisory_xact_lock(hashtext(${LOAD_SCHEMA}))`;
  const s = quoteIdent(LOAD_SCHEMA);
  await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS ${s}`);
  await tx.unsafe(`CREATE TABLE IF NOT EXISTS ${s}.claims (
    schema_name text NOT NULL,
    table_name text NOT NULL,
    job_id text NOT NULL,
    status text NOT NULL CHECK (status IN ('loading', 'complete', 'incomplete')),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (schema_name, table_name))`);
  await tx.unsafe(`CREATE TABLE IF NOT EXISTS ${s}.parts (
    job_id text NOT NULL,
    table_name text NOT NULL,
    part integer NOT NULL,
    rows bigint NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, table_name, part))`);
}

const refuse = (message: string) => ApplicationFailure.nonRetryable(message, 'PostgresLoadRefused');

/**
 * Setup at planJob, on every call: a table claimed by this job is kept as it is (a resumed job
 * continues its load), otherwise it must be free — neither claimed by another job nor existing —
 * unless `ifExists` is `replace`, which drops it (and forgets the previous job's markers for it).
 * A table another job is still loading is refused even with `replace`.
 */
export async function setupLoad(sql: postgres.Sql, input: JobInput, tables: readonly TablePlan[]): Promise<void> {
  const out = input.output.postgres!;
  await sql.begin(async (tx) => {
    await ensureBookkeeping(tx);
    await tx`select pg_advisory_xact_lock(hashtext(${`${LOAD_SCHEMA}:${out.schema}`}))`;
    await tx.unsafe(createSchemaSql(out.schema));
    const mine: TablePlan[] = [];
    const taking: Array<{ t: TablePlan; claim?: { job_id: string }; exists: boolean }> = [];
    for (const t of tables) {
      const [claim] = await tx<{ job_id: string; status: string }[]>`
        select job_id, status from ${tx(LOAD_SCHEMA)}.claims where schema_name = ${out.schema} and table_name = ${t.name} for update`;
      if (claim?.job_id === input.jobId) {
        mine.push(t);
        continue;
      }
      if (claim?.status === 'loading') throw refuse(`${out.schema}.${t.name} is being loaded by job ${claim.job_id} (cancel or resume that job first)`);
      const target = qualified(out.schema, t.name);
      const [row] = await tx<{ exists: boolean }[]>`select to_regclass(${target}) is not null as exists`;
      if ((claim || row!.exists) && out.ifExists !== 'replace') {
        throw refuse(`${out.schema}.${t.name} already exists${claim ? ` (loaded by job ${claim.job_id})` : ''}; use output.postgres.ifExists "replace" or another schema`);
      }
      taking.push({ t, ...(claim ? { claim } : {}), exists: row!.exists });
    }
    // replace: the old tables go together and without CASCADE, so a view, a foreign key or anything
    // else of the user's that depends on them refuses the job instead of being dropped with them.
    const drop = taking.filter((x) => x.exists).map((x) => qualified(out.schema, x.t.name));
    if (drop.length) {
      try {
        await tx.unsafe(`DROP TABLE ${drop.join(', ')}`);
      } catch (err) {
        const e = err as { code?: string; message?: string; detail?: string };
        if (e.code === '2BP01') throw refuse(`cannot replace ${drop.join(', ')}: ${e.message}${e.detail ? ` (${e.detail.replace(/\n/g, '; ')})` : ''}; drop or change those objects first`);
        throw err;
      }
    }
    for (const t of mine) {
      await tx`update ${tx(LOAD_SCHEMA)}.claims set status = 'loading', updated_at = now() where schema_name = ${out.schema} and table_name = ${t.name}`;
      await tx.unsafe(createTableSql(out.schema, t, { ifNotExists: true }));
      await tx.unsafe(`COMMENT ON TABLE ${qualified(out.schema, t.name)} IS ${literal(`shardflow job ${input.jobId} loading`)}`);
    }
    for (const { t, claim } of taking) {
      if (claim) await tx`delete from ${tx(LOAD_SCHEMA)}.parts where job_id = ${claim.job_id} and table_name = ${t.name}`;
      await tx`
        insert into ${tx(LOAD_SCHEMA)}.claims (schema_name, table_name, job_id, status) values (${out.schema}, ${t.name}, ${input.jobId}, 'loading')
        on conflict (schema_name, table_name) do update set job_id = excluded.job_id, status = 'loading', updated_at = now()`;
      await tx.unsafe(createTableSql(out.schema, t));
      await tx.unsafe(`COMMENT ON TABLE ${qualified(out.schema, t.name)} IS ${literal(`shardflow job ${input.jobId} loading`)}`);
    }
  });
}

/** A SQL string literal (for COMMENT, which takes no parameters). */
function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/**
 * Finish, after every shard: checks each table's rows against the plan (a mismatch fails the job:
 * nothing is added), then runs the key steps (skipping those whose constraint or index exists by
 * name), ANALYZE, and marks the claims complete. `beat` is called around every statement.
 */
export async function finishLoad(sql: postgres.Sql, input: JobInput, tables: readonly TablePlan[], beat: () => void): Promise<LoadSummary> {
  const out: PostgresOutput = input.output.postgres!;
  const counted: LoadSummary['tables'] = [];
  for (const t of tables) {
    beat();
    const [claim] = await sql<{ job_id: string }[]>`select job_id from ${sql(LOAD_SCHEMA)}.claims where schema_name = ${out.schema} and table_name = ${t.name}`;
    if (claim?.job_id !== input.jobId) throw refuse(`${out.schema}.${t.name} is no longer claimed by job ${input.jobId}${claim ? ` (job ${claim.job_id} took it over)` : ''}`);
    const [row] = await sql<{ n: string }[]>`select count(*) as n from ${sql(out.schema)}.${sql(t.name)}`;
    const n = Number(row!.n);
    if (n !== t.rows) throw ApplicationFailure.nonRetryable(`Postgres load: ${out.schema}.${t.name} has ${n} rows, the plan has ${t.rows}`, 'PostgresLoadMismatch');
    counted.push({ name: t.name, rows: n });
  }
  const steps = keySteps(out.schema, tables);
  for (const step of steps) {
    beat();
    const [row] =
      step.kind === 'constraint'
        ? await sql<{ ok: boolean }[]>`
            select exists (select 1 from pg_constraint c join pg_class r on r.oid = c.conrelid join pg_namespace n on n.oid = r.relnamespace
              where n.nspname = ${out.schema} and r.relname = ${step.table} and c.conname = ${step.name}) as ok`
        : await sql<{ ok: boolean }[]>`select to_regclass(${qualified(out.schema, step.name)}) is not null as ok`;
    if (!row!.ok) await sql.unsafe(step.sql);
  }
  for (const t of tables) {
    beat();
    await sql.unsafe(`ANALYZE ${qualified(out.schema, t.name)}`);
    await sql.unsafe(`COMMENT ON TABLE ${qualified(out.schema, t.name)} IS ${literal(`shardflow job ${input.jobId} complete`)}`);
  }
  await sql`update ${sql(LOAD_SCHEMA)}.claims set status = 'complete', updated_at = now() where job_id = ${input.jobId} and schema_name = ${out.schema}`;
  return { ...(out.target ? { target: out.target } : {}), schema: out.schema, tables: counted, constraints: steps.length };
}

/**
 * A failed or cancelled job: its claims become `incomplete` and its tables say so in their comment.
 * The rows loaded so far stay (with their markers), so `resume` reloads nothing it already has.
 * (`DELETE /v1/jobs/{id}` then drops them: `releaseLoad`.)
 */
export async function abandonLoad(sql: postgres.Sql, input: JobInput): Promise<void> {
  const out = input.output.postgres!;
  const [ready] = await sql<{ ok: boolean }[]>`select to_regclass(${`${LOAD_SCHEMA}.claims`}) is not null as ok`;
  if (!ready!.ok) return; // the job failed before its load was set up
  const claimed = await sql<{ table_name: string }[]>`
    update ${sql(LOAD_SCHEMA)}.claims set status = 'incomplete', updated_at = now()
    where job_id = ${input.jobId} and schema_name = ${out.schema} and status <> 'complete' returning table_name`;
  for (const { table_name } of claimed) {
    const [t] = await sql<{ ok: boolean }[]>`select to_regclass(${qualified(out.schema, table_name)}) is not null as ok`;
    if (t!.ok) await sql.unsafe(`COMMENT ON TABLE ${qualified(out.schema, table_name)} IS ${literal(`shardflow job ${input.jobId} incomplete`)}`);
  }
}

/**
 * A deleted job (`DELETE /v1/jobs/{id}`, after its workflow has closed): the tables whose load it
 * did not complete are dropped (half-written, and nothing can resume them now), its claims and part
 * markers are deleted. Tables it loaded completely stay: they are the user's data, now unclaimed
 * (a later job may replace them with `ifExists: "replace"`). Returns the tables dropped and kept.
 */
export async function releaseLoad(sql: postgres.Sql, jobId: string): Promise<{ dropped: string[]; kept: string[] }> {
  const [ready] = await sql<{ ok: boolean }[]>`select to_regclass(${`${LOAD_SCHEMA}.claims`}) is not null as ok`;
  if (!ready!.ok) return { dropped: [], kept: [] };
  return sql.begin(async (tx) => {
    const claims = await tx<{ schema_name: string; table_name: string; status: string }[]>`
      select schema_name, table_name, status from ${tx(LOAD_SCHEMA)}.claims where job_id = ${jobId} order by schema_name, table_name for update`;
    const drop = claims.filter((c) => c.status !== 'complete').map((c) => qualified(c.schema_name, c.table_name));
    // One statement: foreign keys between the job's own tables do not block it (no CASCADE: a
    // foreign table that references one of them makes this fail rather than lose its constraint).
    if (drop.length) await tx.unsafe(`DROP TABLE IF EXISTS ${drop.join(', ')}`);
    await tx`delete from ${tx(LOAD_SCHEMA)}.claims where job_id = ${jobId}`;
    await tx`delete from ${tx(LOAD_SCHEMA)}.parts where job_id = ${jobId}`;
    return {
      dropped: drop,
      kept: claims.filter((c) => c.status === 'complete').map((c) => qualified(c.schema_name, c.table_name)),
    };
  });
}
