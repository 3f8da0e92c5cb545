/** One postgres.js pool + drizzle on top. Everything that talks to Postgres goes through this. */
import postgres from 'postgres';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import * as schema from './schema.js';

export type Schema = typeof schema;
export type Database = PostgresJsDatabase<Schema>;

export interface Db {
  /** The raw postgres.js client, for what drizzle does not cover (COPY, LISTEN, advisory locks). */
  sql: postgres.Sql;
  db: Database;
  /** Pool size this client was created with. */
  max: number;
  close(): Promise<void>;
}

export interface CreateDbOptions {
  /** Pool size (DB_POOL_MAX). Default 10. */
  max?: number;
  /** Shown in pg_stat_activity. Default `shardflow`. */
  applicationName?: string;
}

/** Seconds before the next reconnect after `retries` failed ones: 0.05, 0.1, 0.2, 0.4, then 0.5. */
export function reconnectBackoffSeconds(retries: number): number {
  return Math.min(0.05 * 2 ** retries, 0.5);
}

export function createDb(url: string, { max = 10, applicationName = 'shardflow' }: CreateDbOptions = {}): Db {
  const sql = postgres(url, {
    max,
    idle_timeout: 30,
    connect_timeout: 10,
    // postgres.js waits before reconnecting, up to 20 s after a few refused connects: a query
    // then waits that long to fail while the database is down, and as long to succeed once it is
    // back. Capped at half a second (connecting is cheap), an outage is a 503 at once and over at once.
    backoff: reconnectBackoffSeconds,
    onnotice: () => {},
    connection: { application_name: applicationName },
  });
  const db = drizzle(sql, { schema });
  let closed: Promise<void> | undefined;
  return {
    sql,
    db,
    max,
    close: () => (closed ??= sql.end({ timeout: 5 })),
  };
}
