/**
 * Makes data/pilot-vitals.csv: a SYNTHETIC pilot trial (no real person's data), deterministically
 * from the population norms in src/generators/trial/model.ts (POPULATION_NORMS; sources in
 * docs/DATA.md). Run once; the output is committed:
 *
 *     npx tsx scripts/make-pilot-vitals.ts [--check]
 *
 * `--check` regenerates in memory and fails if the committed file differs.
 *
 * Design: 240 subjects randomised 1:1 in permuted blocks of 4 to Active / Placebo; 4 visits
 * (Baseline, Week 4, Week 8, Week 12); vitals = norms mean + subject random effect (share `icc` of
 * the variance, same correlations) + visit noise; placebo drift −1 mmHg SBP by Week 12; Active
 * lowers SBP by 6 and DBP by 3 mmHg by Week 12, linearly from Baseline; 10 subjects drop out
 * (5 miss Week 8 and Week 12, 5 miss Week 12), leaving 945 rows.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cholesky, zeros } from '../src/data/linalg.js';
import { STREAMS, counterState, intBelow, keyState, laneU32, normalFromU32 } from '../src/data/rng.js';
import { CLINICAL_RANGES, K, POPULATION_NORMS, TRIAL_COLUMNS, VITALS } from '../src/kinds/trial/model.js';

const SEED = 20240601;
const SUBJECTS = 240;
const VISITS = ['Baseline', 'Week 4', 'Week 8', 'Week 12'];
const ARMS = ['Active', 'Placebo'] as const;
const ACTIVE_EFFECT = [-6, -3, 0, 0]; // by the last visit, per vital
const PLACEBO_DRIFT = [-1, 0, 0, 0];

export function makePilotCsv(): string {
  const { mean, sd, corr, icc } = POPULATION_NORMS;
  const between = zeros(K);
  const within = zeros(K);
  for (let i = 0; i < K; i++)
    for (let j = 0; j < K; j++) {
      const c = corr[i][j] * sd[i] * sd[j];
      const b = c * Math.sqrt(icc[i] * icc[j]);
      between[i * K + j] = b;
      within[i * K + j] = c - b;
    }
  const Lb = cholesky(between, K)!;
  const Lw = cholesky(within, K)!;
  const key = keyState(SEED, STREAMS.pilot);
  let counter = 0;
  const normals4 = (): number[] => {
    const cs = counterState(key, counter++);
    return [0, 1, 2, 3].map((l) => normalFromU32(laneU32(cs, l)));
  };
  const mul = (L: number[], z: number[]) => [0, 1, 2, 3].map((i) => L[i * K] * z[0] + L[i * K + 1] * z[1] + L[i * K + 2] * z[2] + L[i * K + 3] * z[3]);

  // Permuted blocks of 4.
  const arms: number[] = [];
  for (let b = 0; b < SUBJECTS / 4; b++) {
    const block = [0, 0, 1, 1];
    for (let i = 3; i > 0; i--) {
      const j = intBelow(laneU32(counterState(key, counter++), 0), i + 1);
      [block[i], block[j]] = [block[j], block[i]];
    }
    arms.push(...block);
  }
  // Dropouts: 5 subjects leave after Week 4, 5 after Week 8 (distinct subjects).
  const lastVisit = new Array<number>(SUBJECTS).fill(VISITS.length - 1);
  let dropped = 0;
  while (dropped < 10) {
    const s = intBelow(laneU32(counterState(key, counter++), 0), SUBJECTS);
    if (lastVisit[s] !== VISITS.length - 1) continue;
    lastVisit[s] = dropped < 5 ? 1 : 2;
    dropped++;
  }

  const lines = [TRIAL_COLUMNS.join(',')];
  for (let s = 0; s < SUBJECTS; s++) {
    const u = mul(Lb, normals4());
    const arm = arms[s];
    for (let v = 0; v < VISITS.length; v++) {
      const e = mul(Lw, normals4()); // drawn even for missed visits, so dropouts change nothing else
      if (v > lastVisit[s]) continue;
      const f = v / (VISITS.length - 1);
      const vals = VITALS.map((name, i) => {
        const trend = arm === 0 ? ACTIVE_EFFECT[i] * f + PLACEBO_DRIFT[i] * f : PLACEBO_DRIFT[i] * f;
        const r = CLINICAL_RANGES[name];
        const x = Math.min(r.max, Math.max(r.min, mean[i] + trend + u[i] + e[i]));
        return r.decimals ? x.toFixed(r.decimals) : String(Math.round(x));
      });
      lines.push([`PILOT-${String(s + 1).padStart(3, '0')}`, ARMS[arm], VISITS[v], ...vals].join(','));
    }
  }
  return lines.join('\n') + '\n';
}

const out = fileURLToPath(new URL('../data/pilot-vitals.csv', import.meta.url));
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const csv = makePilotCsv();
  if (process.argv.includes('--check')) {
    const same = readFileSync(out, 'utf8') === csv;
    console.log(same ? 'data/pilot-vitals.csv is up to date' : 'data/pilot-vitals.csv differs from the script output');
    process.exit(same ? 0 : 1);
  }
  writeFileSync(out, csv);
  console.log(`wrote ${out}: ${csv.trimEnd().split('\n').length - 1} rows`);
}
