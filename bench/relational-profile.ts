/**
 * Where a relational shard's CPU goes, per table of the relational bench's spec (bench/relational.ts
 * benchSpec), on this thread, without Temporal: cumulative stages as in bench/shard-profile.ts,
 * CPU seconds of this process (all threads: JS, libuv's pool doing zstd, GC helpers), best of --repeat:
 *
 *   gen      createRelationalTables(spec).tables[t].batch() for every batch
 *   +digest  … and TableDigest.add
 *   +encode  … and the Parquet writer, uncompressed, into a sink that drops the bytes
 *   +zstd    … zstd, same sink
 *   +csv     (instead of +encode/+zstd: the CSV writer, uncompressed, same sink — what the load's COPY path costs to encode)
 *
 * and, with --columns, the generation cost of each column alone: the same table with only its id,
 * its perParent ref (when it has one) and that column, minus that baseline.
 *
 *     npx tsx bench/relational-profile.ts [--rows 1000000] [--repeat 3] [--columns] [--tables orders,…]
 *     npx tsx bench/relational-profile.ts --ab delta|level [--rows 500000] [--repeat 6]
 *
 * --ab: encode + zstd only (batches generated first, not timed), A and B alternating, best of
 * --repeat each, ns/row and bytes: `delta` = DELTA_BINARY_PACKED on / off (src/encoders/delta.ts),
 * `level` = zstd level 1 / 3.
 *
 * The generator is the one shard threads run; the rows are the bench spec's first --rows rows of
 * each table (all of a table when it has fewer).
 */
import { threadCpu } from './thread-cpu.js';
import os from 'node:os';
import { TableDigest } from '../src/data/digest.js';
import type { TableGenerator } from '../src/data/batch.js';
import { ParquetWriter } from '../src/encoders/parquet.js';
import { deltaOptions } from '../src/encoders/delta.js';
import { CsvWriter } from '../src/encoders/text.js';
import { createRelationalTables, DEFAULT_LIMITS, normalizeRelational, type RelationalSpecBody } from '../src/kinds/relational/lib.js';
import { RelationalSpecSchema } from '../src/kinds/relational/schema.js';
import { benchSpec } from './relational-spec.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : dflt;
};
const ROWS = Number(opt('rows', '1000000'));
const REPEAT = Number(opt('repeat', '3'));
const COLUMNS = argv.includes('--columns');
const AB = opt('ab', '');
const BATCH_ROWS = 65_536; // as in src/engine/table-shard.ts

function cpu(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
}

const resolve = (body: RelationalSpecBody) => normalizeRelational(RelationalSpecSchema.parse(body) as RelationalSpecBody, DEFAULT_LIMITS).resolved;
// The spec at 10M (so the tables' sizes and layouts are the bench's), of which the first ROWS rows per table.
const body = benchSpec(10_000_000);
const gens = createRelationalTables(resolve(body)).tables;
const only = opt('tables', gens.map((g) => g.table).join(',')).split(',');

const sink = { write: async (_b: Uint8Array) => undefined };
async function pass(g: TableGenerator, n: number, stage: string): Promise<void> {
  const d = stage === 'gen' ? undefined : new TableDigest();
  const w =
    stage === '+encode' || stage === '+zstd'
      ? new ParquetWriter(sink, g.schema, { compression: stage === '+zstd' ? 'zstd' : 'none' })
      : stage === '+csv'
        ? new CsvWriter(g.schema, sink)
        : undefined;
  if (w instanceof ParquetWriter) await w.start();
  for (let a = 0; a < n; a += BATCH_ROWS) {
    const b = g.batch(a, Math.min(n, a + BATCH_ROWS));
    d?.add(b, g.schema);
    if (w) await w.write(b);
  }
  if (w instanceof ParquetWriter) await w.finish();
  else if (w) await w.flush();
}

async function best(fn: () => Promise<void>): Promise<{ cpu: number; main: number; other: number }> {
  await fn();
  let b = { cpu: Infinity, main: 0, other: 0 };
  for (let i = 0; i < REPEAT; i++) {
    const c0 = cpu();
    const t0 = threadCpu();
    await fn();
    const t1 = threadCpu();
    const c = cpu() - c0;
    if (c < b.cpu) b = { cpu: c, main: t1.main - t0.main, other: t1.other - t0.other };
  }
  return b;
}

const ns = (s: number, n: number) => ((s / n) * 1e9).toFixed(0);

if (AB) {
  if (AB !== 'delta' && AB !== 'level') throw new Error('--ab delta|level');
  const n0 = argv.includes('--rows') ? ROWS : 500_000;
  const reps = argv.includes('--repeat') ? REPEAT : 6;
  const [a, b] = AB === 'delta' ? ['delta on', 'delta off'] : ['zstd 1', 'zstd 3'];
  console.log(`# --ab ${AB}: encode + zstd of the first ${n0} rows per table, alternating, best of ${reps}; ns/row of CPU (all threads)`);
  console.log(`| table | ${a} ns/row | ${b} ns/row | ${a} bytes | ${b} bytes |`);
  console.log('|---|---:|---:|---:|---:|');
  for (const g of gens.filter((x) => only.includes(x.table))) {
    const n = Math.min(n0, g.rows);
    const batches = [];
    for (let s = 0; s < n; s += BATCH_ROWS) batches.push(g.batch(s, Math.min(n, s + BATCH_ROWS)));
    const best = [Infinity, Infinity];
    const bytes = [0, 0];
    for (let r = 0; r < reps; r++) {
      for (const side of [0, 1]) {
        deltaOptions.enabled = AB !== 'delta' || side === 0;
        let size = 0;
        const w = new ParquetWriter({ write: async (x: Uint8Array) => void (size += x.length) }, g.schema, { compression: 'zstd', compressionLevel: AB === 'level' ? (side === 0 ? 1 : 3) : undefined });
        const c0 = cpu();
        await w.start();
        for (const x of batches) await w.write(x);
        await w.finish();
        best[side] = Math.min(best[side]!, cpu() - c0);
        bytes[side] = size;
      }
    }
    deltaOptions.enabled = true;
    console.log(`| ${g.table} | ${ns(best[0]!, n)} | ${ns(best[1]!, n)} | ${bytes[0]} | ${bytes[1]} |`);
  }
  process.exit(0);
}
console.log(`# relational bench spec, first ${ROWS} rows per table, batches of ${BATCH_ROWS}, best of ${REPEAT}; Node ${process.version}, ${os.cpus().length} CPUs; ns/row of CPU (all threads)`);
console.log('| table | rows | gen | digest | parquet encode | zstd | gen+digest+parquet zstd | csv encode |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const g of gens.filter((x) => only.includes(x.table))) {
  const n = Math.min(ROWS, g.rows);
  const r: Record<string, number> = {};
  for (const stage of ['gen', '+digest', '+encode', '+zstd', '+csv']) r[stage] = (await best(() => pass(g, n, stage))).cpu;
  console.log(
    `| ${g.table} | ${n} | ${ns(r.gen!, n)} | ${ns(r['+digest']! - r.gen!, n)} | ${ns(r['+encode']! - r['+digest']!, n)} | ${ns(r['+zstd']! - r['+encode']!, n)} | ${ns(r['+zstd']!, n)} | ${ns(r['+csv']! - r['+digest']!, n)} |`,
  );
}

if (COLUMNS) {
  console.log('\n| table | column | type | gen ns/row (alone, minus id + parent ref) |');
  console.log('|---|---|---|---:|');
  for (const t of body.tables.filter((x) => only.includes(x.name))) {
    const keep = (c: any) => c.type === 'id' || (typeof t.rows !== 'number' && c.type === 'ref' && c.table === (t.rows as any).perParent && !c.distribution);
    const baseCols = t.columns.filter(keep);
    const variant = (cols: any[]) => {
      const b = structuredClone(body);
      b.tables.find((x) => x.name === t.name)!.columns = cols;
      return createRelationalTables(resolve(b)).tables.find((g) => g.table === t.name)!;
    };
    const base = variant(baseCols);
    const n = Math.min(ROWS, base.rows);
    const b0 = (await best(() => pass(base, n, 'gen'))).cpu;
    console.log(`| ${t.name} | (id + parent ref) | | ${ns(b0, n)} |`);
    for (const c of t.columns.filter((x) => !keep(x))) {
      const g = variant([...baseCols, c]);
      const s = (await best(() => pass(g, n, 'gen'))).cpu;
      console.log(`| ${t.name} | ${c.name} | ${c.type}${'distribution' in c && c.distribution ? ` ${c.distribution}` : ''}${'unique' in c && c.unique ? ' unique' : ''}${'nullRate' in c && c.nullRate ? ` null ${c.nullRate}` : ''} | ${ns(s - b0, n)} |`);
    }
  }
}
