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

export function createDb(url: string, { max = 10, applicationName = 'shardflow' }: CreateDbOptions = {}): Db {
  const sql = postgres(url, {
    max,
    idle_timeout: 30,
    connect_timeout: 10,
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
