/**
 * The trial job's quality report (`quality.json`): what a reviewer checks first, computed while the
 * shards write the data and merged at finalize. Pure.
 *
 * Every statistic is a sum of integers (SBP, DBP, HR in mmHg / bpm, Temperature × 10): counts,
 * sums, sums of squares and cross-products, all far below 2^53, so float64 adds them exactly and
 * the merged sums are the same whatever the shard size or the order of merging. The report's
 * means, SDs and correlations are computed once from the merged sums.
 *
 * The within-subject correlation (SBP, DBP, HR at the first against the last visit) needs both of a
 * subject's rows: a subject is counted by the part that holds its first row, which reads the rest of
 * the subject's rows from the generator when they lie beyond the part (the generator is pure).
 */
import type { Batch, TableGenerator } from '../../data/batch.js';
import { CLINICAL_RANGES, VITALS } from './model.js';
import type { CellPlan } from './cell-plan.js';

const K = 4;
/** Per cell: n, then per vital Σx, Σx², #lo, #hi (x in integer units), then #PP<20, #DBP≥SBP. */
const CELL = 1 + K * 4 + 2;
/** Per arm: pairs n, then per vital Σa, Σb, Σa², Σb², Σab (first visit a, last visit b). */
const PAIR = 1 + (K - 1) * 5;
const SCALE = VITALS.map((v) => 10 ** CLINICAL_RANGES[v].decimals);
const LO = VITALS.map((v, k) => Math.round(CLINICAL_RANGES[v].min * SCALE[k]));
const HI = VITALS.map((v, k) => Math.round(CLINICAL_RANGES[v].max * SCALE[k]));

/** The sums of a trial table (or part of it), as a flat array of exact integers. */
export class TrialStats {
  readonly sums: Float64Array;
  constructor(
    readonly visits: number,
    sums?: ArrayLike<number>,
  ) {
    this.sums = new Float64Array(2 * visits * CELL + 2 * PAIR);
    if (sums) this.sums.set(sums);
  }

  /** Adds a batch of the table (rows batch.start …). */
  add(b: Batch): void {
    const arm = (b.columns[1] as { codes: Uint32Array }).codes;
    const visit = (b.columns[2] as { codes: Uint32Array }).codes;
    const cols = [b.columns[3], b.columns[4], b.columns[5], b.columns[6]] as (Int32Array | Float64Array)[];
    const t = this.sums;
    for (let i = 0; i < b.length; i++) {
      const o = (visit[i] * 2 + arm[i]) * CELL;
      t[o]++;
      for (let k = 0; k < K; k++) {
        const x = k === 3 ? Math.round(cols[3][i] * 10) : cols[k][i];
        const p = o + 1 + 4 * k;
        t[p] += x;
        t[p + 1] += x * x;
        if (x === LO[k]) t[p + 2]++;
        if (x === HI[k]) t[p + 3]++;
      }
      const pp = cols[0][i] - cols[1][i];
      if (pp < 20) t[o + 1 + 4 * K]++;
      if (pp <= 0) t[o + 2 + 4 * K]++;
    }
  }

  /**
   * Adds the first-against-last-visit pairs of the subjects whose first row is in [start, end):
   * `batch` holds rows [start, end); rows of those subjects beyond `end` are read from `gen`.
   */
  addPairs(gen: TableGenerator, b: Batch): void {
    const V = this.visits;
    if (V < 2) return;
    const start = b.start;
    const end = b.start + b.length;
    const sFirst = Math.ceil(start / V);
    const sEnd = Math.ceil(end / V); // subjects whose first row is < end
    if (sEnd <= sFirst) return;
    const lastRow = (sEnd - 1) * V + V - 1;
    const tail = lastRow >= end ? gen.batch(end, lastRow + 1) : undefined;
    const val = (r: number, k: number): number => {
      const src = r < end ? b : tail!;
      const c = src.columns[3 + k] as Int32Array;
      return c[r - src.start];
    };
    const armOf = (r: number): number => {
      const src = r < end ? b : tail!;
      return (src.columns[1] as { codes: Uint32Array }).codes[r - src.start];
    };
    const t = this.sums;
    const base = 2 * V * CELL;
    for (let s = sFirst; s < sEnd; s++) {
      const r0 = s * V;
      const r1 = r0 + V - 1;
      const o = base + armOf(r0) * PAIR;
      t[o]++;
      for (let k = 0; k < K - 1; k++) {
        const a = val(r0, k);
        const c = val(r1, k);
        const p = o + 1 + 5 * k;
        t[p] += a;
        t[p + 1] += c;
        t[p + 2] += a * a;
        t[p + 3] += c * c;
        t[p + 4] += a * c;
      }
    }
  }

  merge(other: TrialStats): void {
    for (let i = 0; i < this.sums.length; i++) this.sums[i] += other.sums[i];
  }

  /** As engine totals (`trial.q.<i>`): summed exactly by the engine across shards. */
  toTotals(): Record<string, number> {
    const out: Record<string, number> = {};
    this.sums.forEach((x, i) => (out[`${TOTALS_PREFIX}${i}`] = x));
    return out;
  }

  static fromTotals(visits: number, totals: Record<string, number> | undefined): TrialStats {
    const s = new TrialStats(visits);
    for (let i = 0; i < s.sums.length; i++) s.sums[i] = totals?.[`${TOTALS_PREFIX}${i}`] ?? 0;
    return s;
  }

  /** Per (visit, arm): n, mean and SD (n − 1) of each vital, shares at the bounds, PP < 20, DBP ≥ SBP. */
  cell(gi: number) {
    const t = this.sums;
    const o = gi * CELL;
    const n = t[o];
    const vitals = VITALS.map((name, k) => {
      const p = o + 1 + 4 * k;
      const s = t[p] / SCALE[k];
      const ss = t[p + 1] / (SCALE[k] * SCALE[k]);
      const mean = n > 0 ? s / n : NaN;
      const sd = n > 1 ? Math.sqrt(Math.max(0, (ss - s * mean) / (n - 1))) : NaN;
      return { name, mean, sd, atMin: n > 0 ? t[p + 2] / n : NaN, atMax: n > 0 ? t[p + 3] / n : NaN };
    });
    return { n, vitals, pulsePressureBelow20: n > 0 ? t[o + 1 + 4 * K] / n : NaN, dbpNotBelowSbp: t[o + 2 + 4 * K] };
  }

  /** Per arm: the correlation of each of SBP, DBP, HR between a subject's first and last visit. */
  pairs(a: number) {
    const t = this.sums;
    const o = 2 * this.visits * CELL + a * PAIR;
    const n = t[o];
    return {
      n,
      corr: VITALS.slice(0, K - 1).map((name, k) => {
        const p = o + 1 + 5 * k;
        const sa = t[p], sb = t[p + 1], saa = t[p + 2], sbb = t[p + 3], sab = t[p + 4];
        const cov = n * sab - sa * sb;
        const va = n * saa - sa * sa;
        const vb = n * sbb - sb * sb;
        return { name, r: va > 0 && vb > 0 ? cov / Math.sqrt(va * vb) : NaN };
      }),
    };
  }
}

export const TOTALS_PREFIX = 'trial.q.';

const r4 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1e4) / 1e4 : null);

/**
 * The report: per (visit, arm) the achieved mean and SD of each vital against the model's (and
 * the generator's target), the share at each bound, pulse pressure < 20 mmHg; the effect per visit
 * (Active − Placebo SBP) with its standard error against the target; the within-subject correlation.
 */
export function qualityReport(stats: TrialStats, plan: CellPlan[], modelSd: number[][], arms: readonly string[], effect: number | 'model') {
  const V = stats.visits;
  const cells = plan.map((c, gi) => {
    const q = stats.cell(gi);
    return {
      visit: c.visit,
      arm: c.arm,
      n: q.n,
      vitals: q.vitals.map((v, k) => {
        const se = v.sd / Math.sqrt(q.n);
        return {
          name: v.name,
          mean: r4(v.mean),
          sd: r4(v.sd),
          modelMean: r4(c.modelMean[k]),
          modelSd: r4(modelSd[gi][k]),
          target: r4(c.target[k]),
          z: r4((v.mean - c.target[k]) / se),
          atMin: r4(v.atMin),
          atMax: r4(v.atMax),
        };
      }),
      pulsePressureBelow20: r4(q.pulsePressureBelow20),
      dbpNotBelowSbp: q.dbpNotBelowSbp,
    };
  });
  const effects = Array.from({ length: V }, (_, v) => {
    const a = stats.cell(2 * v).vitals[0];
    const b = stats.cell(2 * v + 1).vitals[0];
    const na = stats.cell(2 * v).n;
    const nb = stats.cell(2 * v + 1).n;
    const achieved = a.mean - b.mean;
    const se = Math.sqrt((a.sd * a.sd) / na + (b.sd * b.sd) / nb);
    const target = plan[2 * v].target[0] - plan[2 * v + 1].target[0];
    return { visit: plan[2 * v].visit, target: r4(target), achieved: r4(achieved), se: r4(se), z: r4((achieved - target) / se) };
  });
  const withinSubject = [0, 1].map((a) => {
    const p = stats.pairs(a);
    return { arm: arms[a], subjects: p.n, firstVsLastVisit: Object.fromEntries(p.corr.map((c) => [c.name, r4(c.r)])) };
  });
  let worstZ = 0;
  let maxAtBound = 0;
  let maxPp = 0;
  let dbpNotBelow = 0;
  for (const c of cells) {
    for (const v of c.vitals) {
      worstZ = Math.max(worstZ, Math.abs(v.z ?? 0));
      maxAtBound = Math.max(maxAtBound, v.atMin ?? 0, v.atMax ?? 0);
    }
    maxPp = Math.max(maxPp, c.pulsePressureBelow20 ?? 0);
    dbpNotBelow += c.dbpNotBelowSbp;
  }
  const last = effects[V - 1]!;
  return {
    format: 'shardflow.trial-quality',
    version: 1,
    targetEffect: effect,
    summary: {
      effect: { visit: last.visit, target: last.target, achieved: last.achieved, se: last.se },
      worstMeanZ: r4(worstZ),
      maxShareAtBound: r4(maxAtBound),
      maxPulsePressureBelow20: r4(maxPp),
      rowsWithDbpNotBelowSbp: dbpNotBelow,
      sbpFirstVsLastVisit: withinSubject.map((w) => ({ arm: w.arm, r: w.firstVsLastVisit.SystolicBP })),
    },
    effects,
    cells,
    withinSubject,
  };
}
