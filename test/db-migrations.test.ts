/**
 * The migrations on a database that predates them: model names become unique per tenant
 * (models_tenant_name_uq), and a tenant that already had several models of one name keeps the
 * name on its oldest; the others are renamed to their own ids. Runs on a database of its own,
 * created and dropped here.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrationsFolder, runMigrations } from '../src/db/migrate.js';
import { stackMissing, testEnv } from './support/stack.js';
import { tempDataDir } from './support/jobs.js';

const dbName = `migrations_${randomBytes(4).toString('hex')}`;
let admin: postgres.Sql;
let url: string;

before(async () => {
  if (stackMissing) return;
  admin = postgres(testEnv().databaseUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${dbName}`);
  const u = new URL(testEnv().databaseUrl);
  u.pathname = `/${dbName}`;
  url = u.toString();
});

after(async () => {
  if (!admin) return;
  await admin.unsafe(`drop database if exists ${dbName} with (force)`);
  await admin.end({ timeout: 5 });
});

/** A copy of the migrations folder with only the first `n` migrations in its journal. */
async function firstMigrations(n: number): Promise<string> {
  const dir = await tempDataDir('shardflow-migrations-');
  await fs.cp(migrationsFolder, dir, { recursive: true });
  const journalFile = path.join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(await fs.readFile(journalFile, 'utf8'));
  journal.entries = journal.entries.slice(0, n);
  await fs.writeFile(journalFile, JSON.stringify(journal));
  return dir;
}

test('upgrading: duplicate model names per tenant keep the oldest, the others take their ids; then names are unique', { skip: stackMissing }, async () => {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await migrate(drizzle(sql), { migrationsFolder: await firstMigrations(1) });
    const rows = [
      { id: 'model-a1', tenant: 't1', name: 'study', at: '2025-01-01T00:00:00.000Z' },
      { id: 'model-a2', tenant: 't1', name: 'study', at: '2025-01-02T00:00:00.000Z' },
      { id: 'model-a3', tenant: 't1', name: 'study', at: '2025-01-03T00:00:00.000Z' },
      { id: 'model-b1', tenant: 't2', name: 'study', at: '2025-01-02T00:00:00.000Z' },
      { id: 'model-c1', tenant: 't1', name: 'other', at: '2025-01-01T00:00:00.000Z' },
    ];
    for (const r of rows) {
      await sql`insert into models (id, tenant_id, name, params, created_at) values (${r.id}, ${r.tenant}, ${r.name}, '{}'::jsonb, ${r.at}::timestamptz)`;
    }

    await runMigrations(url);
    const after = await sql<{ id: string; name: string }[]>`select id, name from models order by id`;
    assert.deepEqual(after.map((r) => [r.id, r.name]), [
      ['model-a1', 'study'],
      ['model-a2', 'model-a2'],
      ['model-a3', 'model-a3'],
      ['model-b1', 'study'],
      ['model-c1', 'other'],
    ]);
    await assert.rejects(
      sql`insert into models (id, tenant_id, name, params) values ('model-a4', 't1', 'study', '{}'::jsonb)`,
      (err: { code?: string; constraint_name?: string }) => err.code === '23505' && err.constraint_name === 'models_tenant_name_uq',
    );
    // Another tenant may use the name; so may built-in (tenant-less) models, any number of them.
    await sql`insert into models (id, tenant_id, name, params) values ('model-b2', 't3', 'study', '{}'::jsonb)`;
    await sql`insert into models (id, tenant_id, name, params) values ('builtin-1', null, 'study', '{}'::jsonb), ('builtin-2', null, 'study', '{}'::jsonb)`;
    // Idempotent: running again changes nothing.
    await runMigrations(url);
    assert.equal((await sql`select count(*)::int as n from models`)[0]!.n, 8);
  } finally {
    await sql.end({ timeout: 5 });
  }
});
