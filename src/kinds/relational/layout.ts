/**
 * Row counts, exact at plan time. A `perParent` table has, for each row p of its parent, a number
 * of children drawn from (seed, table, p) alone; its rows are laid out in parent order (parent 0's
 * children first), so its size is the sum of the draws and each child row's parent is known.
 *
 * A child shard finds its first row's parent through a sparse index (the running total every
 * STRIDE parents), then walks the draws: memory is one number per STRIDE parents, not per row.
 */
import { counterState, keyState, laneU32, uniformFromU32 } from '../../data/rng.js';
import { createPoisson, createZipf, poissonFromTable, poissonTable, type Uniforms } from './dist.js';
import type { ChildCount } from './schema.js';
import { dependencyOrder, type RelationalSpec, type ResolvedTable } from './spec.js';
import { nameStream } from './streams.js';

export const STRIDE = 1024;

/** Children per parent: a pure function of the parent's index. */
export type ChildCounter = (parent: number) => number;

export function childCounter(seed: number, table: string, d: ChildCount): ChildCounter {
  if ('fixed' in d) return () => d.fixed;
  const key = keyState(seed, nameStream(table, '#rows'));
  let cs = 0;
  const uniform: Uniforms = (j) => uniformFromU32(laneU32(cs, j));
  if ('uniform' in d) {
    const { min, max } = d.uniform;
    const n = max - min + 1;
    return (p) => min + Math.floor(uniformFromU32(laneU32(counterState(key, p), 0)) * n);
  }
  if ('poisson' in d && d.poisson > 0 && d.poisson < 10) {
    // The common case, without closures: the inversion over a table of its running sums (dist.ts).
    const F = poissonTable(d.poisson);
    return (p) => poissonFromTable(F, uniformFromU32(laneU32(counterState(key, p), 0)));
  }
  const sampler = 'poisson' in d ? createPoisson(d.poisson) : createZipf(d.zipf.max, d.zipf.s);
  return (p) => {
    cs = counterState(key, p);
    return sampler.sample(uniform);
  };
}

/** The layout of one perParent table. */
export interface ChildLayout {
  parentRows: number;
  rows: number;
  /** offsets[k] = rows of the children of parents [0, k · STRIDE). */
  offsets: Float64Array;
  count: ChildCounter;
}

/** Strides of draws between two yields of the async layout (about 2^20 parents, tens of ms). */
const STRIDES_PER_YIELD = 1024;

/** Builds a layout stride by stride, yielding every STRIDES_PER_YIELD strides (so a caller can let its event loop run). */
function* layoutSteps(parentRows: number, count: ChildCounter, fixed?: number): Generator<void, ChildLayout> {
  const strides = Math.ceil(parentRows / STRIDE);
  const offsets = new Float64Array(strides + 1);
  let total = 0;
  for (let k = 0; k < strides; k++) {
    offsets[k] = total;
    if (fixed !== undefined) total += fixed * Math.min(STRIDE, parentRows - k * STRIDE);
    else {
      for (let p = k * STRIDE, end = Math.min(parentRows, p + STRIDE); p < end; p++) total += count(p);
      if (k % STRIDES_PER_YIELD === STRIDES_PER_YIELD - 1) yield;
    }
  }
  offsets[strides] = total;
  return { parentRows, rows: total, offsets, count };
}

/**
 * Parent index of each child row in [start, end), into out[0 … end − start). Rows are in parent
 * order; the walk starts from the stride that holds `start`.
 */
export function parentsOf(layout: ChildLayout, start: number, end: number, out: Float64Array): void {
  const { offsets, count } = layout;
  let lo = 0;
  let hi = offsets.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (offsets[mid]! <= start) lo = mid;
    else hi = mid - 1;
  }
  let p = lo * STRIDE;
  let first = offsets[lo]!; // first child row of parent p
  let n = count(p);
  while (first + n <= start) {
    first += n;
    n = count(++p);
  }
  for (let r = start; r < end; r++) {
    while (r >= first + n) {
      first += n;
      n = count(++p);
    }
    out[r - start] = p;
  }
}

export interface Layouts {
  /** Rows per table, in spec order. */
  rows: number[];
  /** The layout of each perParent table (by table index). */
  children: Map<number, ChildLayout>;
}

/**
 * Parents a job may draw children for with a random distribution (one draw each, about 30 ns):
 * past this the spec is refused (spec.tables.N.rows), so neither the API nor a plan runs for long.
 */
export const RANDOM_PARENTS_MAX = 2 ** 30;

export class LayoutTooLarge extends Error {
  constructor(readonly table: number, readonly parents: number) {
    super(`drawing children for ${parents} parents in all is more than the ${RANDOM_PARENTS_MAX} a job may draw (use { "fixed": n }, which needs no draws, or fewer parent rows)`);
    this.name = 'LayoutTooLarge';
  }
}

function* layoutsSteps(spec: RelationalSpec): Generator<void, Layouts> {
  const index = new Map(spec.tables.map((t, i) => [t.name, i]));
  const rows: number[] = spec.tables.map(() => 0);
  const children = new Map<number, ChildLayout>();
  let drawn = 0;
  for (const i of dependencyOrder(spec)) {
    const t: ResolvedTable = spec.tables[i]!;
    if (typeof t.rows === 'number') {
      rows[i] = t.rows;
      continue;
    }
    const parentRows = rows[index.get(t.rows.perParent)!]!;
    const d = t.rows.distribution;
    const fixed = 'fixed' in d ? d.fixed : undefined;
    if (fixed === undefined && (drawn += parentRows) > RANDOM_PARENTS_MAX) throw new LayoutTooLarge(i, drawn);
    const layout = yield* layoutSteps(parentRows, childCounter(spec.seed, t.name, d), fixed);
    children.set(i, layout);
    rows[i] = layout.rows;
  }
  return { rows, children };
}

/** Every table's row count, parents first. Cost: one draw per parent row of each random perParent table. */
export function computeLayouts(spec: RelationalSpec): Layouts {
  const steps = layoutsSteps(spec);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * Layouts of the last few specs, by what they depend on (the seed and each table's name and rows):
 * a job's plan and its shards' payload (`prepare`) run on the same worker's main thread one after
 * the other, and each was drawing every parent's children again (4M draws, ~0.13 s, for the bench's
 * 10M rows) before any shard could start.
 */
const recent = new Map<string, Promise<Layouts>>();
const RECENT = 4;

/** computeLayouts, letting the event loop run between slices of draws (the API's and the worker's main threads). */
export function computeLayoutsAsync(spec: RelationalSpec): Promise<Layouts> {
  const key = JSON.stringify([spec.seed, spec.tables.map((t) => [t.name, t.rows])]);
  let p = recent.get(key);
  if (!p) {
    p = drawLayouts(spec);
    recent.set(key, p);
    p.catch(() => recent.delete(key));
    if (recent.size > RECENT) recent.delete(recent.keys().next().value!);
  }
  return p;
}

async function drawLayouts(spec: RelationalSpec): Promise<Layouts> {
  const steps = layoutsSteps(spec);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
