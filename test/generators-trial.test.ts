import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { digestRange } from '../src/data/digest.js';
import {
  CLINICAL_RANGES,
  ModelFitError,
  TRIAL_COLUMNS,
  TRIAL_DEFAULTS,
  VITALS,
  checkTrialSpec,
  createTrialTable,
  fitModel,
  parseVitalsCsv,
  resolveTrialSpec,
  rulesModel,
  trialGenerator,
  trialPlan,
  type ResolvedTrialSpec,
  type TrialModel,
} from '../src/kinds/trial/lib.js';
import { PILOT_VITALS_CSV_PATH, pilotModelFromCsv } from '../src/kinds/trial/pilot.js';
import { cdfDiff } from '../src/kinds/trial/truncated.js';
import { stringAt, type Batch, type StringColumn, type TableGenerator } from '../src/data/batch.js';

const pilotCsv = readFileSync(PILOT_VITALS_CSV_PATH, 'utf8');
const pilot = pilotModelFromCsv(pilotCsv);

/** Rows as plain tuples (strings decoded), for equality checks. */
function decode(b: Batch): (string | number)[][] {
  const out: (string | number)[][] = [];
  for (let i = 0; i < b.length; i++)
    out.push(
      b.columns.map((c) => {
        if (c instanceof Int32Array || c instanceof Float64Array) return c[i];
        const s = c as StringColumn;
        return stringAt(s, i);
      }),
    );
  return out;
}

function collect(gen: TableGenerator, sizes: number[]): (string | number)[][] {
  const rows: (string | number)[][] = [];
  let s = 0;
  let k = 0;
  while (s < gen.rows) {
    const e = Math.min(gen.rows, s + sizes[k++ % sizes.length]);
    const b = gen.batch(s, e);
    assert.equal(b.start, s);
    assert.equal(b.length, e - s);
    rows.push(...decode(b));
    s = e;
  }
  return rows;
}

/** Column views of a whole table. */
function columns(gen: TableGenerator, batchRows = 100_000) {
  const n = gen.rows;
  const arm = new Uint8Array(n);
  const visit = new Uint8Array(n);
  const v = VITALS.map(() => new Float64Array(n));
  for (let s = 0; s < n; s += batchRows) {
    const b = gen.batch(s, Math.min(n, s + batchRows));
    (b.columns[1] as Extract<StringColumn, { kind: 'dict' }>).codes.forEach((c, i) => (arm[s + i] = c));
    (b.columns[2] as Extract<StringColumn, { kind: 'dict' }>).codes.forEach((c, i) => (visit[s + i] = c));
    for (let k = 0; k < 4; k++) v[k].set(b.columns[3 + k] as Int32Array | Float64Array, s);
  }
  return { arm, visit, v };
}

function groupMoments(c: ReturnType<typeof columns>, visitIx: number, armIx: number) {
  const idx: number[] = [];
  for (let i = 0; i < c.arm.length; i++) if (c.arm[i] === armIx && c.visit[i] === visitIx) idx.push(i);
  const n = idx.length;
  const mean = [0, 1, 2, 3].map((k) => idx.reduce((s, i) => s + c.v[k][i], 0) / n);
  const cov = new Array(16).fill(0);
  for (const i of idx) for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) cov[a * 4 + b] += (c.v[a][i] - mean[a]) * (c.v[b][i] - mean[b]);
  return { n, mean, cov: cov.map((x) => x / (n - 1)) };
}

const corrOf = (cov: number[], i: number, j: number) => cov[i * 4 + j] / Math.sqrt(cov[i * 5] * cov[j * 5]);

test('defaults, spec checks and row counts', () => {
  const spec = resolveTrialSpec({ nPerArm: 10 });
  assert.deepEqual(spec.visits, ['Baseline', 'Week 4', 'Week 8', 'Week 12']);
  assert.deepEqual(spec.arms, ['Active', 'Placebo']);
  assert.equal(spec.targetEffect, -5);
  assert.equal(spec.jitter, 0.05);
  assert.deepEqual(pilot.visits, [...TRIAL_DEFAULTS.visits], 'default visits match the pilot data');
  assert.deepEqual(pilot.arms, [...TRIAL_DEFAULTS.arms]);
  const gen = createTrialTable(spec, pilot);
  assert.equal(gen.table, 'vitals');
  assert.deepEqual(
    gen.schema.map((c) => c.name),
    [...TRIAL_COLUMNS],
  );
  assert.equal(gen.rows, 2 * 10 * 4);
  const bad = checkTrialSpec(resolveTrialSpec({ visits: ['Baseline', 'Week 99'], nPerArm: 0, seed: -1 }), pilot);
  assert.deepEqual(bad.map((i) => i.path).sort(), ['nPerArm', 'seed', 'visits.1']);
  assert.throws(() => createTrialTable(resolveTrialSpec({ arms: ['Drug', 'Placebo'] }), pilot), /no arm "Drug"/);
  // A user model's own visit names become the defaults when the spec gives none.
  assert.deepEqual(resolveTrialSpec({ method: 'mvn' }, { visits: ['V1', 'V2'], arms: ['Drug', 'Control'] }).visits, ['V1', 'V2']);
});

test('every subject has every visit; IDs are stable and padded by the total subject count', () => {
  const gen = createTrialTable(resolveTrialSpec({ nPerArm: 3, seed: 5 }), pilot);
  const rows = collect(gen, [5]);
  assert.equal(rows.length, 24);
  assert.deepEqual(
    rows.slice(0, 4).map((r) => [r[0], r[1], r[2]]),
    [
      ['S000001', 'Active', 'Baseline'],
      ['S000001', 'Active', 'Week 4'],
      ['S000001', 'Active', 'Week 8'],
      ['S000001', 'Active', 'Week 12'],
    ],
  );
  assert.deepEqual(rows[12].slice(0, 3), ['S000004', 'Placebo', 'Baseline']);
  const big = createTrialTable(resolveTrialSpec({ method: 'rules', nPerArm: 5_000_000 }), rulesModel(TRIAL_DEFAULTS.visits, TRIAL_DEFAULTS.arms));
  const last = decode(big.batch(big.rows - 1, big.rows))[0];
  assert.deepEqual(last.slice(0, 3), ['S10000000', 'Placebo', 'Week 12']);
  assert.equal(decode(big.batch(0, 1))[0][0], 'S00000001');
});

for (const method of ['mvn', 'bootstrap', 'rules'] as const) {
  test(`${method}: rows are identical whatever the batch boundaries; digest too`, () => {
    const spec = resolveTrialSpec({ method, nPerArm: 2500, seed: 2 ** 40 + 17 });
    const gen = trialGenerator(spec, pilot);
    const whole = collect(gen, [gen.rows]);
    assert.deepEqual(collect(gen, [7]), whole);
    assert.deepEqual(collect(gen, [919, 1, 4096, 13]), whole);
    const again = trialGenerator(spec, pilot); // a fresh generator (another worker) gives the same
    assert.deepEqual(decode(again.batch(12345, 12399)), whole.slice(12345, 12399));
    const d = digestRange(gen, 0, gen.rows, gen.rows).toString();
    assert.equal(digestRange(gen, 0, gen.rows, 7).toString(), d);
    assert.equal(digestRange(again, 0, gen.rows, 919).toString(), d);
    const other = trialGenerator({ ...spec, seed: spec.seed + 1 }, pilot);
    assert.notEqual(digestRange(other, 0, other.rows, 4096).toString(), d);
  });
}

test('values stay in clinical ranges, integers and one-decimal temperatures, even with extreme effects', () => {
  for (const [method, targetEffect] of [
    ['mvn', -100],
    ['bootstrap', 100],
    ['rules', -60],
  ] as const) {
    const gen = trialGenerator(resolveTrialSpec({ method, nPerArm: 5000, targetEffect, jitter: 2 }), pilot);
    const c = columns(gen);
    VITALS.forEach((name, k) => {
      const r = CLINICAL_RANGES[name];
      for (const x of c.v[k]) {
        assert.ok(x >= r.min && x <= r.max, `${method} ${name} ${x}`);
        assert.equal(Math.round(x * 10 ** r.decimals) / 10 ** r.decimals, x);
      }
    });
  }
});

test('mvn fidelity: group means and covariances, subject correlation across visits, targetEffect', () => {
  const nPerArm = 50_000; // 400k rows, 50k per (visit, arm)
  const spec = resolveTrialSpec({ method: 'mvn', nPerArm, seed: 777 });
  const gen = createTrialTable(spec, pilot);
  const c = columns(gen);
  const plan = trialPlan(spec, pilot);
  for (let v = 0; v < 4; v++)
    for (let a = 0; a < 2; a++) {
      const g = pilot.groups[v * 2 + a];
      const m = groupMoments(c, v, a);
      assert.equal(m.n, nPerArm);
      VITALS.forEach((name, k) => {
        const r = CLINICAL_RANGES[name];
        // Means: the plan's target (the model's mean, SBP and DBP of Active moved for the effect), within 4 SE.
        const expected = plan[v * 2 + a].target[k];
        assert.equal(plan[v * 2 + a].target[k], a === 1 || k >= 2 ? g.mean[k] : plan[v * 2 + a].target[k]);
        const tol = 4 * (g.sd[k] / Math.sqrt(m.n));
        assert.ok(Math.abs(m.mean[k] - expected) < tol, `${g.visit}/${g.arm} ${name}: mean ${m.mean[k]} vs ${expected}`);
        // Variances: the truncated normal's, plus rounding (step² / 12); sampling SE ≈ 0.63 %.
        const step = 10 ** -r.decimals;
        const expectedVar = truncatedVariance(plan[v * 2 + a].location[k], plan[v * 2 + a].scale[k], r.min, r.max) + (step * step) / 12;
        const ratio = m.cov[k * 5] / expectedVar;
        assert.ok(Math.abs(ratio - 1) < 0.035, `${g.visit}/${g.arm} ${name}: variance ratio ${ratio}`);
      });
      for (let i = 0; i < 4; i++)
        for (let j = i + 1; j < 4; j++)
          assert.ok(Math.abs(corrOf(m.cov, i, j) - corrOf(g.cov, i, j)) < 0.03, `${g.visit}/${g.arm} corr(${VITALS[i]}, ${VITALS[j]})`);
    }

  // A subject's Baseline and Week 12 SBP correlate as in the pilot.
  const pilotRows = parseVitalsCsv(pilotCsv).rows;
  const bySubject = new Map<string, Record<string, number>>();
  for (const r of pilotRows) if (r.TreatmentArm === 'Placebo') bySubject.set(r.SubjectID, { ...bySubject.get(r.SubjectID), [r.VisitName]: r.SystolicBP });
  const pairs = [...bySubject.values()].filter((s) => s.Baseline !== undefined && s['Week 12'] !== undefined);
  const pilotCorr = corr(
    pairs.map((p) => p.Baseline),
    pairs.map((p) => p['Week 12']),
  );
  const gb: number[] = [];
  const gw: number[] = [];
  for (let s = nPerArm; s < 2 * nPerArm; s++) (gb.push(c.v[0][4 * s]), gw.push(c.v[0][4 * s + 3])); // placebo subjects
  const genCorr = corr(gb, gw);
  const modelCorr = pilot.subject.corr[0]; // the fitted intra-subject correlation of SBP
  assert.ok(genCorr > 0.4, `subject-level correlation present: ${genCorr}`);
  assert.ok(Math.abs(genCorr - modelCorr) < 0.03, `generated ${genCorr} vs model ${modelCorr}`);
  assert.ok(Math.abs(genCorr - pilotCorr) < 0.12, `generated ${genCorr} vs pilot ${pilotCorr} (placebo subjects; pilot SE ≈ 0.06)`);

  // targetEffect at the last visit, within 4 standard errors.
  const g0 = groupMoments(c, 3, 0);
  const g1 = groupMoments(c, 3, 1);
  const diff = g0.mean[0] - g1.mean[0];
  const se = Math.sqrt(g0.cov[0] / g0.n + g1.cov[0] / g1.n);
  const target = spec.targetEffect as number;
  assert.ok(Math.abs(diff - target) < 4 * se, `effect ${diff} vs ${target} (SE ${se})`);
  // …and at baseline there is none (randomisation), half-way it is proportional.
  const b0 = groupMoments(c, 0, 0).mean[0] - groupMoments(c, 0, 1).mean[0];
  assert.ok(Math.abs(b0) < 4 * se, `baseline difference ${b0}`);
  const w4 = groupMoments(c, 1, 0).mean[0] - groupMoments(c, 1, 1).mean[0];
  assert.ok(Math.abs(w4 - target / 3) < 4 * se, `week 4 difference ${w4}`);
});

/** Variance of N(loc, sd²) truncated to [lo, hi]. */
function truncatedVariance(loc: number, sd: number, lo: number, hi: number): number {
  const a = (lo - loc) / sd;
  const b = (hi - loc) / sd;
  const pdf = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
  const z = cdfDiff(a, b);
  const m = (pdf(a) - pdf(b)) / z;
  return sd * sd * (1 + (a * pdf(a) - b * pdf(b)) / z - m * m);
}

function corr(x: number[], y: number[]): number {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) (sxy += (x[i] - mx) * (y[i] - my)), (sxx += (x[i] - mx) ** 2), (syy += (y[i] - my) ** 2);
  return sxy / Math.sqrt(sxx * syy);
}

test('bootstrap: rows come from their own (visit, arm) group and subjects keep a donor; effect holds', () => {
  const spec: ResolvedTrialSpec = resolveTrialSpec({ method: 'bootstrap', nPerArm: 4000, seed: 3, jitter: 0 });
  const gen = createTrialTable(spec, pilot);
  const c = columns(gen);
  // HR and Temperature are a row of the group as they are (only blood pressure moves, in Active).
  const key = (i: number) => `${c.v[2][i]}|${c.v[3][i]}`;
  const groupSets = pilot.groups.map((g) => {
    const s = new Set<string>();
    for (let j = 0; j < g.n; j++) s.add(`${g.rows![4 * j + 2]}|${g.rows![4 * j + 3]}`);
    return s;
  });
  for (let i = 0; i < gen.rows; i++) assert.ok(groupSets[c.visit[i] * 2 + c.arm[i]].has(key(i)), `row ${i} not from its group`);
  for (let i = 0; i < gen.rows; i++) assert.ok(c.v[1][i] < c.v[0][i], `row ${i}: DBP < SBP`);
  // Placebo SBP is an exact pilot value (no shift, no jitter).
  const placeboSbp = new Set(pilot.groups.filter((g) => g.arm === 'Placebo').flatMap((g) => g.rows!.filter((_, j) => j % 4 === 0)));
  for (let i = 0; i < gen.rows; i++) if (c.arm[i] === 1) assert.ok(placeboSbp.has(c.v[0][i]));
  // Effect (jitter 0 → SE from the resampled values).
  const g0 = groupMoments(c, 3, 0);
  const g1 = groupMoments(c, 3, 1);
  const se = Math.sqrt(g0.cov[0] / g0.n + g1.cov[0] / g1.n);
  assert.ok(Math.abs(g0.mean[0] - g1.mean[0] - (spec.targetEffect as number)) < 4 * se);
  // Within-subject correlation survives (a subject copies one pilot subject's visits).
  const gb: number[] = [];
  const gw: number[] = [];
  for (let s = 0; s < 2 * spec.nPerArm; s++) (gb.push(c.v[0][4 * s]), gw.push(c.v[0][4 * s + 3]));
  assert.ok(corr(gb, gw) > 0.4, `bootstrap subject correlation ${corr(gb, gw)}`);
  // Default jitter perturbs values but keeps them near their group.
  const jittered = columns(createTrialTable(resolveTrialSpec({ method: 'bootstrap', nPerArm: 4000, seed: 3 }), pilot));
  let moved = 0;
  for (let i = 0; i < gen.rows; i++) if (jittered.v[1][i] !== c.v[1][i]) moved++;
  assert.ok(moved > 0.1 * gen.rows);
});

test('rules: works without data, near population norms, effect holds', () => {
  const spec = resolveTrialSpec({ method: 'rules', nPerArm: 20_000, visits: ['Day 1', 'Day 30'], arms: ['Drug', 'Control'], targetEffect: -8, seed: 9 });
  const gen = trialGenerator(spec);
  const c = columns(gen);
  const p = groupMoments(c, 0, 1);
  assert.ok(Math.abs(p.mean[0] - 125) < 1 && Math.abs(p.mean[1] - 78) < 1 && Math.abs(p.mean[2] - 72) < 1 && Math.abs(p.mean[3] - 36.8) < 0.05, `${p.mean}`);
  const g0 = groupMoments(c, 1, 0);
  const g1 = groupMoments(c, 1, 1);
  const se = Math.sqrt(g0.cov[0] / g0.n + g1.cov[0] / g1.n);
  assert.ok(Math.abs(g0.mean[0] - g1.mean[0] + 8) < 4 * se);
  assert.equal(decode(gen.batch(0, 1))[0][1], 'Drug');
});

test('parseVitalsCsv reports bad lines with line numbers; fitModel reports unusable data', () => {
  const csv = [
    'SubjectID,TreatmentArm,VisitName,SystolicBP,DiastolicBP,HeartRate,Temperature',
    'A1,Active,Baseline,120,80,70,36.8',
    'A1,Active,Week 4,abc,80,70,36.8', // 3: not a number
    'A1,Active,Week 4,121,80,70', // 4: missing field
    '',
    'A1,Placebo,Week 8,121,80,70,36.8', // 6: arm conflict
    'A1,Active,Baseline,120,80,70,36.8', // 7: duplicate visit
    '"A2",Active,"Week 4",119,79,69,36.9\r',
    'A3,Active,Baseline,500,80,70,36.8', // 9: implausible
  ].join('\n');
  const { rows, errors } = parseVitalsCsv(csv);
  assert.equal(rows.length, 2);
  assert.deepEqual(
    errors.map((e) => e.line),
    [3, 4, 6, 7, 9],
  );
  assert.match(errors[0].message, /SystolicBP is not a number/);
  assert.match(errors[2].message, /arm/);
  assert.match(errors[3].message, /already has visit/);
  const header = parseVitalsCsv('SubjectID,Arm,VisitName,SystolicBP,DiastolicBP,HeartRate,Temperature\n');
  assert.equal(header.errors[0].line, 1);
  assert.match(header.errors[0].message, /TreatmentArm/);
  assert.throws(() => fitModel(rows), (e: unknown) => e instanceof ModelFitError && /at least 2 arms/.test(e.message));
});

test('fitModel on a user CSV: own names, model JSON round-trips, missing visits tolerated', () => {
  // Re-label the pilot as a user's study and drop some rows.
  const text = pilotCsv.replaceAll('Active', 'Drug X').replaceAll('Placebo', 'Control').replaceAll('Week ', 'W');
  const { rows, errors } = parseVitalsCsv(text);
  assert.equal(errors.length, 0);
  const m: TrialModel = JSON.parse(JSON.stringify(fitModel(rows.filter((_, i) => i % 17 !== 5))));
  assert.deepEqual(m.visits, ['Baseline', 'W4', 'W8', 'W12']);
  assert.deepEqual(m.arms, ['Drug X', 'Control']);
  assert.ok(m.subject.pairs > 1000 && m.subject.shrink > 0.9);
  const spec = resolveTrialSpec({ method: 'bootstrap', nPerArm: 100 }, m);
  assert.deepEqual(spec.arms, ['Drug X', 'Control']);
  assert.equal(createTrialTable(spec, m).batch(0, 800).length, 800);
  assert.ok(JSON.stringify(pilot).length < 64_000, 'pilot model JSON stays small');
});
