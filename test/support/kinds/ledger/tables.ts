/** The ledger kind's two tables, as pure generators. */
import type { Batch, ColumnSchema, TableGenerator } from '../../../../src/data/batch.js';
import { keyState, uniform53 } from '../../../../src/data/rng.js';

export const ACCOUNTS = 'accounts';
export const ENTRIES = 'entries';

const ACCOUNT_SCHEMA: ColumnSchema[] = [
  { name: 'account_id', type: 'int32' },
  { name: 'name', type: 'string' },
  { name: 'balance', type: 'float64', decimals: 2 },
];
const ENTRY_SCHEMA: ColumnSchema[] = [
  { name: 'entry_id', type: 'int32' },
  { name: 'account_id', type: 'int32' },
  { name: 'amount', type: 'float64', decimals: 2 },
];

function table(name: string, schema: ColumnSchema[], rows: number, fill: (r: number, i: number, cols: Batch['columns']) => void): TableGenerator {
  return {
    table: name,
    schema,
    rows,
    batch(start, end) {
      const n = end - start;
      const cols: Batch['columns'] = schema.map((c) =>
        c.type === 'int32' ? new Int32Array(n) : c.type === 'float64' ? new Float64Array(n) : { kind: 'plain' as const, values: new Array<string>(n) },
      );
      for (let i = 0; i < n; i++) fill(start + i, i, cols);
      return { start, length: n, columns: cols };
    },
  };
}

export function ledgerTables(spec: { seed: number; entriesPerAccount: number }, accounts: number) {
  const kBalance = keyState(spec.seed, 101);
  const kAmount = keyState(spec.seed, 102);
  const cents = (x: number) => Math.round(x * 100) / 100;
  return {
    accounts: table(ACCOUNTS, ACCOUNT_SCHEMA, accounts, (r, i, [id, name, balance]) => {
      (id as Int32Array)[i] = r + 1;
      (name as { values: string[] }).values[i] = `acct-${r + 1}`;
      (balance as Float64Array)[i] = cents(uniform53(kBalance, r, 0) * 10_000);
    }),
    entries: table(ENTRIES, ENTRY_SCHEMA, accounts * spec.entriesPerAccount, (r, i, [id, account, amount]) => {
      (id as Int32Array)[i] = r + 1;
      (account as Int32Array)[i] = Math.floor(r / spec.entriesPerAccount) + 1;
      (amount as Float64Array)[i] = cents((uniform53(kAmount, r, 0) - 0.5) * 500);
    }),
  };
}
