/** Ledger shards, on a shard thread: one table's rows, written by the engine's table writer. */
import type { ShardRunner } from '../../../../src/engine/kind.js';
import { writeTableShard } from '../../../../src/engine/table-shard.js';
import type { LedgerSpec } from './index.js';
import { ledgerTables } from './tables.js';

export const runShard: ShardRunner<{ accounts: number }> = (run) => {
  const tables = ledgerTables(run.input.spec as LedgerSpec, run.payload.accounts);
  return writeTableShard(run.shard.table === 'accounts' ? tables.accounts : tables.entries, run);
};
