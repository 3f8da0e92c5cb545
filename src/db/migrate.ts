/**
 * Applies the drizzle-kit generated migrations in ./migrations. Idempotent, and safe to call
 * from several processes at once: the whole run holds a Postgres advisory lock on one
 * dedicated connection.
 */
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';

export const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

/** Arbitrary but fixed: "shardflow" in ASCII, folded into a signed 64-bit key. */
const LOCK_KEY = 0x7368617264666c6fn;

export async function runMigrations(databaseUrl: string): Promise<void> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {}, connection: { application_name: 'shardflow-migrate' } });
  try {
    await sql`select pg_advisory_lock(${LOCK_KEY.toString()}::bigint)`;
    try {
      await migrate(drizzle(sql), { migrationsFolder });
    } finally {
      await sql`select pg_advisory_unlock(${LOCK_KEY.toString()}::bigint)`;
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}
