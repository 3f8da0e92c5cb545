/**
 * The shared engine suite runs against every registered kind, as drizzle runs one suite against
 * every driver: each kind gives a case that makes a job of a given size. The suite's tests
 * (test/engine-*.test.ts) loop over `engineCases`; a new kind adds its case here.
 */
import { digestRange } from '../../src/data/digest.js';
import { createTrialTable } from '../../src/kinds/trial/generate.js';
import { loadPilotModel } from '../../src/kinds/trial/pilot.js';
import { resolveTrialSpec, type TrialSpec } from '../../src/kinds/trial/spec.js';
import type { TestApi } from './api.js';
import { createRelationalTables, type RelationalSpec } from '../../src/kinds/relational/lib.js';
import { ledgerTables } from './kinds/ledger/tables.js';
import { patient, patientModel } from '../../src/kinds/patients/generate.js';
import type { PatientsSpec } from '../../src/kinds/patients/spec.js';
import { patientParts } from '../../src/kinds/patients/tables.js';
import { TableDigest } from '../../src/data/digest.js';

export interface CaseJob {
  /** POST /v1/jobs body without `partitioning`. */
  body: { kind: string; spec: Record<string, unknown>; output?: Record<string, unknown> };
  /** The tables the job writes, with their rows, in plan order. */
  tables: Array<{ name: string; rows: number }>;
}

export interface EngineCase {
  kind: string;
  /**
   * A job of `units` rows in all; every table's rows are a multiple of `multipleOf`, so shards of
   * that size are all full (the suite's arithmetic stays the same for every kind).
   */
  job(api: TestApi, units: number, opts: { seed: number; multipleOf: number; output?: Record<string, unknown> }): Promise<CaseJob>;
  /** The manifest's digests are the generator's own (kinds with a pure generator in reach of the test). */
  expectedDigests?(manifest: any): Promise<Record<string, string>>;
  /**
   * A unit costs about 100× a generated row (a patient with its course): the suites that need
   * millions of units to keep one shard busy for seconds (engine-kill, engine-progress) leave the
   * case out (`engineCasesForMillions`).
   */
  slowUnits?: boolean;
  /** Drops what `job` created outside the job (source tables). */
  cleanup?(api: TestApi): Promise<void>;
}

function divide(units: number, parts: number, multipleOf: number, what: string): number {
  const n = units / parts;
  if (!Number.isInteger(n) || n % multipleOf !== 0) throw new Error(`${what}: ${units} units do not split into ${parts} × a multiple of ${multipleOf}`);
  return n;
}

const trialCase: EngineCase = {
  kind: 'trial',
  async job(_api, units, { seed, multipleOf, output }) {
    const rows = divide(units, 1, multipleOf, 'trial');
    return {
      body: { kind: 'trial', spec: { method: 'mvn', nPerArm: rows / 8, seed, targetEffect: -5 }, ...(output ? { output } : {}) },
      tables: [{ name: 'vitals', rows }],
    };
  },
  async expectedDigests(manifest) {
    const spec = resolveTrialSpec(manifest.spec as Partial<TrialSpec>);
    const gen = createTrialTable(spec, await loadPilotModel());
    return { vitals: digestRange(gen, 0, gen.rows).toString() };
  },
};

const ledgerSources: string[] = [];
const ENTRIES_PER_ACCOUNT = 4;

const ledgerCase: EngineCase = {
  kind: 'ledger',
  async job(api, units, { seed, multipleOf, output }) {
    const accounts = divide(units, 1 + ENTRIES_PER_ACCOUNT, multipleOf, 'ledger');
    const source = `ledger_src_${ledgerSources.length}_${process.pid}`;
    ledgerSources.push(source);
    const sql = api.deps.db.sql;
    await sql`create table ${sql(source)} (id integer primary key)`;
    await sql`insert into ${sql(source)} select generate_series(1, ${accounts}::int)`;
    return {
      body: { kind: 'ledger', spec: { seed, source, entriesPerAccount: ENTRIES_PER_ACCOUNT }, ...(output ? { output } : {}) },
      tables: [
        { name: 'accounts', rows: accounts },
        { name: 'entries', rows: accounts * ENTRIES_PER_ACCOUNT },
      ],
    };
  },
  async expectedDigests(manifest) {
    const accounts = manifest.tables.find((t: any) => t.name === 'accounts').rows;
    const t = ledgerTables(manifest.spec, accounts);
    return { accounts: digestRange(t.accounts, 0, t.accounts.rows).toString(), entries: digestRange(t.entries, 0, t.entries.rows).toString() };
  },
  async cleanup(api) {
    const sql = api.deps.db.sql;
    for (const s of ledgerSources.splice(0)) await sql`drop table if exists ${sql(s)}`;
  },
};

/** customers → orders (one per customer, so both tables are half the units): every column type, keys, a zipf ref, nulls. */
export function relationalCaseSpec(customers: number, seed: number): Record<string, unknown> {
  return {
    seed,
    tables: [
      {
        name: 'customers',
        rows: customers,
        columns: [
          { name: 'id', type: 'id' },
          { name: 'first_name', type: 'firstName' },
          { name: 'last_name', type: 'lastName' },
          { name: 'email', type: 'email', unique: true },
          { name: 'code', type: 'pattern', pattern: 'C-######-??', unique: true },
          { name: 'external_id', type: 'uuid', unique: true },
          { name: 'signed_up', type: 'date', min: '2020-01-01', max: '2025-12-31' },
          { name: 'vip', type: 'bool', probability: 0.1 },
          { name: 'segment', type: 'choice', values: ['retail', 'business', 'public'], weights: [6, 3, 1] },
        ],
      },
      {
        name: 'orders',
        rows: { perParent: 'customers', distribution: { fixed: 1 } },
        columns: [
          { name: 'id', type: 'id', start: 1000 },
          { name: 'customer_id', type: 'ref', table: 'customers' },
          { name: 'referrer_id', type: 'ref', table: 'customers', distribution: 'zipf', s: 1.2, nullRate: 0.3 },
          { name: 'ordinal', type: 'int', min: 0, max: 10_000_000_000, unique: true },
          { name: 'placed_at', type: 'timestamp', min: '2024-01-01T00:00:00Z', max: '2024-12-31T23:59:59Z' },
          { name: 'amount', type: 'lognormal', mu: 3, sigma: 0.7, decimals: 2 },
          { name: 'score', type: 'normal', mean: 50, sd: 10, nullRate: 0.1 },
          { name: 'discount', type: 'float', min: 0, max: 0.3, decimals: 3 },
          { name: 'note', type: 'text', minWords: 0, maxWords: 6, nullRate: 0.5 },
        ],
      },
    ],
  };
}

const relationalCase: EngineCase = {
  kind: 'relational',
  async job(_api, units, { seed, multipleOf, output }) {
    const customers = divide(units, 2, multipleOf, 'relational');
    return {
      body: { kind: 'relational', spec: relationalCaseSpec(customers, seed), ...(output ? { output } : {}) },
      tables: [
        { name: 'customers', rows: customers },
        { name: 'orders', rows: customers },
      ],
    };
  },
  async expectedDigests(manifest) {
    const { tables } = createRelationalTables(manifest.spec as RelationalSpec);
    return Object.fromEntries(tables.map((t) => [t.table, digestRange(t, 0, t.rows).toString()]));
  },
};

/**
 * patients in ndjson (the kind's default): one table, a nested record per patient, whatever format
 * the suite asks for (csv and parquet add child tables whose rows the plan cannot know); a gzip
 * compression asked for is kept.
 */
const patientsCase: EngineCase = {
  kind: 'patients',
  slowUnits: true,
  async job(_api, units, { seed, multipleOf, output }) {
    const count = divide(units, 1, multipleOf, 'patients');
    const compression = output?.compression === 'gzip' ? 'gzip' : 'none';
    return { body: { kind: 'patients', spec: { count, seed, scenario: 'article5' }, output: { format: 'ndjson', compression } }, tables: [{ name: 'patients', rows: count }] };
  },
  async expectedDigests(manifest) {
    const spec = manifest.spec as PatientsSpec;
    const model = patientModel(spec.resolvedScenario);
    const d = new TableDigest();
    for (let a = 0; a < spec.count; a += 2000) {
      const ps = Array.from({ length: Math.min(2000, spec.count - a) }, (_, i) => patient(model, spec.seed, a + i));
      d.merge(patientParts('ndjson', ps)[0]!.digest);
    }
    return { patients: d.toString() };
  },
};

export const engineCases: EngineCase[] = [trialCase, ledgerCase, relationalCase, patientsCase];
/** The cases a suite of millions of units per job runs (not `slowUnits`). */
export const engineCasesForMillions: EngineCase[] = engineCases.filter((c) => !c.slowUnits);

/** Files a table of `rows` makes in shards of `shardRows` and parts of `partRows`. */
export function expectedParts(rows: number, shardRows: number, partRows: number): number {
  let n = 0;
  for (let s = 0; s < rows; s += shardRows) n += Math.ceil(Math.min(shardRows, rows - s) / Math.min(partRows, shardRows));
  return n;
}

export const digestsOf = (manifest: any): Record<string, string> => Object.fromEntries(manifest.tables.map((t: any) => [t.name, t.digest]));
