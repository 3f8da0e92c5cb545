/**
 * Where a shard's CPU goes: the shard work of a trial job (mvn → Parquet, the pilot model) on this
 * thread, in cumulative stages, each timed as CPU seconds of this process (every thread: the JS
 * thread, libuv's pool doing zstd, V8's GC helpers), best of --repeat:
 *
 *   gen      createTrialTable().batch() for every batch
 *   +digest  … and TableDigest.add
 *   +encode  … and the Parquet writer, uncompressed, into a sink that drops the bytes
 *   +zstd    … compressed (--compression, default zstd), same sink
 *   +file    … through openPart instead: SHA-256, file writes, fsync, rename
 *   shard    a whole shard as a shard thread runs it (runShardJob, src/engine/shard-thread.ts): must match +file
 *
 * Differences between stages are the shares. Prints the part files' SHA-256 of the `shard` stage,
 * so that encoder changes can be checked for byte identity.
 *
 *     npx tsx bench/shard-profile.ts [--rows 2000000] [--part-rows 1000000] [--repeat 3]
 *                                    [--only gen,+digest,+encode,+zstd,+file,shard] [--compression zstd]
 *
 * With `node --cpu-prof --import tsx bench/shard-profile.ts --only shard` the JS thread's profile.
 */
import fs from 'node:fs';
import { threadCpu } from './thread-cpu.js';
import os from 'node:os';
import path from 'node:path';
import { TableDigest } from '../src/data/digest.js';
import type { TableGenerator } from '../src/data/batch.js';
import { openPart, type Compression } from '../src/destinations/index.js';
import { ParquetWriter } from '../src/encoders/parquet.js';
import { runShardJob } from '../src/engine/shard-thread.js';
import { trial } from '../src/kinds/trial/index.js';
import { createTrialTable, resolveTrialSpec } from '../src/kinds/trial/lib.js';
import { loadPilotModel } from '../src/kinds/trial/pilot.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : dflt;
};
const ROWS = Number(opt('rows', '2000000'));
const PART_ROWS = Number(opt('part-rows', '1000000'));
const REPEAT = Number(opt('repeat', '3'));
const COMPRESSION = opt('compression', 'zstd') as Compression;
const ONLY = opt('only', 'gen,+digest,+encode,+zstd,+file,shard').split(',');
const BATCH_ROWS = 65_536; // as in src/engine/table-shard.ts

/** CPU seconds of this process's threads: main (the JS thread) and the rest. */

const model = await loadPilotModel();
const spec = resolveTrialSpec({ method: 'mvn', nPerArm: Math.ceil(ROWS / 8), seed: 20240601 });
const table: TableGenerator = createTrialTable(spec, model);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shard-profile-'));

async function parts(fn: (start: number, end: number, k: number) => Promise<void> | void): Promise<void> {
  for (let a = 0, k = 0; a < ROWS; a += PART_ROWS, k++) await fn(a, Math.min(ROWS, a + PART_ROWS), k);
}

async function writerStage(compression: Compression): Promise<void> {
  let bytes = 0;
  await parts(async (a0, a1) => {
    const w = new ParquetWriter({ write: async (b: Uint8Array) => void (bytes += b.length) }, table.schema, { compression });
    await w.start();
    const d = new TableDigest();
    for (let a = a0; a < a1; a += BATCH_ROWS) {
      const b = table.batch(a, Math.min(a1, a + BATCH_ROWS));
      d.add(b, table.schema);
      await w.write(b);
    }
    await w.finish();
  });
}

async function fileStage(compression: Compression): Promise<void> {
  await parts(async (a0, a1, k) => {
    const sink = await openPart({ path: path.join(dir, `p${k}.parquet`), format: 'parquet', compression, schema: table.schema });
    const d = new TableDigest();
    for (let a = a0; a < a1; a += BATCH_ROWS) {
      const b = table.batch(a, Math.min(a1, a + BATCH_ROWS));
      d.add(b, table.schema);
      await sink.write(b);
    }
    await sink.finish();
  });
}

let shas: string[] = [];
const STAGES: Record<string, () => Promise<void>> = {
  gen: () =>
    parts((a0, a1) => {
      for (let a = a0; a < a1; a += BATCH_ROWS) table.batch(a, Math.min(a1, a + BATCH_ROWS));
    }),
  '+digest': () =>
    parts((a0, a1) => {
      const d = new TableDigest();
      for (let a = a0; a < a1; a += BATCH_ROWS) d.add(table.batch(a, Math.min(a1, a + BATCH_ROWS)), table.schema);
    }),
  '+encode': () => writerStage('none'),
  '+zstd': () => writerStage(COMPRESSION),
  '+file': () => fileStage(COMPRESSION),
  shard: async () => {
    const jobId = `job-profile${Math.random().toString(36).slice(2, 8)}`;
    const out = await runShardJob(
      {
        module: trial.shardModule.href,
        dataDir: dir,
        input: {
          jobId,
          tenantId: 'bench',
          kind: 'trial',
          spec: spec as unknown as Record<string, unknown>,
          output: { format: 'parquet', compression: COMPRESSION },
          partitioning: { shardRows: ROWS, maxParallelShards: 1 },
        },
        shard: { index: 0, table: 'vitals', start: 0, end: ROWS, partSize: PART_ROWS, firstPart: 0 },
        payload: { spec, model },
        resume: undefined,
      },
      () => false,
      () => undefined,
      0,
    );
    shas = out.state.files.map((p) => `${p.name} ${p.rows} rows ${p.bytes} B sha256 ${p.sha256} ${p.digest}`);
    fs.rmSync(path.join(dir, 'jobs', jobId), { recursive: true, force: true });
  },
};

console.log(`# ${ROWS} rows mvn → parquet ${COMPRESSION}, parts of ${PART_ROWS}, batches of ${BATCH_ROWS}, best of ${REPEAT}; Node ${process.version}, ${os.cpus().length} CPUs`);
const results: Record<string, { cpu: number; main: number; other: number; wall: number }> = {};
for (const name of ONLY) {
  const fn = STAGES[name];
  if (!fn) throw new Error(`unknown stage ${name}`);
  await fn(); // warm-up
  let best = { cpu: Infinity, main: 0, other: 0, wall: 0 };
  for (let i = 0; i < REPEAT; i++) {
    const c0 = process.cpuUsage();
    const t0 = threadCpu();
    const w0 = performance.now();
    await fn();
    const wall = (performance.now() - w0) / 1000;
    const c = process.cpuUsage(c0);
    const t1 = threadCpu();
    const cpu = (c.user + c.system) / 1e6;
    if (cpu < best.cpu) best = { cpu, main: t1.main - t0.main, other: t1.other - t0.other, wall };
  }
  results[name] = best;
  console.log(
    `${name.padEnd(8)} CPU ${best.cpu.toFixed(3)} s (JS thread ${best.main.toFixed(2)}, other threads ${best.other.toFixed(2)}), wall ${best.wall.toFixed(3)} s, ` +
      `${((ROWS / best.cpu) / 1e6).toFixed(2)}M rows per CPU-s`,
  );
}
const order = ['gen', '+digest', '+encode', '+zstd', '+file'].filter((n) => results[n]);
if (order.length > 1 && results[order.at(-1)!]) {
  const total = results[order.at(-1)!]!.cpu;
  console.log('\nshares of the last cumulative stage:');
  let prev = 0;
  for (const n of order) {
    const d = results[n]!.cpu - prev;
    console.log(`  ${n.padEnd(8)} ${d.toFixed(3)} s  ${((100 * d) / total).toFixed(0)} %  (${((d / ROWS) * 1e9).toFixed(0)} ns/row)`);
    prev = results[n]!.cpu;
  }
}
for (const s of shas) console.log(s);
fs.rmSync(dir, { recursive: true, force: true });
