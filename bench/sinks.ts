/**
 * Sink throughput: writes N rows (default 10M) of the vitals shape from pre-generated batches
 * (generation excluded) per format/compression, single thread, each case in a child process so
 * that peak RSS is its own. Usage:
 *   tsx bench/sinks.ts [--rows 10000000] [--batch 65536] [--row-group 1048576] [--dir /tmp/x]
 *                      [--cases parquet:zstd,csv:none,...] [--nulls] [--shape vitals|types]
 * --shape types writes one column of every ColumnType plus a dictionary string (test/support/typed-batches.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openPart, type Compression, type OutputFormat } from '../src/destinations/index.js';
import { VITALS_SCHEMA, VITALS_SCHEMA_NULLABLE, vitalsBatch } from '../test/support/vitals-batches.js';
import { typedBatch, typedSchema } from '../test/support/typed-batches.js';
import type { Batch } from '../src/data/batch.js';

const ALL_CASES = [
  'parquet:zstd',
  'parquet:snappy',
  'parquet:gzip',
  'parquet:none',
  'csv:none',
  'csv:gzip',
  'ndjson:none',
  'ndjson:gzip',
];

function arg(name: string, dflt?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

const rows = Number(arg('rows', '10000000'));
const batchRows = Number(arg('batch', '65536'));
const rowGroup = arg('row-group') ? Number(arg('row-group')) : undefined;
const level = arg('level') ? Number(arg('level')) : undefined;
const nulls = process.argv.includes('--nulls');
const shape = arg('shape', 'vitals');
if (shape !== 'vitals' && shape !== 'types') throw new Error(`--shape vitals|types, not ${shape}`);
const makeBatch = shape === 'types' ? typedBatch : vitalsBatch;
const schema = shape === 'types' ? typedSchema(nulls) : nulls ? VITALS_SCHEMA_NULLABLE : VITALS_SCHEMA;

async function runCase(spec: string, dir: string): Promise<void> {
  const [format, compression] = spec.split(':') as [OutputFormat, Compression];
  // A pool of ~1M distinct rows, cycled: realistic per-row-group dictionaries, bounded memory.
  const pool: Batch[] = [];
  for (let s = 0; s < Math.min(rows, 1 << 20); s += batchRows) pool.push(makeBatch(s, Math.min(s + batchRows, rows), { nulls }));
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const path = join(dir, `${shape}.${format}${compression === 'none' ? '' : '.' + compression}`);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const sink = await openPart({
    path,
    format,
    compression,
    schema,
    rowGroupRows: rowGroup,
    compressionLevel: level,
  });
  let written = 0;
  for (let k = 0; written < rows; k++) {
    const b = pool[k % pool.length];
    const n = Math.min(b.length, rows - written);
    await sink.write(n === b.length ? b : { ...b, length: n });
    written += n;
  }
  const res = await sink.finish();
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSecs = (cpu.user + cpu.system) / 1e6;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  rmSync(path, { force: true });
  console.log(
    JSON.stringify({
      case: spec,
      rows: res.rows,
      seconds: +secs.toFixed(2),
      rowsPerSec: Math.round(res.rows / secs),
      cpuSeconds: +cpuSecs.toFixed(2),
      rowsPerCpuSec: Math.round(res.rows / cpuSecs),
      mb: +(res.bytes / 1e6).toFixed(1),
      peakRssMb: Math.round(peak / 1e6),
      sinkRssMb: Math.round((peak - base) / 1e6),
    }),
  );
}

const one = arg('case');
if (one) {
  await runCase(one, arg('dir')!);
} else {
  const cases = (arg('cases') ?? ALL_CASES.join(',')).split(',');
  const dir = arg('dir') ?? mkdtempSync(join(tmpdir(), 'sinks-bench-'));
  const self = fileURLToPath(import.meta.url);
  console.log(`# ${shape}: ${rows} rows, batch ${batchRows}, row group ${rowGroup ?? 'default'}${nulls ? ', with nulls' : ''}`);
  for (const c of cases) {
    const extra = process.argv.slice(2).filter((a, i, all) => a !== '--cases' && all[i - 1] !== '--cases');
    const r = spawnSync(process.execPath, [...process.execArgv, self, ...extra, '--case', c, '--dir', dir], { stdio: 'inherit' });
    if (r.status !== 0) process.exitCode = 1;
  }
  if (!arg('dir')) rmSync(dir, { recursive: true, force: true });
}
