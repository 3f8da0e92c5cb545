/**
 * The statistical model behind `trial` jobs: parse a vitals CSV, fit a model, or build one from
 * published population norms. Pure (no I/O): callers read files or request bodies themselves.
 *
 * ## Model
 *
 * For subject i in arm a at visit v, the vector of vitals x = (SBP, DBP, HR, Temp) is
 *
 *     x_iv = μ_va + D_va u_i + e_iv,   u_i ~ N(0, R_u),   e_iv ~ N(0, Σ_e,va),   independent
 *
 * with D_va = diag(standard deviations of the group). The total covariance of a group is
 * Σ_va = D_va R_u D_va + Σ_e,va, and two visits v, w of one subject have covariance D_va R_u D_wa.
 * This is a multivariate random-intercept model on the standardised scale: R_u's diagonal is
 * each vital's intra-subject correlation (the correlation of a subject's repeat measurements, the
 * same for every pair of visits), its off-diagonal the between-subject cross-correlations.
 * Standardising keeps that correlation right when groups' variances differ (a pooled covariance
 * would overstate the correlation of low-variance visits).
 *
 * ## Estimators (see also docs/DATA.md)
 *
 * - μ_va, Σ_va: the sample mean and the unbiased (n − 1) sample covariance of the group's rows.
 * - R_u (subject-level component): method of moments. With z_iv = D̂_va⁻¹ (x_iv − μ̂_va) a
 *   subject's standardised deviation from its group mean, E[z_iv z_iwᵀ] = R_u for v ≠ w. So R̂_u
 *   is the pooled cross-product over every pair of distinct visits that a subject has,
 *       R̂_u = Σ_i Σ_{v<w} ½(z_iv z_iwᵀ + z_iw z_ivᵀ) / (number of such pairs),
 *   then projected onto the positive-semidefinite cone (negative eigenvalues set to 0). Subjects
 *   with a single visit add nothing; with no pairs at all R̂_u = 0 (independent visits).
 * - Σ_e,va = Σ̂_va − γ D̂_va R̂_u D̂_va, where γ ∈ [0, 1] is the largest value (bisection) for
 *   which every group's residual, scaled to unit diagonal, has smallest eigenvalue ≥ 0.01. γ = 1
 *   unless the data are very unbalanced; the model records it. This keeps each group's total
 *   covariance exactly as fitted.
 * - If a covariance is not positive-definite (e.g. a constant column), its diagonal is jittered
 *   (1e−10 × mean variance, ×10 until Cholesky succeeds) and the jitter recorded.
 */
import { choleskyJitter, clipEigen, minScaledEigen, psdSqrt, symmetrize, zeros } from '../../data/linalg.js';
import type { ModelNames } from './spec.js';

/** The table's columns, in order. */
export const TRIAL_COLUMNS = ['SubjectID', 'TreatmentArm', 'VisitName', 'SystolicBP', 'DiastolicBP', 'HeartRate', 'Temperature'] as const;
/** The four vitals, in model order. */
export const VITALS = ['SystolicBP', 'DiastolicBP', 'HeartRate', 'Temperature'] as const;
export type Vital = (typeof VITALS)[number];
export const K = 4;

/** Output ranges: generated values are clamped into them, then rounded to `decimals`. */
export const CLINICAL_RANGES: Readonly<Record<Vital, { min: number; max: number; decimals: number }>> = {
  SystolicBP: { min: 95, max: 200, decimals: 0 },
  DiastolicBP: { min: 55, max: 130, decimals: 0 },
  HeartRate: { min: 50, max: 120, decimals: 0 },
  Temperature: { min: 35.0, max: 40.0, decimals: 1 },
};

/** Input plausibility limits for a user's CSV: values outside are reported as bad lines. */
export const INPUT_LIMITS: Readonly<Record<Vital, { min: number; max: number }>> = {
  SystolicBP: { min: 40, max: 300 },
  DiastolicBP: { min: 20, max: 200 },
  HeartRate: { min: 20, max: 250 },
  Temperature: { min: 30, max: 45 },
};

export interface VitalsRow {
  SubjectID: string;
  TreatmentArm: string;
  VisitName: string;
  SystolicBP: number;
  DiastolicBP: number;
  HeartRate: number;
  Temperature: number;
}
/** A row of the pilot data (or of a user's CSV). */
export type PilotRow = VitalsRow;

export interface TrialGroupModel {
  visit: string;
  arm: string;
  n: number;
  /** Means of VITALS, in order. */
  mean: number[];
  /** Standard deviations of VITALS. */
  sd: number[];
  /** Total covariance (4×4, row-major). */
  cov: number[];
  /** The subject effect's loading in this group, D_va S_u (S_u Sᵀ_u = R_u), 4×4 row-major. */
  subjectFactor: number[];
  /** Within-subject (residual) covariance Σ_e = cov − D R_u D. */
  residualCov: number[];
  /** Lower-triangular Cholesky factor of residualCov (row-major). */
  residualChol: number[];
  /** Diagonal jitter that was needed for residualChol (0 normally). */
  jitter: number;
  /** bootstrap: the group's rows, flattened as [SBP, DBP, HR, Temp] × n (only when fitted with keepRows). */
  rows?: number[];
  /** bootstrap: per row, the arm-local index (0 … subjectsPerArm[arm] − 1) of the subject it belongs to. */
  donors?: number[];
}

export interface TrialModel {
  format: 'shardflow.trial-model';
  version: 1;
  /** 'data' = fitted with fitModel; 'rules' = rulesModel (population norms). */
  source: 'data' | 'rules';
  columns: Vital[];
  visits: string[];
  arms: string[];
  /** One per (visit, arm), visit-major: groups[v * arms.length + a]. */
  groups: TrialGroupModel[];
  subject: {
    /** R_u actually used (after the γ shrink; standardised units), 4×4 row-major. */
    corr: number[];
    /** A square root S_u of corr (S Sᵀ = corr; symmetric, from the eigen-decomposition). */
    factor: number[];
    /** The γ applied to the moment estimate. */
    shrink: number;
    /** Number of (subject, visit pair) cross-products the estimate pooled. */
    pairs: number;
  };
  /** Distinct subjects per arm (bootstrap donors). */
  subjectsPerArm: number[];
  nRows: number;
  nSubjects: number;
  /** true when the model carries rows for the bootstrap method. */
  hasRows: boolean;
}

export class ModelFitError extends Error {
  constructor(readonly errors: { path: string; message: string }[]) {
    super(`cannot fit model: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
    this.name = 'ModelFitError';
  }
}

// ---------------------------------------------------------------------------------------------
// CSV

export interface CsvLineError {
  /** 1-based physical line number (the header is line 1). */
  line: number;
  message: string;
}

/** Splits CSV text (RFC 4180: quotes, doubled quotes, CRLF, quoted newlines) into records with their first line number. */
function* csvRecords(text: string): Generator<{ line: number; fields: string[]; unterminated?: boolean }> {
  let i = 0;
  let line = 1;
  const n = text.length;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    let field = '';
    let unterminated = false;
    for (;;) {
      if (i < n && text[i] === '"') {
        i++;
        let closed = false;
        while (i < n) {
          const c = text[i];
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
            } else {
              i++;
              closed = true;
              break;
            }
          } else {
            if (c === '\n') line++;
            field += c;
            i++;
          }
        }
        if (!closed) unterminated = true;
        // Anything after the closing quote up to the delimiter is kept verbatim.
        while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') field += text[i++];
      } else {
        let j = i;
        while (j < n && text[j] !== ',' && text[j] !== '\n' && text[j] !== '\r') j++;
        field += text.slice(i, j);
        i = j;
      }
      fields.push(field);
      field = '';
      if (i < n && text[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    if (text[i] === '\r') i++;
    if (text[i] === '\n') {
      i++;
      line++;
    }
    yield { line: startLine, fields, unterminated };
  }
}

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parses a vitals CSV. The header must name every column of TRIAL_COLUMNS exactly (case-sensitive,
 * any order; other columns are ignored). Blank lines are skipped. Each bad line is reported with
 * its line number and the line is left out; also reported: a subject seen in two arms, and a
 * (SubjectID, VisitName) seen twice.
 */
export function parseVitalsCsv(text: string): { rows: VitalsRow[]; errors: CsvLineError[] } {
  const rows: VitalsRow[] = [];
  const errors: CsvLineError[] = [];
  const it = csvRecords(text);
  let header: { line: number; fields: string[] } | undefined;
  // (Not for-of: breaking out of it would close the generator.)
  for (let next = it.next(); !next.done; next = it.next()) {
    const rec = next.value;
    if (rec.fields.length === 1 && rec.fields[0].trim() === '') continue;
    header = rec;
    break;
  }
  if (!header) return { rows, errors: [{ line: 1, message: 'empty CSV: expected a header line' }] };
  const names = header.fields.map((f) => f.trim());
  const idx: number[] = [];
  const missing: string[] = [];
  for (const col of TRIAL_COLUMNS) {
    const at = names.indexOf(col);
    if (at < 0) missing.push(col);
    else if (names.indexOf(col, at + 1) >= 0) errors.push({ line: header.line, message: `column "${col}" appears twice` });
    idx.push(at);
  }
  if (missing.length) {
    errors.push({ line: header.line, message: `missing column(s): ${missing.join(', ')} (header must be exactly: ${TRIAL_COLUMNS.join(',')})` });
    return { rows, errors };
  }
  if (errors.length) return { rows, errors };

  const armOf = new Map<string, { arm: string; line: number }>();
  const seenVisit = new Map<string, number>();
  for (const rec of it) {
    if (rec.fields.length === 1 && rec.fields[0].trim() === '') continue;
    const problems: string[] = [];
    if (rec.unterminated) problems.push('unterminated quoted field');
    if (rec.fields.length !== names.length) problems.push(`expected ${names.length} fields, got ${rec.fields.length}`);
    const get = (c: number) => (rec.fields[idx[c]] ?? '').trim();
    const subject = get(0);
    const arm = get(1);
    const visit = get(2);
    if (!subject) problems.push('SubjectID is empty');
    if (!arm) problems.push('TreatmentArm is empty');
    if (!visit) problems.push('VisitName is empty');
    const vals: number[] = [];
    for (let k = 0; k < K; k++) {
      const name = VITALS[k];
      const raw = get(3 + k);
      if (!NUMBER_RE.test(raw)) {
        problems.push(raw === '' ? `${name} is empty` : `${name} is not a number: "${raw.slice(0, 40)}"`);
        vals.push(NaN);
        continue;
      }
      const x = Number(raw);
      const lim = INPUT_LIMITS[name];
      if (!(x >= lim.min && x <= lim.max)) problems.push(`${name} ${x} is outside the plausible range ${lim.min}–${lim.max}`);
      vals.push(x);
    }
    if (!problems.length) {
      const prev = armOf.get(subject);
      if (prev && prev.arm !== arm) problems.push(`subject "${subject}" is in arm "${prev.arm}" on line ${prev.line} and in arm "${arm}" here`);
      const key = `${subject}\u0000${visit}`;
      const dup = seenVisit.get(key);
      if (dup !== undefined) problems.push(`subject "${subject}" already has visit "${visit}" (line ${dup})`);
      if (!problems.length) {
        if (!prev) armOf.set(subject, { arm, line: rec.line });
        seenVisit.set(key, rec.line);
      }
    }
    if (problems.length) {
      errors.push({ line: rec.line, message: problems.join('; ') });
      continue;
    }
    rows.push({
      SubjectID: subject,
      TreatmentArm: arm,
      VisitName: visit,
      SystolicBP: vals[0],
      DiastolicBP: vals[1],
      HeartRate: vals[2],
      Temperature: vals[3],
    });
  }
  return { rows, errors };
}

// ---------------------------------------------------------------------------------------------
// Fitting

export interface FitOptions {
  /** Visit order; default: by each visit's mean position within its subjects' rows, then first appearance. */
  visits?: string[];
  /** Arm order; default: first appearance, with placebo-like names (placebo, control, vehicle, sham) last. */
  arms?: string[];
  /** Keep the rows in the model for the bootstrap method (default true). */
  keepRows?: boolean;
  /** Smallest allowed (visit, arm) group (default 5). */
  minGroupSize?: number;
}

const PLACEBO_RE = /placebo|control|vehicle|sham|standard of care/i;

function orderArms(rows: VitalsRow[]): string[] {
  const first: string[] = [];
  const seen = new Set<string>();
  for (const r of rows) if (!seen.has(r.TreatmentArm)) (seen.add(r.TreatmentArm), first.push(r.TreatmentArm));
  return [...first.filter((a) => !PLACEBO_RE.test(a)), ...first.filter((a) => PLACEBO_RE.test(a))];
}

function orderVisits(rows: VitalsRow[]): string[] {
  const rankSum = new Map<string, { sum: number; n: number; first: number }>();
  const posInSubject = new Map<string, number>();
  rows.forEach((r, i) => {
    const p = posInSubject.get(r.SubjectID) ?? 0;
    posInSubject.set(r.SubjectID, p + 1);
    const e = rankSum.get(r.VisitName);
    if (e) (e.sum += p, e.n++);
    else rankSum.set(r.VisitName, { sum: p, n: 1, first: i });
  });
  return [...rankSum.entries()]
    .sort((a, b) => a[1].sum / a[1].n - b[1].sum / b[1].n || a[1].first - b[1].first)
    .map(([v]) => v);
}

function covOf(xs: number[][], mean: number[]): number[] {
  const c = zeros(K);
  const n = xs.length;
  for (const x of xs) for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) c[i * K + j] += (x[i] - mean[i]) * (x[j] - mean[j]);
  for (let i = 0; i < K * K; i++) c[i] /= Math.max(1, n - 1);
  return c;
}

/** Guarantees a usable total covariance: variance floor and PD (eigenvalues ≥ 1e−6 × variance). */
function regularizeCov(c: number[]): number[] {
  const out = c.slice();
  for (let i = 0; i < K; i++) if (!(out[i * K + i] > 1e-6)) out[i * K + i] = 1e-6;
  if (minScaledEigen(out, K) >= 1e-6) return out;
  // Shrink correlations towards 0 until PD: c_ij *= (1 − λ) for i ≠ j.
  for (let lambda = 0.01; lambda <= 1; lambda += 0.01) {
    const s = out.slice();
    for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) if (i !== j) s[i * K + j] *= 1 - lambda;
    if (minScaledEigen(s, K) >= 1e-6) return s;
  }
  const d = zeros(K);
  for (let i = 0; i < K; i++) d[i * K + i] = out[i * K + i];
  return d;
}

function finishModel(
  source: 'data' | 'rules',
  visits: string[],
  arms: string[],
  stats: { n: number; mean: number[]; cov: number[]; rows?: number[]; donors?: number[] }[],
  subjectCovRaw: number[],
  pairs: number,
  subjectsPerArm: number[],
  nRows: number,
): TrialModel {
  const covs = stats.map((s) => regularizeCov(s.cov));
  const su = clipEigen(subjectCovRaw, K, 0);
  const scaled = (c: number[], g: number) => c.map((x, i) => x - g * su[i] * Math.sqrt(c[Math.floor(i / K) * (K + 1)] * c[(i % K) * (K + 1)]));
  const ok = (g: number) => covs.every((c) => minScaledEigen(scaled(c, g), K, c) >= 0.01);
  let shrink = 1;
  if (!ok(1)) {
    let lo = 0;
    let hi = 1;
    for (let it = 0; it < 40; it++) {
      const mid = (lo + hi) / 2;
      if (ok(mid)) lo = mid;
      else hi = mid;
    }
    shrink = lo;
  }
  const subjectCorr = su.map((x) => x * shrink);
  const S = psdSqrt(subjectCorr, K);
  const groups: TrialGroupModel[] = stats.map((s, gi) => {
    const cov = covs[gi];
    const residualCov = symmetrize(scaled(cov, shrink), K);
    const sd = [0, 1, 2, 3].map((i) => Math.sqrt(cov[i * K + i]));
    const { l, jitter } = choleskyJitter(residualCov, K);
    const g: TrialGroupModel = {
      visit: visits[Math.floor(gi / arms.length)],
      arm: arms[gi % arms.length],
      n: s.n,
      mean: s.mean,
      sd,
      cov,
      subjectFactor: S.map((x, i) => x * sd[Math.floor(i / K)]),
      residualCov,
      residualChol: l,
      jitter,
    };
    if (s.rows) {
      g.rows = s.rows;
      g.donors = s.donors;
    }
    return g;
  });
  return {
    format: 'shardflow.trial-model',
    version: 1,
    source,
    columns: [...VITALS],
    visits,
    arms,
    groups,
    subject: { corr: subjectCorr, factor: S, shrink, pairs },
    subjectsPerArm,
    nRows,
    nSubjects: subjectsPerArm.reduce((a, b) => a + b, 0),
    hasRows: stats.every((s) => s.rows !== undefined),
  };
}

/**
 * Fits a TrialModel to rows grouped by (VisitName, TreatmentArm). Throws ModelFitError (with every
 * problem) when the data cannot support a model: fewer than 2 arms, a (visit, arm) group smaller
 * than minGroupSize, a subject in two arms, a duplicate (subject, visit).
 */
export function fitModel(rows: VitalsRow[], opts: FitOptions = {}): TrialModel {
  const keepRows = opts.keepRows ?? true;
  const minGroupSize = opts.minGroupSize ?? 5;
  const errors: { path: string; message: string }[] = [];
  const arms = opts.arms ?? orderArms(rows);
  const visits = opts.visits ?? orderVisits(rows);
  if (arms.length < 2) errors.push({ path: 'TreatmentArm', message: `need at least 2 arms, found ${arms.length}` });
  if (visits.length < 1) errors.push({ path: 'VisitName', message: 'no visits' });
  const armIx = new Map(arms.map((a, i) => [a, i]));
  const visitIx = new Map(visits.map((v, i) => [v, i]));
  const A = arms.length;
  const G = visits.length * A;

  // Subjects: arm-local index, per-visit rows.
  const subjects = new Map<string, { arm: number; local: number; visitRows: (number[] | undefined)[] }>();
  const subjectsPerArm = new Array<number>(A).fill(0);
  const groupRows: number[][][] = Array.from({ length: G }, () => []);
  const groupDonors: number[][] = Array.from({ length: G }, () => []);
  let used = 0;
  for (const r of rows) {
    const a = armIx.get(r.TreatmentArm);
    const v = visitIx.get(r.VisitName);
    if (a === undefined || v === undefined) continue; // not a requested arm/visit
    let s = subjects.get(r.SubjectID);
    if (!s) {
      s = { arm: a, local: subjectsPerArm[a]++, visitRows: new Array(visits.length) };
      subjects.set(r.SubjectID, s);
    } else if (s.arm !== a) {
      errors.push({ path: 'TreatmentArm', message: `subject "${r.SubjectID}" appears in arms "${arms[s.arm]}" and "${r.TreatmentArm}"` });
      continue;
    }
    if (s.visitRows[v]) {
      errors.push({ path: 'VisitName', message: `subject "${r.SubjectID}" has visit "${r.VisitName}" twice` });
      continue;
    }
    const x = [r.SystolicBP, r.DiastolicBP, r.HeartRate, r.Temperature];
    if (!x.every(Number.isFinite)) {
      errors.push({ path: 'row', message: `subject "${r.SubjectID}" visit "${r.VisitName}" has a non-numeric vital` });
      continue;
    }
    s.visitRows[v] = x;
    groupRows[v * A + a].push(x);
    groupDonors[v * A + a].push(s.local);
    used++;
  }
  for (let g = 0; g < G && errors.length < 50; g++) {
    if (groupRows[g].length < minGroupSize)
      errors.push({
        path: 'groups',
        message: `group (VisitName="${visits[Math.floor(g / A)]}", TreatmentArm="${arms[g % A]}") has ${groupRows[g].length} row(s); at least ${minGroupSize} are needed`,
      });
  }
  if (errors.length) throw new ModelFitError(errors.slice(0, 50));

  const stats = groupRows.map((xs, g) => {
    const mean = [0, 0, 0, 0];
    for (const x of xs) for (let i = 0; i < K; i++) mean[i] += x[i] / xs.length;
    return {
      n: xs.length,
      mean,
      cov: covOf(xs, mean),
      rows: keepRows ? xs.flat() : undefined,
      donors: keepRows ? groupDonors[g] : undefined,
    };
  });

  // R_u by pooled cross-products of standardised deviations across distinct visits of a subject.
  const su = zeros(K);
  let pairs = 0;
  for (const s of subjects.values()) {
    const devs: number[][] = [];
    for (let v = 0; v < visits.length; v++) {
      const x = s.visitRows[v];
      if (!x) continue;
      const { mean: m, cov: c } = stats[v * A + s.arm];
      devs.push([0, 1, 2, 3].map((k) => (c[k * (K + 1)] > 0 ? (x[k] - m[k]) / Math.sqrt(c[k * (K + 1)]) : 0)));
    }
    for (let p = 0; p < devs.length; p++)
      for (let q = p + 1; q < devs.length; q++) {
        const dp = devs[p];
        const dq = devs[q];
        for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) su[i * K + j] += 0.5 * (dp[i] * dq[j] + dq[i] * dp[j]);
        pairs++;
      }
  }
  if (pairs > 0) for (let i = 0; i < K * K; i++) su[i] /= pairs;

  return finishModel('data', visits, arms, stats, su, pairs, subjectsPerArm, used);
}

// ---------------------------------------------------------------------------------------------
// Population norms

/**
 * Adult resting vitals, rounded from published population summaries (sources in docs/DATA.md).
 * `icc` is the share of each vital's variance that is between-subject (a subject's repeat
 * measurements correlate by about this much); `corr` is the total correlation matrix, and the
 * between-subject part is given the same correlation structure.
 */
export const POPULATION_NORMS = {
  mean: [125, 78, 72, 36.8],
  sd: [15, 10, 10, 0.3],
  corr: [
    [1, 0.65, 0.15, 0.05],
    [0.65, 1, 0.2, 0.05],
    [0.15, 0.2, 1, 0.2],
    [0.05, 0.05, 0.2, 1],
  ],
  icc: [0.65, 0.6, 0.5, 0.3],
} as const;

/** A model from POPULATION_NORMS for any visits and arms: every group alike, no data, no rows. */
export function rulesModel(visits: readonly string[], arms: readonly string[]): TrialModel {
  const { mean, sd, corr, icc } = POPULATION_NORMS;
  const cov = zeros(K);
  const su = zeros(K);
  for (let i = 0; i < K; i++)
    for (let j = 0; j < K; j++) {
      cov[i * K + j] = corr[i][j] * sd[i] * sd[j];
      su[i * K + j] = corr[i][j] * Math.sqrt(icc[i] * icc[j]);
    }
  const stats = Array.from({ length: visits.length * arms.length }, () => ({ n: 0, mean: [...mean], cov: cov.slice() }));
  return finishModel('rules', [...visits], [...arms], stats, su, 0, arms.map(() => 0), 0);
}

/** The visits and arms of a model, for spec resolution and checks. */
export function modelNames(m: TrialModel): ModelNames {
  return { visits: m.visits, arms: m.arms };
}

/** A model without bootstrap rows (for listing / small storage). */
export function stripRows(m: TrialModel): TrialModel {
  return { ...m, hasRows: false, groups: m.groups.map(({ rows: _r, donors: _d, ...g }) => g) };
}

/** Structural check of a model read back from storage (JSON). Throws on a malformed model. */
export function assertTrialModel(m: unknown): asserts m is TrialModel {
  const x = m as TrialModel;
  if (!x || x.format !== 'shardflow.trial-model' || x.version !== 1) throw new Error('not a shardflow trial model (format/version)');
  if (!Array.isArray(x.visits) || !Array.isArray(x.arms) || !Array.isArray(x.groups) || x.groups.length !== x.visits.length * x.arms.length)
    throw new Error('trial model: groups do not match visits × arms');
  for (const g of x.groups) {
    if (g.mean?.length !== K || g.residualChol?.length !== K * K || g.subjectFactor?.length !== K * K || g.sd?.length !== K) throw new Error('trial model: malformed group');
  }
  if (x.subject?.factor?.length !== K * K) throw new Error('trial model: malformed subject component');
}
