/**
 * The `vitals` table of a trial job. Pure: rows are a function of (spec, model, row index).
 *
 * Row r belongs to subject s = floor(r / V) and visit v = r mod V (V = spec.visits.length).
 * Subjects 0 … nPerArm − 1 are in arms[0] (active), the rest in arms[1]. SubjectID is
 * "S" + (s + 1) zero-padded to max(6, digits(2 × nPerArm)).
 *
 * Random draws (see rng.ts), all keyed by spec.seed:
 *  - stream trialSubject, counter s: the subject's 4 normals w_s (mvn/rules: the random effect
 *    enters a row of group g as F_g w_s, F_g = D_g S_u, see model.ts);
 *  - stream trialRow, counter r: the row's 4 normals (residual L_g z_r, or bootstrap jitter);
 *    normals come from rng.zigNormal (ziggurat), lanes 0–4 of the counter (more in rare cases);
 *  - stream trialBootstrapDonor, counter s: which fitted subject the subject copies (bootstrap);
 *  - stream trialBootstrapRow, counter r: a fallback row when the donor lacks that visit.
 * A row never depends on other rows, so any batch boundaries give the same values.
 *
 * ## targetEffect
 *
 * Only arms[0]'s SystolicBP is shifted, by δ_v at visit v. δ_v is solved (bisection) so that the
 * EXPECTED output difference E[SBP | arms[0], v] − E[SBP | arms[1], v] equals f_v × targetEffect,
 * with f_v = v / (V − 1) (0 at the first visit, 1 at the last; f = 1 when V = 1). The expectation
 * includes the clamp to 95–200 (closed form for a clamped normal; for bootstrap, averaged over
 * the group's rows with the jitter normal), so the model's own arm difference is removed and
 * clamping does not bias the effect.
 */
import { STREAMS, fillNormals4, intBelow, keyState, normal4Lane, normalCdf, normalPdf, u32, uniform53, uniformFromU32 } from '../../data/rng.js';
import type { Batch, ColumnSchema, TableGenerator } from '../../data/batch.js';
import { CLINICAL_RANGES, VITALS, rulesModel, type TrialModel } from './model.js';
import type { CellPlan } from './cell-plan.js';
import { qualityReport, type TrialStats } from './quality.js';
import { KERNEL_ROWS, trialKernel } from './kernel.js';
import { applyMap, cdfDiff, roundedTnMean, solveLocation, tnFromUniform, tnMap, type TnMap } from './truncated.js';
import { TRIAL_TABLE, checkTrialSpec, type ResolvedTrialSpec } from './spec.js';

export const TRIAL_SCHEMA: readonly ColumnSchema[] = [
  { name: 'SubjectID', type: 'string' },
  { name: 'TreatmentArm', type: 'string' },
  { name: 'VisitName', type: 'string' },
  { name: 'SystolicBP', type: 'int32' },
  { name: 'DiastolicBP', type: 'int32' },
  { name: 'HeartRate', type: 'int32' },
  { name: 'Temperature', type: 'float64', decimals: 1 },
];

/** E[clamp(X, lo, hi)] for X ~ N(mu, sigma²). */
export function clampedNormalMean(mu: number, sigma: number, lo: number, hi: number): number {
  if (!(sigma > 0)) return Math.min(hi, Math.max(lo, mu));
  const a = (lo - mu) / sigma;
  const b = (hi - mu) / sigma;
  const Pa = normalCdf(a);
  const Pb = normalCdf(b);
  return lo * Pa + hi * (1 - Pb) + mu * (Pb - Pa) + sigma * (normalPdf(a) - normalPdf(b));
}

/** Mean and variance of clamp(X, lo, hi) for X ~ N(mu, sigma²) (closed form). */
export function clampedNormalMoments(mu: number, sigma: number, lo: number, hi: number): { mean: number; variance: number } {
  if (!(sigma > 0)) return { mean: Math.min(hi, Math.max(lo, mu)), variance: 0 };
  const a = (lo - mu) / sigma;
  const b = (hi - mu) / sigma;
  const Pa = normalCdf(a);
  const Pb = normalCdf(b);
  const pa = normalPdf(a);
  const pb = normalPdf(b);
  const mean = lo * Pa + hi * (1 - Pb) + mu * (Pb - Pa) + sigma * (pa - pb);
  const second = lo * lo * Pa + hi * hi * (1 - Pb) + mu * mu * (Pb - Pa) + 2 * mu * sigma * (pa - pb) + sigma * sigma * (Pb - Pa + a * pa - b * pb);
  return { mean, variance: Math.max(0, second - mean * mean) };
}

function groupIndex(model: TrialModel, visit: string, arm: string): number {
  const v = model.visits.indexOf(visit);
  const a = model.arms.indexOf(arm);
  if (v < 0 || a < 0) throw new Error(`model has no group (VisitName="${visit}", TreatmentArm="${arm}")`);
  return v * model.arms.length + a;
}

/** Bounds and rounding grid of the four vitals, in model order. */
const BOUNDS = VITALS.map((name) => ({ lo: CLINICAL_RANGES[name].min, hi: CLINICAL_RANGES[name].max, grid: 10 ** -CLINICAL_RANGES[name].decimals }));

/** What the generator aims at in one spec group (visit v, arm a; gi = 2v + a). */
export type { CellPlan } from './cell-plan.js';

/**
 * Target output means per spec group (module doc, "targetEffect"): arms[1] keeps the model's means;
 * arms[0] keeps HR and Temp, SBP = the control's SBP mean + f_v × targetEffect (or, with
 * targetEffect "model", the model's own SBP mean of the group), and DBP moves with SBP along its
 * regression on SBP in the group, β = cov(SBP, DBP) / var(SBP) (the group's DBP given SBP keeps the
 * model's conditional mean, so pulse pressure does not collapse).
 */
export function trialTargets(spec: ResolvedTrialSpec, model: TrialModel): number[][] {
  const V = spec.visits.length;
  const out: number[][] = [];
  spec.visits.forEach((visit, v) => {
    const f = V === 1 ? 1 : v / (V - 1);
    const g0 = model.groups[groupIndex(model, visit, spec.arms[0])];
    const g1 = model.groups[groupIndex(model, visit, spec.arms[1])];
    const t0 = g0.mean.slice();
    if (spec.targetEffect !== 'model') {
      t0[0] = g1.mean[0] + f * spec.targetEffect;
      t0[1] = g0.mean[1] + dbpSlope(spec, g0) * (t0[0] - g0.mean[0]);
    }
    out.push(t0, g1.mean.slice());
  });
  return out;
}

/**
 * How far DBP moves per mmHg of SBP in arms[0]: for mvn/rules the regression of DBP on SBP in the
 * group, β = cov(SBP, DBP) / var(SBP) (0 when SBP has no variance or the slope is negative); for
 * bootstrap 1 — a donor's whole blood pressure moves, so it keeps its own pulse pressure.
 */
export function dbpSlope(spec: Pick<ResolvedTrialSpec, 'method'>, g: TrialModel['groups'][number]): number {
  if (spec.method === 'bootstrap') return 1;
  const b = g.cov[0] > 0 ? g.cov[1] / g.cov[0] : 0;
  return Number.isFinite(b) && b > 0 ? b : 0;
}

/** The per-group plan of a spec: targets, the solved locations (or shifts) and expected means. */
export function trialPlan(spec: ResolvedTrialSpec, model: TrialModel): CellPlan[] {
  const targets = trialTargets(spec, model);
  return targets.map((target, gi) => {
    const visit = spec.visits[gi >> 1];
    const arm = spec.arms[gi & 1];
    const g = model.groups[groupIndex(model, visit, arm)];
    if (spec.method === 'bootstrap') return { visit, arm, modelMean: g.mean.slice(), target, ...bootstrapCell(g, target, spec.jitter) };
    const scale = [0, 1, 2, 3].map((k) => Math.sqrt(g.cov[k * 5]));
    const location = target.map((t, k) => solveLocation(t, scale[k], BOUNDS[k].lo, BOUNDS[k].hi, BOUNDS[k].grid));
    const expected = location.map((l, k) => roundedTnMean(l, scale[k], BOUNDS[k].lo, BOUNDS[k].hi, BOUNDS[k].grid));
    return { visit, arm, modelMean: g.mean.slice(), target, expected, location, scale };
  });
}

/** P(lo ≤ m + sd·Z ≤ hi). */
function inBounds(m: number, sd: number, lo: number, hi: number): number {
  if (!(sd > 0)) return m >= lo && m <= hi ? 1 : 0;
  return cdfDiff((lo - m) / sd, (hi - m) / sd);
}

/**
 * bootstrap: the shifts δ_k such that the output means meet the targets. A value is the donor's
 * plus δ_k plus jitter N(0, s_k²), conditioned on all four lying in their ranges (rejection, then
 * an exact fallback draw), so the output is the truncated mixture: row i has weight
 * w_i = Π_k P(lo_k ≤ r_ik + δ_k + s_k Z ≤ hi_k) and E[round x_k] = Σ w_i E[round x_ik | in] / Σ w_i.
 * Solved by bisection on each δ_k in turn (4 rounds; the weights couple the vitals).
 */
function bootstrapCell(g: TrialModel['groups'][number], target: number[], jitter: number): Omit<CellPlan, 'visit' | 'arm' | 'modelMean' | 'target'> {
  const n = g.n;
  const rows = g.rows!;
  const scale = g.sd.map((s) => jitter * s);
  const delta = [0, 0, 0, 0];
  const p = Array.from({ length: 4 }, () => new Float64Array(n)); // P(in range) per row and vital
  const refresh = (k: number) => {
    const { lo, hi } = BOUNDS[k];
    for (let i = 0; i < n; i++) p[k][i] = inBounds(rows[4 * i + k] + delta[k], scale[k], lo, hi);
  };
  const meanOf = (k: number, d: number): number => {
    const { lo, hi, grid } = BOUNDS[k];
    const sd = scale[k];
    const far = 9 * sd;
    // Far from both bounds, E[round(m + sd Z)] − m depends on m mod grid only (cached per evaluation).
    const periodic = new Map<number, number>();
    let s = 0;
    let w = 0;
    for (let i = 0; i < n; i++) {
      let o = 1;
      for (let j = 0; j < 4; j++) if (j !== k) o *= p[j][i];
      if (!(o > 0)) continue;
      const m = rows[4 * i + k] + d;
      if (sd > 0 && m - far > lo && m + far < hi) {
        const r = m - Math.floor(m / grid) * grid;
        let c = periodic.get(r);
        if (c === undefined) {
          const base = lo + Math.ceil((far + grid) / grid) * grid; // a grid point far inside: same periodic part
          c = roundedTnMean(base + r, sd, lo, Math.max(hi, base + r + far + grid), grid) - (base + r);
          periodic.set(r, c);
        }
        s += o * (m + c);
        w += o;
        continue;
      }
      const pk = inBounds(m, sd, lo, hi);
      if (!(o * pk > 0)) continue;
      s += o * pk * roundedTnMean(m, sd, lo, hi, grid);
      w += o * pk;
    }
    return w > 0 ? s / w : NaN;
  };
  for (let k = 0; k < 4; k++) refresh(k);
  for (let round = 0; round < 4; round++)
    for (let k = 0; k < 4; k++) {
      const { lo, hi } = BOUNDS[k];
      // Without jitter, HR and Temperature stay the donors' own values (a shift would only move them by whole steps).
      if ((k >= 2 && !(scale[k] > 0)) || Math.abs(meanOf(k, delta[k]) - target[k]) < 1e-9) continue;
      let a = lo - hi - 10 * scale[k];
      let b = hi - lo + 10 * scale[k];
      for (let it = 0; it < 60; it++) {
        const m = (a + b) / 2;
        const e = meanOf(k, m);
        if (e < target[k] || (Number.isNaN(e) && m < 0)) a = m;
        else b = m;
      }
      delta[k] = (a + b) / 2;
      refresh(k);
    }
  const weights = new Float64Array(n);
  let acc = 0;
  for (let i = 0; i < n; i++) weights[i] = acc += p[0][i] * p[1][i] * p[2][i] * p[3][i];
  const expected = [0, 1, 2, 3].map((k) => meanOf(k, delta[k]));
  return { expected, location: delta, scale, weights };
}

/**
 * The SBP location (mvn/rules) or shift (bootstrap) of arms[0] at each spec visit, relative to the
 * model's group mean. Exposed for tests and documentation.
 */
export function trialShifts(spec: ResolvedTrialSpec, model: TrialModel): number[] {
  const plan = trialPlan(spec, model);
  return spec.visits.map((_, v) => plan[2 * v].location[0] - (spec.method === 'bootstrap' ? 0 : plan[2 * v].modelMean[0]));
}

/**
 * What the clinical ranges allow: the Active − Placebo SBP difference at the last visit the
 * ranges let every visit reach (SBP within 95–200 and DBP, which moves along its regression on SBP, within 55–130, both
 * strictly), and the expected difference the generator produces for spec.targetEffect.
 */
export function effectReach(spec: ResolvedTrialSpec, model: TrialModel): { min: number; max: number; achieved: number; worstMiss: number } {
  const V = spec.visits.length;
  let min = -Infinity;
  let max = Infinity;
  spec.visits.forEach((visit, v) => {
    const f = V === 1 ? 1 : v / (V - 1);
    if (f === 0) return;
    const g0 = model.groups[groupIndex(model, visit, spec.arms[0])];
    const g1 = model.groups[groupIndex(model, visit, spec.arms[1])];
    // SBP target = g1.S + f E ∈ (95, 200); DBP target = g0.D + β (g1.S + f E − g0.S) ∈ (55, 130).
    const s = BOUNDS[0];
    const d = BOUNDS[1];
    min = Math.max(min, (s.lo - g1.mean[0]) / f);
    max = Math.min(max, (s.hi - g1.mean[0]) / f);
    const beta = dbpSlope(spec, g0);
    if (beta > 0) {
      const c = g0.mean[1] + beta * (g1.mean[0] - g0.mean[0]);
      min = Math.max(min, (d.lo - c) / (beta * f));
      max = Math.min(max, (d.hi - c) / (beta * f));
    }
  });
  const plan = trialPlan(spec, model);
  const last = 2 * (V - 1);
  const achieved = plan[last].expected[0] - plan[last + 1].expected[0];
  let worstMiss = 0;
  for (const c of plan) for (let k = 0; k < 4; k++) {
      const miss = Math.abs(c.expected[k] - c.target[k]);
      worstMiss = Math.max(worstMiss, Number.isNaN(miss) ? Infinity : miss);
    }
  return { min, max, achieved, worstMiss };
}

/** The quality report of a job's data (quality.ts) from its merged sums. */
export function trialQuality(spec: ResolvedTrialSpec, model: TrialModel, stats: TrialStats) {
  const m = spec.method === 'rules' ? rulesModel(spec.visits, spec.arms) : model;
  const plan = trialPlan(spec, m);
  const sd = plan.map((c) => m.groups[groupIndex(m, c.visit, c.arm)].sd);
  return qualityReport(stats, plan, sd, spec.arms, spec.targetEffect);
}

/**
 * Builds the generator. The spec must already be resolved; for mvn/bootstrap every spec (visit,
 * arm) must be a group of the model (else this throws; checkTrialSpec gives the same as a list).
 * For method 'rules' pass rulesModel(spec.visits, spec.arms).
 */
export function createTrialTable(spec: ResolvedTrialSpec, model: TrialModel): TableGenerator {
  const issues = checkTrialSpec(spec, model);
  if (issues.length) throw new Error(`invalid trial spec: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  if (spec.method === 'bootstrap' && !model.hasRows) throw new Error('method "bootstrap" needs a model fitted with its rows');

  const V = spec.visits.length;
  const nPerArm = spec.nPerArm;
  const nSubjects = 2 * nPerArm;
  const rows = nSubjects * V;
  const width = Math.max(6, String(nSubjects).length);
  const armDict: readonly string[] = Object.freeze([spec.arms[0], spec.arms[1]]);
  const visitDict: readonly string[] = Object.freeze([...spec.visits]);
  const plan = trialPlan(spec, model);
  const bootstrap = spec.method === 'bootstrap';

  // Per spec group gi = v * 2 + a: the model mean [4], 1 / SD [4], residual factor [16], subject loading [16];
  // mvn: the four marginal maps; bootstrap: shifts [4], jitter SD [4], the rows and the fallback weights.
  const G = V * 2;
  const gMean = new Float64Array(G * 4);
  const gInvSd = new Float64Array(G * 4);
  const gL = new Float64Array(G * 16);
  const gF = new Float64Array(G * 16);
  const gJit = new Float64Array(G * 4);
  const gShift = new Float64Array(G * 4);
  const maps: TnMap[] = [];
  const groups = [] as TrialModel['groups'];
  for (let gi = 0; gi < G; gi++) {
    const g = model.groups[groupIndex(model, spec.visits[gi >> 1], spec.arms[gi & 1])];
    const c = plan[gi];
    groups.push(g);
    for (let k = 0; k < 4; k++) {
      gMean[gi * 4 + k] = g.mean[k];
      gInvSd[gi * 4 + k] = 1 / c.scale[k];
      gJit[gi * 4 + k] = c.scale[k];
      gShift[gi * 4 + k] = c.location[k];
      if (!bootstrap) maps.push(tnMap(c.location[k], c.scale[k], BOUNDS[k].lo, BOUNDS[k].hi));
    }
    for (let i = 0; i < 16; i++) {
      gL[gi * 16 + i] = g.residualChol[i];
      gF[gi * 16 + i] = g.subjectFactor[i];
    }
  }

  const kSubject = keyState(spec.seed, STREAMS.trialSubject);
  const kRow = keyState(spec.seed, STREAMS.trialRow);
  const kDonor = keyState(spec.seed, STREAMS.trialBootstrapDonor);
  const kBootRow = keyState(spec.seed, STREAMS.trialBootstrapRow);
  const kRetry = keyState(spec.seed, STREAMS.trialRetry);

  // Bootstrap tables: per spec group, rows (Float64Array n×4), donor → row lookup.
  const bootRows: Float64Array[] = [];
  const bootLookup: Int32Array[] = [];
  const bootWeights: Float64Array[] = [];
  const armDonors = [0, 0];
  if (bootstrap) {
    for (let a = 0; a < 2; a++) armDonors[a] = model.subjectsPerArm[model.arms.indexOf(spec.arms[a])];
    groups.forEach((g, gi) => {
      bootRows.push(Float64Array.from(g.rows!));
      const look = new Int32Array(armDonors[gi % 2]).fill(-1);
      g.donors!.forEach((d, j) => (look[d] = j));
      bootLookup.push(look);
      bootWeights.push(plan[gi].weights!);
    });
  }
  const ctx: RowCtx = { V, nPerArm, gMean, gInvSd, gF, gL, gJit, gShift, maps, kRetry, bootRows, bootLookup, bootWeights, kBootRow };

  // Scratch reused by every batch() call (batch is synchronous): 4 normals per row / per subject.
  const zRow = new Float64Array(4 * SUB);
  const zSubj = new Float64Array(4 * (SUB + 1));
  const donors: number[] = [];

  function batch(start: number, end: number): Batch {
    if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= rows))
      throw new RangeError(`batch(${start}, ${end}) outside [0, ${rows}]`);
    const n = end - start;
    const sbp = new Int32Array(n);
    const dbp = new Int32Array(n);
    const hr = new Int32Array(n);
    const temp = new Float64Array(n);
    const armCodes = new Uint32Array(n);
    const visitCodes = new Uint32Array(n);
    const subjCodes = new Uint32Array(n);
    const sFirst = Math.floor(start / V);
    const sLast = n > 0 ? Math.floor((end - 1) / V) : sFirst - 1;
    const nS = Math.max(0, sLast - sFirst + 1);
    const subjDict = subjectIds(sFirst, nS, width);

    const out: RowOut = { sbp, dbp, hr, temp, armCodes, visitCodes, subjCodes };
    if (bootstrap) {
      donors.length = nS;
      for (let k = 0; k < nS; k++) donors[k] = intBelow(u32(kDonor, sFirst + k, 0), armDonors[sFirst + k < nPerArm ? 0 : 1]);
    }
    // The WebAssembly kernel draws the normals (its fast path); the rows are made here.
    const kern = trialKernel();
    for (let i0 = 0; i0 < n; i0 += SUB) {
      const i1 = Math.min(n, i0 + SUB);
      let z: Float64Array = zRow;
      if (kern) (kern.normals(kRow, start + i0, i1 - i0, 'z'), (z = kern.z));
      else fillNormals4(kRow, start + i0, i1 - i0, zRow);
      if (bootstrap) {
        bootstrapRows(i0, i1, start, sFirst, z, donors, ctx, out);
        continue;
      }
      const s0 = Math.floor((start + i0) / V);
      const nW = Math.floor((start + i1 - 1) / V) - s0 + 1;
      let w: Float64Array = zSubj;
      if (kern) (kern.normals(kSubject, s0, nW, 'w'), (w = kern.w));
      else fillNormals4(kSubject, s0, nW, zSubj);
      mvnRows(i0, i1, start, sFirst, s0, z, w, ctx, out);
    }
    return {
      start,
      length: n,
      columns: [
        { kind: 'dict', dictionary: subjDict, codes: subjCodes, sorted: true },
        { kind: 'dict', dictionary: armDict, codes: armCodes },
        { kind: 'dict', dictionary: visitDict, codes: visitCodes },
        sbp,
        dbp,
        hr,
        temp,
      ],
    };
  }

  return { table: TRIAL_TABLE, schema: TRIAL_SCHEMA.map((c) => ({ ...c })), rows, batch };
}

interface RowOut {
  sbp: Int32Array;
  dbp: Int32Array;
  hr: Int32Array;
  temp: Float64Array;
  armCodes: Uint32Array;
  visitCodes: Uint32Array;
  subjCodes: Uint32Array;
}

/** What the row loops read: per-group coefficients (see createTrialTable) and keys. */
interface RowCtx {
  V: number;
  nPerArm: number;
  gMean: Float64Array;
  gInvSd: Float64Array;
  gF: Float64Array;
  gL: Float64Array;
  gJit: Float64Array;
  gShift: Float64Array;
  maps: TnMap[];
  kRetry: number;
  bootRows: Float64Array[];
  bootLookup: Int32Array[];
  bootWeights: Float64Array[];
  kBootRow: number;
}

/** Redraws of a row whose DBP came out ≥ its SBP (rare; then DBP = SBP − 1). */
const RETRIES = 8;

/** Rows per step of batch() (the kernel's buffer size). */
const SUB = KERNEL_ROWS;

/**
 * mvn / rules rows i0 … i1 − 1 of the batch from row `start` (subject codes from sFirst):
 * x = mean_g + F_g w_s + L_g z_r, each vital standardised and mapped through its truncated
 * normal's quantile map (a Gaussian copula). z: 4 normals per row from i0; w: 4 per subject from sW.
 * Group by group (visit, arm), so that its coefficients stay in locals.
 */
function mvnRows(i0: number, i1: number, start: number, sFirst: number, sW: number, z: Float64Array, w: Float64Array, c: RowCtx, out: RowOut): void {
  const { V, nPerArm } = c;
  const r0 = start + i0;
  const r1 = start + i1; // exclusive
  for (let v = 0; v < V; v++) {
    // subjects s with s·V + v in [r0, r1)
    const sA = Math.ceil((r0 - v) / V);
    const sB = Math.floor((r1 - 1 - v) / V);
    if (sB >= sA && sA < nPerArm) mvnGroup(Math.max(sA, 0), Math.min(sB, nPerArm - 1), v, 0, start, sFirst, sW, z, w, i0, c, out);
    if (sB >= sA && sB >= nPerArm) mvnGroup(Math.max(sA, nPerArm), sB, v, 1, start, sFirst, sW, z, w, i0, c, out);
  }
}

/** mvnRows for the subjects sA … sB of one arm at one visit. */
function mvnGroup(
  sA: number, sB: number, v: number, a: number, start: number, sFirst: number, sW: number, z: Float64Array, w: Float64Array,
  i0: number, c: RowCtx, out: RowOut,
): void {
  const { armCodes, visitCodes, subjCodes, sbp, dbp, hr, temp } = out;
  const { V, gMean, gInvSd, gF, gL } = c;
  const gi = v * 2 + a;
  const m = gi * 4;
  const l = gi * 16;
  const m0 = gMean[m], m1 = gMean[m + 1], m2 = gMean[m + 2], m3 = gMean[m + 3];
  const q0 = gInvSd[m], q1 = gInvSd[m + 1], q2 = gInvSd[m + 2], q3 = gInvSd[m + 3];
  const M0 = c.maps[m], M1 = c.maps[m + 1], M2 = c.maps[m + 2], M3 = c.maps[m + 3];
  const f0 = gF[l], f1 = gF[l + 1], f2 = gF[l + 2], f3 = gF[l + 3], f4 = gF[l + 4], f5 = gF[l + 5], f6 = gF[l + 6], f7 = gF[l + 7];
  const f8 = gF[l + 8], f9 = gF[l + 9], f10 = gF[l + 10], f11 = gF[l + 11], f12 = gF[l + 12], f13 = gF[l + 13], f14 = gF[l + 14], f15 = gF[l + 15];
  const c0 = gL[l], c1 = gL[l + 1], c2 = gL[l + 2], c3 = gL[l + 3], c4 = gL[l + 4], c5 = gL[l + 5], c6 = gL[l + 6], c7 = gL[l + 7];
  const c8 = gL[l + 8], c9 = gL[l + 9], c10 = gL[l + 10], c11 = gL[l + 11], c12 = gL[l + 12], c13 = gL[l + 13], c14 = gL[l + 14], c15 = gL[l + 15];
  for (let s = sA; s <= sB; s++) {
    const i = s * V + v - start;
    const o = 4 * (i - i0);
    const z0 = z[o], z1 = z[o + 1], z2 = z[o + 2], z3 = z[o + 3];
    const q = 4 * (s - sW);
    const w0 = w[q], w1 = w[q + 1], w2 = w[q + 2], w3 = w[q + 3];
    // The subject's part, then the row's.
    const u0 = f0 * w0 + f1 * w1 + f2 * w2 + f3 * w3;
    const u1 = f4 * w0 + f5 * w1 + f6 * w2 + f7 * w3;
    const x0 = Math.round(applyMap(M0, (u0 + c0 * z0 + c1 * z1 + c2 * z2 + c3 * z3) * q0));
    const x1 = Math.round(applyMap(M1, (u1 + c4 * z0 + c5 * z1 + c6 * z2 + c7 * z3) * q1));
    sbp[i] = x0;
    dbp[i] = x1;
    hr[i] = Math.round(applyMap(M2, (f8 * w0 + f9 * w1 + f10 * w2 + f11 * w3 + c8 * z0 + c9 * z1 + c10 * z2 + c11 * z3) * q2));
    temp[i] = Math.round(applyMap(M3, (f12 * w0 + f13 * w1 + f14 * w2 + f15 * w3 + c12 * z0 + c13 * z1 + c14 * z2 + c15 * z3) * q3) * 10) / 10;
    if (x1 >= x0) mvnRedraw(c, gi, start + i, i, [u0, u1, f8 * w0 + f9 * w1 + f10 * w2 + f11 * w3, f12 * w0 + f13 * w1 + f14 * w2 + f15 * w3], out);
    armCodes[i] = a;
    visitCodes[i] = v;
    subjCodes[i] = s - sFirst;
  }
  void m0, m1, m2, m3;
}

/**
 * A row whose DBP ≥ SBP is drawn again: the subject's part u kept, new row normals from stream
 * trialRetry (counter 8r + attempt), until DBP < SBP (the row is then a draw from the copula
 * conditioned on DBP < SBP); after RETRIES attempts DBP = SBP − 1 (never seen in tests).
 */
function mvnRedraw(c: RowCtx, gi: number, r: number, i: number, u: number[], out: RowOut): void {
  const l = gi * 16;
  const m = gi * 4;
  const L = c.gL;
  const zz = [0, 0, 0, 0];
  for (let attempt = 0; attempt < RETRIES; attempt++) {
    for (let q = 0; q < 4; q++) zz[q] = normal4Lane(c.kRetry, RETRIES * r + attempt, q);
    const x = [0, 1, 2, 3].map((k) => applyMap(c.maps[m + k], (u[k] + L[l + 4 * k] * zz[0] + L[l + 4 * k + 1] * zz[1] + L[l + 4 * k + 2] * zz[2] + L[l + 4 * k + 3] * zz[3]) * c.gInvSd[m + k]));
    const s = Math.round(x[0]);
    const d = Math.round(x[1]);
    if (d < s) {
      out.sbp[i] = s;
      out.dbp[i] = d;
      out.hr[i] = Math.round(x[2]);
      out.temp[i] = Math.round(x[3] * 10) / 10;
      return;
    }
  }
  out.dbp[i] = out.sbp[i] - 1;
}

/**
 * bootstrap rows i0 … i1 − 1: the donor's row of the group (or a random one), shifted, plus jitter,
 * accepted when every vital lies in its range and DBP < SBP; otherwise an exact draw from the
 * truncated mixture (a row by its weight, each vital from its truncated jitter normal).
 */
function bootstrapRows(i0: number, i1: number, start: number, sFirst: number, z: Float64Array, donors: number[], c: RowCtx, out: RowOut): void {
  const { armCodes, visitCodes, subjCodes, sbp, dbp, hr, temp } = out;
  const { V, nPerArm, bootLookup, bootRows, kBootRow, gShift: d, gJit: jit } = c;
  let s = Math.floor((start + i0) / V);
  let v = start + i0 - s * V;
  for (let i = i0; i < i1; i++) {
    const a = s < nPerArm ? 0 : 1;
    const gi = v * 2 + a;
    const o = 4 * (i - i0);
    const m = gi * 4;
    let j = bootLookup[gi][donors[s - sFirst]];
    const br = bootRows[gi];
    if (j < 0) j = intBelow(u32(kBootRow, start + i, 0), br.length >> 2);
    const b = j * 4;
    const x0 = br[b] + d[m] + jit[m] * z[o];
    const x1 = br[b + 1] + d[m + 1] + jit[m + 1] * z[o + 1];
    const x2 = br[b + 2] + d[m + 2] + jit[m + 2] * z[o + 2];
    const x3 = br[b + 3] + d[m + 3] + jit[m + 3] * z[o + 3];
    const r0 = Math.round(x0);
    const r1 = Math.round(x1);
    if (x0 >= LO0 && x0 <= HI0 && x1 >= LO1 && x1 <= HI1 && x2 >= LO2 && x2 <= HI2 && x3 >= LO3 && x3 <= HI3 && r1 < r0) {
      sbp[i] = r0;
      dbp[i] = r1;
      hr[i] = Math.round(x2);
      temp[i] = Math.round(x3 * 10) / 10;
    } else bootstrapFallback(c, gi, start + i, i, out);
    armCodes[i] = a;
    visitCodes[i] = v;
    subjCodes[i] = s - sFirst;
    if (++v === V) {
      v = 0;
      s++;
    }
  }
}

/** An exact draw from the group's truncated mixture (stream trialRetry, counter 8r + attempt). */
function bootstrapFallback(c: RowCtx, gi: number, r: number, i: number, out: RowOut): void {
  const w = c.bootWeights[gi];
  const br = c.bootRows[gi];
  const m = gi * 4;
  const total = w[w.length - 1];
  for (let attempt = 0; attempt < RETRIES; attempt++) {
    const counter = RETRIES * r + attempt;
    const t = uniform53(c.kRetry, counter, 4) * total;
    let lo = 0;
    let hi = w.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (w[mid] > t) hi = mid;
      else lo = mid + 1;
    }
    const b = lo * 4;
    const x = [0, 1, 2, 3].map((k) => {
      const loc = br[b + k] + c.gShift[m + k];
      const sd = c.gJit[m + k];
      return sd > 0 ? tnFromUniform(uniformFromU32(u32(c.kRetry, counter, k)), loc, sd, BOUNDS[k].lo, BOUNDS[k].hi) : loc;
    });
    const s = Math.round(x[0]);
    const d = Math.round(x[1]);
    out.sbp[i] = s;
    out.dbp[i] = d;
    out.hr[i] = Math.round(x[2]);
    out.temp[i] = Math.round(x[3] * 10) / 10;
    if (d < s) return;
  }
  out.dbp[i] = out.sbp[i] - 1;
}

const LO0 = CLINICAL_RANGES.SystolicBP.min, HI0 = CLINICAL_RANGES.SystolicBP.max;
const LO1 = CLINICAL_RANGES.DiastolicBP.min, HI1 = CLINICAL_RANGES.DiastolicBP.max;
const LO2 = CLINICAL_RANGES.HeartRate.min, HI2 = CLINICAL_RANGES.HeartRate.max;
const LO3 = CLINICAL_RANGES.Temperature.min, HI3 = CLINICAL_RANGES.Temperature.max;

/** Latin-1 text of the subject IDs of a batch (reused; the strings are copied out of it). */
let idBytes = Buffer.alloc(0);

/** "S" + (s + 1) zero-padded to `width`, for s = first … first + count − 1. */
export function subjectIds(first: number, count: number, width: number): string[] {
  const out: string[] = new Array(count);
  if (count === 0) return out;
  const len = width + 1;
  if (idBytes.length < count * len) idBytes = Buffer.alloc(count * len);
  const b = idBytes;
  // The first ID's digits, then an odometer: +1 per subject.
  const d = String(first + 1).padStart(width, '0');
  b[0] = 83; // 'S'
  for (let j = 0; j < width; j++) b[1 + j] = d.charCodeAt(j);
  for (let k = 1; k < count; k++) {
    const p = k * len;
    for (let j = 0; j < len; j++) b[p + j] = b[p - len + j];
    let j = p + width;
    while (b[j] === 57) b[j--] = 48; // '9' → '0', carry
    b[j]++;
  }
  const text = b.toString('latin1', 0, count * len);
  for (let k = 0; k < count; k++) out[k] = text.slice(k * len, k * len + len);
  return out;
}
