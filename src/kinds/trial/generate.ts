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
import { STREAMS, fillNormals4, intBelow, keyState, normalCdf, normalPdf, u32 } from '../../data/rng.js';
import type { Batch, ColumnSchema, TableGenerator } from '../../data/batch.js';
import { CLINICAL_RANGES, K, type TrialModel } from './model.js';
import { KERNEL_MAX_GROUPS, KERNEL_ROWS, packGroup, trialKernel } from './kernel.js';
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

/** Per group: its SBP values sorted, with prefix sums (cached per group object). */
const sortedSbp = new WeakMap<object, { x: Float64Array; prefix: Float64Array }>();

function sbpIndex(g: TrialModel['groups'][number]) {
  let e = sortedSbp.get(g);
  if (!e) {
    const x = new Float64Array(g.n);
    for (let i = 0; i < g.n; i++) x[i] = g.rows![i * K];
    x.sort();
    const prefix = new Float64Array(g.n + 1);
    for (let i = 0; i < g.n; i++) prefix[i + 1] = prefix[i] + x[i];
    e = { x, prefix };
    sortedSbp.set(g, e);
  }
  return e;
}

/** First index i with x[i] >= v (x sorted ascending). */
function lowerBound(x: Float64Array, v: number): number {
  let a = 0;
  let b = x.length;
  while (a < b) {
    const m = (a + b) >>> 1;
    if (x[m] < v) a = m + 1;
    else b = m;
  }
  return a;
}

/**
 * E[clamp(row SBP + d + σZ, lo, hi)] over a bootstrap group's rows: rows more than 9σ inside the
 * range contribute row + d (via prefix sums), rows more than 9σ outside contribute the bound, and
 * only the rows near a bound are evaluated one by one. O(log n + rows near the bounds).
 */
function bootstrapExpectedSbp(g: TrialModel['groups'][number], d: number, sigma: number, lo: number, hi: number): number {
  const { x, prefix } = sbpIndex(g);
  const m = 9 * sigma;
  const n = x.length;
  const i1 = lowerBound(x, lo - m - d); // rows below: → lo
  const i2 = lowerBound(x, lo + m - d); // rows in the lower band: exact
  const i3 = lowerBound(x, hi - m - d); // rows in the middle: x + d
  const i4 = lowerBound(x, hi + m - d); // rows in the upper band: exact; the rest → hi
  let s = i1 * lo + (n - i4) * hi;
  if (i3 > i2) s += prefix[i3] - prefix[i2] + (i3 - i2) * d;
  for (let i = i1; i < Math.min(i2, i4); i++) s += clampedNormalMean(x[i] + d, sigma, lo, hi);
  for (let i = Math.max(i2, i3); i < i4; i++) s += clampedNormalMean(x[i] + d, sigma, lo, hi);
  return s / n;
}

/**
 * The additive SystolicBP shift δ_v applied to arms[0] at each spec visit (see module doc).
 * Exposed for tests and documentation.
 */
export function trialShifts(spec: ResolvedTrialSpec, model: TrialModel): number[] {
  const V = spec.visits.length;
  return spec.visits.map((visit, v) => {
    const f = V === 1 ? 1 : v / (V - 1);
    const { g0, g1, expected } = sbpExpectation(spec, model, visit);
    const want = expected(g1, 0) + f * spec.targetEffect;
    let a = -SHIFT_LIMIT;
    let b = SHIFT_LIMIT;
    for (let it = 0; it < 60; it++) {
      const m = (a + b) / 2;
      if (expected(g0, m) < want) a = m;
      else b = m;
    }
    return (a + b) / 2;
  });
}

/** Largest SBP shift (mmHg) the solver tries: past it every value sits at a clinical bound. */
const SHIFT_LIMIT = 400;

/** Expected clamped SBP of a group shifted by d, for this spec's method, at one visit. */
function sbpExpectation(spec: ResolvedTrialSpec, model: TrialModel, visit: string) {
  const { min: lo, max: hi } = CLINICAL_RANGES.SystolicBP;
  const g0 = model.groups[groupIndex(model, visit, spec.arms[0])];
  const g1 = model.groups[groupIndex(model, visit, spec.arms[1])];
  type G = typeof g0;
  const expected =
    spec.method === 'bootstrap'
      ? (g: G, d: number) => bootstrapExpectedSbp(g, d, spec.jitter * g.sd[0], lo, hi)
      : (g: G, d: number) => clampedNormalMean(g.mean[0] + d, Math.sqrt(g.cov[0]), lo, hi);
  return { g0, g1, expected };
}

/**
 * What the clinical ranges allow at the last visit: the reachable Active − Placebo SBP difference
 * and the expected difference the generator will actually produce for spec.targetEffect (equal to
 * it unless the target lies outside [min, max]).
 */
export function effectReach(spec: ResolvedTrialSpec, model: TrialModel): { min: number; max: number; achieved: number } {
  const { g0, g1, expected } = sbpExpectation(spec, model, spec.visits[spec.visits.length - 1]!);
  const base = expected(g1, 0);
  const shift = trialShifts(spec, model).at(-1)!;
  return { min: expected(g0, -SHIFT_LIMIT) - base, max: expected(g0, SHIFT_LIMIT) - base, achieved: expected(g0, shift) - base };
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
  const shifts = trialShifts(spec, model);

  // Per spec group gi = v * 2 + a: mean (with the shift) [4], residual factor [16], jitter sd [4].
  const G = V * 2;
  const gMean = new Float64Array(G * 4);
  const gL = new Float64Array(G * 16);
  const gF = new Float64Array(G * 16);
  const gJit = new Float64Array(G * 4);
  const gShift = new Float64Array(G);
  const groups = [] as TrialModel['groups'];
  for (let v = 0; v < V; v++)
    for (let a = 0; a < 2; a++) {
      const gi = v * 2 + a;
      const g = model.groups[groupIndex(model, spec.visits[v], spec.arms[a])];
      groups.push(g);
      for (let i = 0; i < 4; i++) {
        gMean[gi * 4 + i] = g.mean[i];
        gJit[gi * 4 + i] = spec.jitter * g.sd[i];
      }
      if (a === 0) {
        gMean[gi * 4] += shifts[v];
        gShift[gi] = shifts[v];
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

  // Bootstrap tables: per spec group, rows (Float64Array n×4), donor → row lookup.
  const bootRows: Float64Array[] = [];
  const bootLookup: Int32Array[] = [];
  const armDonors = [0, 0];
  if (spec.method === 'bootstrap') {
    for (let a = 0; a < 2; a++) armDonors[a] = model.subjectsPerArm[model.arms.indexOf(spec.arms[a])];
    groups.forEach((g, gi) => {
      bootRows.push(Float64Array.from(g.rows!));
      const look = new Int32Array(armDonors[gi % 2]).fill(-1);
      g.donors!.forEach((d, j) => (look[d] = j));
      bootLookup.push(look);
    });
  }

  const bootstrap = spec.method === 'bootstrap';

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
    const kern = G <= KERNEL_MAX_GROUPS ? trialKernel() : undefined;
    if (kern) {
      if (!bootstrap) for (let gi = 0; gi < G; gi++) packGroup(kern.coef, gi, gMean, gF, gL);
      for (let i0 = 0; i0 < n; i0 += SUB) {
        const i1 = Math.min(n, i0 + SUB);
        kern.normals(kRow, start + i0, i1 - i0, 'z');
        if (bootstrap) {
          bootstrapRows(i0, i1, start, sFirst, V, nPerArm, kern.z, donors, bootLookup, bootRows, kBootRow, gShift, gJit, out);
          continue;
        }
        const s0 = Math.floor((start + i0) / V);
        kern.normals(kSubject, s0, Math.floor((start + i1 - 1) / V) - s0 + 1, 'w');
        const r0 = start + i0;
        for (let v = 0; v < V; v++) {
          // subjects s with s·V + v in [r0, start + i1), split by arm
          const sA = Math.max(0, Math.ceil((r0 - v) / V));
          const sB = Math.floor((start + i1 - 1 - v) / V);
          const mid = Math.min(sB, nPerArm - 1);
          if (mid >= sA) kern.mvn(v * 2, sA * V + v - r0, mid - sA + 1, V, sA - s0);
          const sC = Math.max(sA, nPerArm);
          if (sB >= sC) kern.mvn(v * 2 + 1, sC * V + v - r0, sB - sC + 1, V, sC - s0);
        }
        const len = i1 - i0;
        sbp.set(kern.sbp.subarray(0, len), i0);
        dbp.set(kern.dbp.subarray(0, len), i0);
        hr.set(kern.hr.subarray(0, len), i0);
        temp.set(kern.temp.subarray(0, len), i0);
        codeRows(i0, i1, start, sFirst, V, nPerArm, out);
      }
    } else {
      jsRows();
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

    // The JS reference: in steps of SUB rows, so that the normals stay in cache between drawing and using them.
    function jsRows(): void {
      for (let i0 = 0; i0 < n; i0 += SUB) {
        const i1 = Math.min(n, i0 + SUB);
        fillNormals4(kRow, start + i0, i1 - i0, zRow);
        if (bootstrap) {
          bootstrapRows(i0, i1, start, sFirst, V, nPerArm, zRow, donors, bootLookup, bootRows, kBootRow, gShift, gJit, out);
        } else {
          const s0 = Math.floor((start + i0) / V);
          fillNormals4(kSubject, s0, Math.floor((start + i1 - 1) / V) - s0 + 1, zSubj);
          mvnRows(i0, i1, start, sFirst, s0, V, nPerArm, zRow, zSubj, gMean, gF, gL, out);
        }
      }
    }
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

const LO0 = CLINICAL_RANGES.SystolicBP.min, HI0 = CLINICAL_RANGES.SystolicBP.max;
const LO1 = CLINICAL_RANGES.DiastolicBP.min, HI1 = CLINICAL_RANGES.DiastolicBP.max;
const LO2 = CLINICAL_RANGES.HeartRate.min, HI2 = CLINICAL_RANGES.HeartRate.max;
const LO3 = CLINICAL_RANGES.Temperature.min, HI3 = CLINICAL_RANGES.Temperature.max;

/** Clamps to the clinical ranges and rounds (integers; temperature to 0.1) row i. */
function putRow(o: RowOut, i: number, x0: number, x1: number, x2: number, x3: number): void {
  o.sbp[i] = Math.round(x0 < LO0 ? LO0 : x0 > HI0 ? HI0 : x0);
  o.dbp[i] = Math.round(x1 < LO1 ? LO1 : x1 > HI1 ? HI1 : x1);
  o.hr[i] = Math.round(x2 < LO2 ? LO2 : x2 > HI2 ? HI2 : x2);
  o.temp[i] = Math.round((x3 < LO3 ? LO3 : x3 > HI3 ? HI3 : x3) * 10) / 10;
}

/** Rows per step of batch() (the kernel's buffer size). */
const SUB = KERNEL_ROWS;

/** Arm, visit and subject codes of rows i0 … i1 − 1 of the batch from row `start`. */
function codeRows(i0: number, i1: number, start: number, sFirst: number, V: number, nPerArm: number, out: RowOut): void {
  const { armCodes, visitCodes, subjCodes } = out;
  let s = Math.floor((start + i0) / V);
  let v = start + i0 - s * V;
  for (let i = i0; i < i1; i++) {
    armCodes[i] = s < nPerArm ? 0 : 1;
    visitCodes[i] = v;
    subjCodes[i] = s - sFirst;
    if (++v === V) {
      v = 0;
      s++;
    }
  }
}

/**
 * mvn / rules rows i0 … i1 − 1 of the batch from row `start` (subject codes from sFirst):
 * x = mean_g + F_g w_s + L_g z_r. z: 4 normals per row from i0; w: 4 per subject from sW.
 * Group by group (visit, arm), so that its 36 coefficients stay in locals.
 */
function mvnRows(
  i0: number, i1: number, start: number, sFirst: number, sW: number, V: number, nPerArm: number, z: Float64Array, w: Float64Array,
  gMean: Float64Array, gF: Float64Array, gL: Float64Array, out: RowOut,
): void {
  const r0 = start + i0;
  const r1 = start + i1; // exclusive
  for (let v = 0; v < V; v++) {
    // subjects s with s·V + v in [r0, r1)
    const sA = Math.ceil((r0 - v) / V);
    const sB = Math.floor((r1 - 1 - v) / V);
    if (sB >= sA && sA < nPerArm) mvnGroup(Math.max(sA, 0), Math.min(sB, nPerArm - 1), v, 0, start, sFirst, sW, V, z, w, i0, gMean, gF, gL, out);
    if (sB >= sA && sB >= nPerArm) mvnGroup(Math.max(sA, nPerArm), sB, v, 1, start, sFirst, sW, V, z, w, i0, gMean, gF, gL, out);
  }
}

/** mvnRows for the subjects sA … sB of one arm at one visit. */
function mvnGroup(
  sA: number, sB: number, v: number, a: number, start: number, sFirst: number, sW: number, V: number, z: Float64Array, w: Float64Array,
  i0: number, gMean: Float64Array, gF: Float64Array, gL: Float64Array, out: RowOut,
): void {
  const { armCodes, visitCodes, subjCodes } = out;
  const gi = v * 2 + a;
  const m = gi * 4;
  const l = gi * 16;
  const m0 = gMean[m], m1 = gMean[m + 1], m2 = gMean[m + 2], m3 = gMean[m + 3];
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
    putRow(
      out,
      i,
      m0 + f0 * w0 + f1 * w1 + f2 * w2 + f3 * w3 + c0 * z0 + c1 * z1 + c2 * z2 + c3 * z3,
      m1 + f4 * w0 + f5 * w1 + f6 * w2 + f7 * w3 + c4 * z0 + c5 * z1 + c6 * z2 + c7 * z3,
      m2 + f8 * w0 + f9 * w1 + f10 * w2 + f11 * w3 + c8 * z0 + c9 * z1 + c10 * z2 + c11 * z3,
      m3 + f12 * w0 + f13 * w1 + f14 * w2 + f15 * w3 + c12 * z0 + c13 * z1 + c14 * z2 + c15 * z3,
    );
    armCodes[i] = a;
    visitCodes[i] = v;
    subjCodes[i] = s - sFirst;
  }
}

/** bootstrap rows i0 … i1 − 1: the donor's row of the group (or a random one), shifted, plus jitter. */
function bootstrapRows(
  i0: number, i1: number, start: number, sFirst: number, V: number, nPerArm: number, z: Float64Array, donors: number[],
  bootLookup: Int32Array[], bootRows: Float64Array[], kBootRow: number, gShift: Float64Array, gJit: Float64Array, out: RowOut,
): void {
  const { armCodes, visitCodes, subjCodes } = out;
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
    putRow(out, i, br[b] + gShift[gi] + gJit[m] * z[o], br[b + 1] + gJit[m + 1] * z[o + 1], br[b + 2] + gJit[m + 2] * z[o + 2], br[b + 3] + gJit[m + 3] * z[o + 3]);
    armCodes[i] = a;
    visitCodes[i] = v;
    subjCodes[i] = s - sFirst;
    if (++v === V) {
      v = 0;
      s++;
    }
  }
}

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
