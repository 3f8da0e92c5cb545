/**
 * Deterministic vitals-shaped batches for the sink tests and bench/sinks.ts (not the trial
 * generator): SubjectID repeats for 4 consecutive rows, 2 arms, 4 visits, int32 vitals,
 * Temperature with one decimal. Optional nulls in the nullable columns.
 */
import type { Batch, ColumnSchema } from '../../src/data/batch.js';
import { TRIAL_SCHEMA } from '../../src/kinds/trial/generate.js';

/** The trial generator's own schema, so sink tests and benchmarks write exactly that shape. */
export const VITALS_SCHEMA: ColumnSchema[] = [...TRIAL_SCHEMA];

export const VITALS_SCHEMA_NULLABLE: ColumnSchema[] = VITALS_SCHEMA.map((c) =>
  c.name === 'SubjectID' ? c : { ...c, nullable: true },
);

const ARMS = ['Placebo', 'Drug 10mg'] as const;
const VISITS = ['Screening', 'Week 4', 'Week 8', 'Week 12'] as const;

/** Cheap deterministic hash of (row, salt) → an unsigned 32-bit integer (test data, not the generators' RNG). */
export function hash32(row: number, salt: number): number {
  let h = Math.imul(row ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(salt + 1, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  h = Math.imul(h, 0x297a2d39);
  h ^= h >>> 15;
  return h >>> 0;
}

/** hash32 as a number in [0, 1). */
const rnd = (row: number, salt: number): number => hash32(row, salt) / 4294967296;

export function vitalsBatch(start: number, end: number, opts: { nulls?: boolean } = {}): Batch {
  const n = end - start;
  const subject: string[] = new Array(n);
  const arm = new Uint32Array(n);
  const visit = new Uint32Array(n);
  const sys = new Int32Array(n);
  const dia = new Int32Array(n);
  const hr = new Int32Array(n);
  const temp = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = start + i;
    const subj = Math.floor(row / 4);
    subject[i] = 'S' + String(subj + 1).padStart(6, '0');
    arm[i] = subj % 2;
    visit[i] = row % 4;
    sys[i] = 100 + Math.floor(rnd(row, 1) * 60);
    dia[i] = 60 + Math.floor(rnd(row, 2) * 40);
    hr[i] = 50 + Math.floor(rnd(row, 3) * 50);
    temp[i] = Math.round((35.5 + rnd(row, 4) * 3) * 10) / 10;
  }
  const batch: Batch = {
    start,
    length: n,
    columns: [
      { kind: 'plain', values: subject },
      { kind: 'dict', dictionary: ARMS, codes: arm },
      { kind: 'dict', dictionary: VISITS, codes: visit },
      sys,
      dia,
      hr,
      temp,
    ],
  };
  if (opts.nulls) {
    batch.nulls = VITALS_SCHEMA.map((_, c) => {
      if (c === 0) return undefined;
      const m = new Uint8Array(n);
      let any = false;
      for (let i = 0; i < n; i++) if (rnd(start + i, 10 + c) < 0.1) (m[i] = 1), (any = true);
      return any ? m : undefined;
    });
  }
  return batch;
}
