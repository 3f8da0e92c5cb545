/**
 * The DDL of a job's tables, written once and used twice: by the Postgres load (src/engine/load.ts:
 * the tables created at the first plan, the keys and indexes added after the data) and by the job's
 * `schema.sql` (the same statements, in the order the load runs them). Pure: text only.
 *
 * Column types: string → text, bool → boolean, int32 → integer, int64 → bigint, float64 → double
 * precision, date → date, timestamp → timestamptz, uuid → uuid. A column that is not `nullable`
 * is NOT NULL from the start (COPY checks it row by row, at no measurable cost). Keys and indexes
 * have deterministic names, so each step can be skipped when its object exists:
 * `<table>_pkey`, `<table>_<cols>_key`, `<table>_<cols>_fkey`, `<table>_<cols>_idx` (names longer
 * than Postgres' 63 bytes are cut and end in a short hash of the full name).
 */
import { createHash } from 'node:crypto';
import type { ColumnType } from '../data/batch.js';
import { quoteIdent } from '../destinations/index.js';
import type { TablePlan } from './types.js';

export const PG_TYPES: Record<ColumnType, string> = {
  string: 'text',
  bool: 'boolean',
  int32: 'integer',
  int64: 'bigint',
  float64: 'double precision',
  date: 'date',
  timestamp: 'timestamptz',
  uuid: 'uuid',
};

const MAX_IDENT_BYTES = 63;

/** A deterministic identifier of at most 63 bytes. */
export function pgName(name: string): string {
  if (Buffer.byteLength(name) <= MAX_IDENT_BYTES) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  let head = name;
  while (Buffer.byteLength(head) > MAX_IDENT_BYTES - 9) head = head.slice(0, -1);
  return `${head}_${hash}`;
}

/** `"schema"."table"`, or `"table"` without a schema. */
export function qualified(schema: string | undefined, name: string): string {
  return schema ? `${quoteIdent(schema)}.${quoteIdent(name)}` : quoteIdent(name);
}

const cols = (c: readonly string[]) => c.map(quoteIdent).join(', ');

export function createSchemaSql(schema: string): string {
  return `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)};`;
}

export function createTableSql(schema: string | undefined, t: TablePlan, opts: { ifNotExists?: boolean } = {}): string {
  const lines = t.columns.map((c) => `  ${quoteIdent(c.name)} ${PG_TYPES[c.type]}${c.nullable ? '' : ' NOT NULL'}`);
  return `CREATE TABLE ${opts.ifNotExists ? 'IF NOT EXISTS ' : ''}${qualified(schema, t.name)} (\n${lines.join(',\n')}\n);`;
}

/** One step after the data: a constraint (checked in pg_constraint) or an index (in pg_class). */
export interface KeyStep {
  kind: 'constraint' | 'index';
  table: string;
  name: string;
  sql: string;
}

const sameCols = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Every key and index of the tables, in an order that works: primary keys and unique constraints
 * of every table first (a foreign key needs the referenced key), then foreign keys, then indexes
 * (`indexes`, and the columns of each foreign key unless a key or index already covers exactly
 * those columns). Validates that every named column and referenced table exists.
 */
export function keySteps(schema: string | undefined, tables: readonly TablePlan[]): KeyStep[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const check = (t: TablePlan, c: readonly string[], what: string) => {
    if (c.length === 0) throw new Error(`table ${t.name}: ${what} has no columns`);
    for (const name of c) if (!t.columns.some((x) => x.name === name)) throw new Error(`table ${t.name}: ${what} names no column ${name}`);
  };
  const keys: KeyStep[] = [];
  const fks: KeyStep[] = [];
  const idx: KeyStep[] = [];
  for (const t of tables) {
    const on = qualified(schema, t.name);
    const covered: string[][] = [];
    if (t.primaryKey) {
      check(t, t.primaryKey, 'primaryKey');
      const name = pgName(`${t.name}_pkey`);
      keys.push({ kind: 'constraint', table: t.name, name, sql: `ALTER TABLE ${on} ADD CONSTRAINT ${quoteIdent(name)} PRIMARY KEY (${cols(t.primaryKey)});` });
      covered.push(t.primaryKey);
    }
    for (const u of t.unique ?? []) {
      check(t, u, 'unique');
      const name = pgName(`${t.name}_${u.join('_')}_key`);
      keys.push({ kind: 'constraint', table: t.name, name, sql: `ALTER TABLE ${on} ADD CONSTRAINT ${quoteIdent(name)} UNIQUE (${cols(u)});` });
      covered.push(u);
    }
    const indexed = [...(t.indexes ?? [])];
    for (const fk of t.foreignKeys ?? []) {
      check(t, fk.columns, 'foreignKey');
      const ref = byName.get(fk.table);
      if (!ref) throw new Error(`table ${t.name}: foreign key references ${fk.table}, which the job does not write`);
      check(ref, fk.refColumns, `foreign key from ${t.name}`);
      if (fk.refColumns.length !== fk.columns.length) throw new Error(`table ${t.name}: foreign key to ${fk.table} has ${fk.columns.length} columns, references ${fk.refColumns.length}`);
      const name = pgName(`${t.name}_${fk.columns.join('_')}_fkey`);
      fks.push({
        kind: 'constraint',
        table: t.name,
        name,
        sql: `ALTER TABLE ${on} ADD CONSTRAINT ${quoteIdent(name)} FOREIGN KEY (${cols(fk.columns)}) REFERENCES ${qualified(schema, fk.table)} (${cols(fk.refColumns)});`,
      });
      if (![...covered, ...indexed].some((c) => sameCols(c, fk.columns))) indexed.push(fk.columns);
    }
    for (const ix of indexed) {
      check(t, ix, 'index');
      if (covered.some((c) => sameCols(c, ix))) continue;
      const name = pgName(`${t.name}_${ix.join('_')}_idx`);
      idx.push({ kind: 'index', table: t.name, name, sql: `CREATE INDEX ${quoteIdent(name)} ON ${on} (${cols(ix)});` });
    }
  }
  return [...keys, ...fks, ...idx];
}

/** True when some table declares a primary key, a unique constraint or a foreign key. */
export const hasKeys = (tables: readonly TablePlan[]) => tables.some((t) => t.primaryKey?.length || t.unique?.length || t.foreignKeys?.length);

/**
 * The job's `schema.sql`: the schema (when loading into one), the tables, then the keys and
 * indexes, in the order the load runs them. Without a schema the names are unqualified.
 */
export function schemaSql(schema: string | undefined, tables: readonly TablePlan[], header: string): string {
  const parts = [header.split('\n').map((l) => `-- ${l}`.trimEnd()).join('\n')];
  if (schema) parts.push(createSchemaSql(schema));
  for (const t of tables) parts.push(createTableSql(schema, t));
  const steps = keySteps(schema, tables);
  if (steps.length) parts.push(steps.map((s) => s.sql).join('\n'));
  if (schema) parts.push(tables.map((t) => `ANALYZE ${qualified(schema, t.name)};`).join('\n'));
  return parts.join('\n\n') + '\n';
}
