/**
 * A test-only kind, to show that a kind is one folder and one line of registration: `ledger`
 * writes two tables, `accounts` (one row per row of a source table in Postgres, counted by the
 * planner) and `entries` (entriesPerAccount rows per account). Rows are pure functions of
 * (seed, table, row index).
 */
import { z } from 'zod';
import { siblingModule, SpecError, type Kind, type KindContext } from '../../../../src/engine/kind.js';
import { ACCOUNTS, ENTRIES, ledgerTables } from './tables.js';

export const LedgerSpecSchema = z
  .object({
    seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    /** A table in the service's database whose rows become accounts. */
    source: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/),
    entriesPerAccount: z.number().int().min(1).max(10),
  })
  .strict();

export type LedgerSpec = z.infer<typeof LedgerSpecSchema>;

async function countSource(spec: LedgerSpec, ctx: KindContext): Promise<number> {
  if (!ctx.sql) throw new Error('ledger needs the database');
  const [exists] = await ctx.sql<{ ok: boolean }[]>`select to_regclass(${spec.source}) is not null as ok`;
  if (!exists?.ok) throw new SpecError(422, [{ path: 'spec.source', message: `no table ${spec.source}` }]);
  const [row] = await ctx.sql<{ n: string }[]>`select count(*) as n from ${ctx.sql(spec.source)}`;
  return Number(row!.n);
}

export const ledger: Kind = {
  name: 'ledger',
  unit: 'rows',
  spec: LedgerSpecSchema,
  formats: ['parquet', 'csv', 'ndjson'],
  postgresLoad: true,
  sizePath: 'spec.source',
  example: { seed: 1, source: 'ledger_source', entriesPerAccount: 3 },
  async normalize(spec, ctx) {
    const s = spec as LedgerSpec;
    const accounts = await countSource(s, ctx);
    return { spec: s, units: accounts * (1 + s.entriesPerAccount) };
  },
  async plan(input, ctx) {
    const spec = input.spec as LedgerSpec;
    const accounts = await countSource(spec, ctx);
    const t = ledgerTables(spec, accounts);
    return {
      tables: [
        { name: ACCOUNTS, rows: t.accounts.rows, columns: t.accounts.schema, primaryKey: ['account_id'], unique: [['name']] },
        {
          name: ENTRIES,
          rows: t.entries.rows,
          columns: t.entries.schema,
          primaryKey: ['entry_id'],
          foreignKeys: [{ columns: ['account_id'], table: ACCOUNTS, refColumns: ['account_id'] }],
        },
      ],
      segments: [
        { table: ACCOUNTS, start: 0, end: t.accounts.rows, units: t.accounts.rows },
        { table: ENTRIES, start: 0, end: t.entries.rows, units: t.entries.rows },
      ],
    };
  },
  // The account count fixed by the plan, not a new count: rows added to the source since do not move the grid.
  prepare: async (_input, _ctx, plan) => ({ accounts: plan.tables.find((t) => t.name === ACCOUNTS)!.rows }),
  shardModule: siblingModule(import.meta.url, './shard'),
};
