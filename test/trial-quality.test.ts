/**
 * Trial data a statistician would sign (issue 13), at the generator level (pure, no Temporal), at
 * 1M rows per (visit, arm) cell, with the streaming sums of quality.ts:
 *  - no pile-up at a bound: no value at a bound more often than the model's own data has it (± 1 pp;
 *    for rules, which has no data, than the truncated normal itself implies, ± 1 pp);
 *  - cell means on target (the model's, with the effect): each within 3 SE, and jointly the z-scores
 *    of an unbiased sampler (Σz² over the case's cells below χ²(0.999) — a bias of 1 SE in every
 *    cell would give about 2 × the degrees of freedom); the effect per visit within 2 SE;
 *  - DBP < SBP in every row, pulse pressure < 20 mmHg no more often than in the model's data (± 1 pp);
 * for mvn, bootstrap and rules at effects −20, −5, 0, +10, and for a fitted model with "model".
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CLINICAL_RANGES, VITALS, fitModel, parseVitalsCsv, resolveTrialSpec, rulesModel, trialGenerator, trialPlan, type TrialModel, type TrialSpec } from '../src/kinds/trial/lib.js';
import { PILOT_VITALS_CSV_PATH } from '../src/kinds/trial/pilot.js';
import { TrialStats, qualityReport } from '../src/kinds/trial/quality.js';
import { cdfDiff } from '../src/kinds/trial/truncated.js';

const pilotCsv = readFileSync(PILOT_VITALS_CSV_PATH, 'utf8');
const pilotRows = parseVitalsCsv(pilotCsv).rows;
const pilot = fitModel(pilotRows, { keepRows: true });
// A user's study: the pilot relabelled, some rows left out; its arms differ by their own amounts per visit.
const userText = pilotCsv.replaceAll('Active', 'Drug X').replaceAll('Placebo', 'Control');
const userRows = parseVitalsCsv(userText).rows.filter((_, i) => i % 13 !== 4);
const user = fitModel(userRows, { keepRows: true });

const N_PER_ARM = 1_000_000; // 1M rows per cell (4 visits × 2 arms)
const BATCH = 65_536;

/** Shares in a model's own rows: at each bound per vital, pulse pressure < 20. */
function dataShares(rows: typeof pilotRows) {
  const atLo = [0, 0, 0, 0];
  const atHi = [0, 0, 0, 0];
  let pp = 0;
  for (const r of rows) {
    const x = [r.SystolicBP, r.DiastolicBP, r.HeartRate, r.Temperature];
    VITALS.forEach((name, k) => {
      if (x[k] <= CLINICAL_RANGES[name].min) atLo[k]++;
      if (x[k] >= CLINICAL_RANGES[name].max) atHi[k]++;
    });
    if (r.SystolicBP - r.DiastolicBP < 20) pp++;
  }
  return { atLo: atLo.map((c) => c / rows.length), atHi: atHi.map((c) => c / rows.length), pp: pp / rows.length };
}

function run(spec: Partial<TrialSpec>, model: TrialModel, label: string, reference: ReturnType<typeof dataShares> | undefined) {
  const resolved = resolveTrialSpec(spec, model);
  const m = resolved.method === 'rules' ? rulesModel(resolved.visits, resolved.arms) : model;
  const gen = trialGenerator(resolved, m);
  const stats = new TrialStats(resolved.visits.length);
  for (let s = 0; s < gen.rows; s += BATCH) {
    const b = gen.batch(s, Math.min(gen.rows, s + BATCH));
    stats.add(b);
  }
  const plan = trialPlan(resolved, m);
  const modelSd = plan.map((c) => m.groups[m.visits.indexOf(c.visit) * m.arms.length + m.arms.indexOf(c.arm)].sd);
  const q = qualityReport(stats, plan, modelSd, resolved.arms, resolved.targetEffect);
  const worst = { z: 0, bound: -1, boundRef: 0, pp: 0 };
  let chi2 = 0;
  let cellMeans = 0;
  q.cells.forEach((c, gi) => {
    assert.equal(c.n, N_PER_ARM, `${label}: rows of ${c.visit}/${c.arm}`);
    assert.equal(c.dbpNotBelowSbp, 0, `${label} ${c.visit}/${c.arm}: rows with DBP ≥ SBP`);
    c.vitals.forEach((v, k) => {
      const z = Math.abs(v.z!);
      worst.z = Math.max(worst.z, z);
      chi2 += z * z;
      cellMeans++;
      // Cell means: within 3 SE each (32 cells × vitals per case: 2 SE would fail ~1.5 of them by chance alone)…
      assert.ok(z < 3, `${label} ${c.visit}/${c.arm} ${v.name}: mean ${v.mean} vs ${v.target} (z ${v.z})`);
      const { lo, hi, grid } = { lo: CLINICAL_RANGES[v.name].min, hi: CLINICAL_RANGES[v.name].max, grid: 10 ** -CLINICAL_RANGES[v.name].decimals };
      // The truncated normal's own mass in the bound's half bin (mvn, rules), for rules' reference.
      const own = (b: number) =>
        resolved.method === 'bootstrap' ? 0 : b === lo ? cdfDiff((lo - plan[gi].location[k]) / plan[gi].scale[k], (lo + grid / 2 - plan[gi].location[k]) / plan[gi].scale[k]) / cdfDiff((lo - plan[gi].location[k]) / plan[gi].scale[k], (hi - plan[gi].location[k]) / plan[gi].scale[k]) : cdfDiff((hi - grid / 2 - plan[gi].location[k]) / plan[gi].scale[k], (hi - plan[gi].location[k]) / plan[gi].scale[k]) / cdfDiff((lo - plan[gi].location[k]) / plan[gi].scale[k], (hi - plan[gi].location[k]) / plan[gi].scale[k]);
      for (const [share, ref] of [
        [v.atMin!, reference ? reference.atLo[k] : own(lo)],
        [v.atMax!, reference ? reference.atHi[k] : own(hi)],
      ]) {
        if (share > worst.bound) ((worst.bound = share), (worst.boundRef = ref));
        assert.ok(share <= ref + 0.01, `${label} ${c.visit}/${c.arm} ${v.name}: ${(100 * share).toFixed(2)} % at a bound, reference ${(100 * ref).toFixed(2)} %`);
      }
    });
    worst.pp = Math.max(worst.pp, c.pulsePressureBelow20!);
    const ppRef = reference ? reference.pp : rulesPp(m, gi);
    assert.ok(c.pulsePressureBelow20! <= ppRef + 0.01, `${label} ${c.visit}/${c.arm}: pulse pressure < 20 in ${(100 * c.pulsePressureBelow20!).toFixed(2)} %, model ${(100 * ppRef).toFixed(2)} %`);
  });
  // Jointly: Σz² of an unbiased sampler is χ² with one degree of freedom per cell mean.
  const limit = chi2Quantile999(cellMeans);
  assert.ok(chi2 < limit, `${label}: Σz² ${chi2.toFixed(1)} over ${cellMeans} cell means, χ²(0.999) ${limit.toFixed(1)}: the means are biased`);
  // …and the effect per visit within 2 SE of its target.
  for (const e of q.effects) assert.ok(Math.abs(e.z!) < 2, `${label} ${e.visit}: effect ${e.achieved} vs ${e.target} (SE ${e.se})`);
  console.log(
    `# ${label}: effect ${q.summary.effect.achieved} (target ${q.summary.effect.target}, SE ${q.summary.effect.se}); worst cell |z| ${worst.z.toFixed(2)}, Σz² ${chi2.toFixed(1)} over ${cellMeans}; ` +
      `max share at a bound ${(100 * worst.bound).toFixed(2)} % (reference ${(100 * worst.boundRef).toFixed(2)} %); max PP<20 ${(100 * worst.pp).toFixed(2)} %`,
  );
  return q;
}

/** The 0.999 quantile of χ² with k degrees of freedom (Wilson–Hilferty; within 0.5 % for k ≥ 10). */
function chi2Quantile999(k: number): number {
  const z = 3.090232; // the standard normal's 0.999 quantile
  return k * (1 - 2 / (9 * k) + z * Math.sqrt(2 / (9 * k))) ** 3;
}

/** rules: P(pulse pressure < 20) under the population normal of the cell (SBP − DBP normal, rounded). */
function rulesPp(m: TrialModel, gi: number): number {
  const g = m.groups[gi];
  const mean = g.mean[0] - g.mean[1];
  const sd = Math.sqrt(g.cov[0] + g.cov[5] - 2 * g.cov[1]);
  return cdfDiff(-Infinity, (19.5 - mean) / sd);
}

const pilotShares = dataShares(pilotRows);

for (const method of ['mvn', 'bootstrap', 'rules'] as const)
  test(`${method}: within the bounds without pile-ups, means and effect on target, DBP < SBP (1M rows per cell, effects −20, −5, 0, +10)`, () => {
    for (const targetEffect of [-20, -5, 0, 10]) run({ method, nPerArm: N_PER_ARM, seed: 13, targetEffect }, pilot, `${method} ${targetEffect}`, method === 'rules' ? undefined : pilotShares);
  });

test('a fitted model with targetEffect "model" keeps its own arm differences per visit (mvn, bootstrap)', () => {
  const own = user.visits.map((v) => {
    const a = user.groups[user.visits.indexOf(v) * 2];
    const b = user.groups[user.visits.indexOf(v) * 2 + 1];
    return a.mean[0] - b.mean[0];
  });
  assert.ok(new Set(own.map((x) => x.toFixed(1))).size === own.length && !own.every((x, v) => Math.abs(x - (own.at(-1)! * v) / (own.length - 1)) < 0.5), `the model's differences are not a line: ${own}`);
  for (const method of ['mvn', 'bootstrap'] as const) {
    const q = run({ method, nPerArm: N_PER_ARM, seed: 21, targetEffect: 'model' }, user, `${method} model`, dataShares(userRows));
    q.effects.forEach((e, v) => assert.ok(Math.abs(e.target! - own[v]) < 1e-3, `${e.visit}: target ${e.target} = the model's ${own[v]}`));
  }
  // A number still gives the linear path, from the same model.
  const lin = trialPlan(resolveTrialSpec({ method: 'mvn', nPerArm: 10, targetEffect: -6 }, user), user);
  assert.deepEqual(
    [0, 1, 2, 3].map((v) => Math.round((lin[2 * v].target[0] - lin[2 * v + 1].target[0]) * 1e6) / 1e6),
    [0, -2, -4, -6],
  );
});
