/**
 * Micro-benchmark of the pure generators: rows/s of createTrialTable().batch() per method, and of
 * TableDigest.add(). Single thread (one core).
 *
 *     npx tsx bench/generators.ts [rows=4000000] [batchRows=65536]
 */
import { TableDigest } from '../src/data/digest.js';
import { createTrialTable, resolveTrialSpec, rulesModel, type TrialMethod } from '../src/kinds/trial/lib.js';
import { loadPilotModel } from '../src/kinds/trial/pilot.js';
import type { Batch, TableGenerator } from '../src/data/batch.js';

const ROWS = Number(process.argv[2] ?? 4_000_000);
const BATCH = Number(process.argv[3] ?? 65_536);

function timeIt(label: string, rows: number, fn: () => void): number {
  fn(); // warm-up
  // CPU time of this process (user + system), best of 3: robust when other processes share the cores.
  let best = Infinity;
  let wall = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    fn();
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1e6);
    wall = Math.min(wall, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const rate = rows / best;
  console.log(
    `${label.padEnd(30)} ${(rate / 1e6).toFixed(2).padStart(7)} M rows/s per core  (${rows} rows: ${best.toFixed(3)} s CPU, ${wall.toFixed(3)} s wall)`,
  );
  return rate;
}

function generateAll(gen: TableGenerator, rows: number, sink?: (b: Batch) => void): void {
  for (let s = 0; s < rows; s += BATCH) {
    const b = gen.batch(s, Math.min(rows, s + BATCH));
    sink?.(b);
  }
}

const pilot = await loadPilotModel();
const results: Record<string, number> = {};
for (const method of ['mvn', 'bootstrap', 'rules'] as TrialMethod[]) {
  const spec = resolveTrialSpec({ method, nPerArm: Math.ceil(ROWS / 8), seed: 42 });
  const gen = createTrialTable(spec, method === 'rules' ? rulesModel(spec.visits, spec.arms) : pilot);
  results[method] = timeIt(`trial batch() ${method}`, ROWS, () => generateAll(gen, ROWS));
}

{
  const spec = resolveTrialSpec({ method: 'mvn', nPerArm: Math.ceil(ROWS / 8), seed: 42 });
  const gen = createTrialTable(spec, pilot);
  const batches: Batch[] = [];
  generateAll(gen, ROWS, (b) => batches.push(b));
  results.digest = timeIt('TableDigest.add (7 columns)', ROWS, () => {
    const d = new TableDigest();
    for (const b of batches) d.add(b, gen.schema);
  });
  results.both = timeIt('mvn batch() + digest', ROWS, () => {
    const d = new TableDigest();
    generateAll(gen, ROWS, (b) => d.add(b, gen.schema));
  });
}
console.log(JSON.stringify(Object.fromEntries(Object.entries(results).map(([k, v]) => [k, Math.round(v)]))));
