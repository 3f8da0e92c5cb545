/** Cleanup for Postgres load tests: the engine's bookkeeping schema goes once no test's claims or markers are left in it. */
import type postgres from 'postgres';

export async function dropLoadBookkeepingIfEmpty(sql: postgres.Sql): Promise<void> {
  const [ready] = await sql<{ ok: boolean }[]>`select to_regclass('shardflow_load.claims') is not null and to_regclass('shardflow_load.parts') is not null as ok`;
  if (!ready?.ok) return;
  const [{ n }] = await sql<{ n: number }[]>`select (select count(*) from shardflow_load.claims) + (select count(*) from shardflow_load.parts) as n`;
  if (Number(n) === 0) await sql`drop schema shardflow_load cascade`;
}
