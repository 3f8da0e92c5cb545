/**
 * The `patients` kind's tables: how generated patients become columnar batches (csv, parquet) or
 * NDJSON lines (the nested record). Pure.
 *
 *   patients    one row per patient (csv, parquet)
 *   timeline    one row per event: injury, arrival, departure, death, return_to_duty, … (csv, parquet)
 *   conditions  one row per coded condition (parquet)
 *   vitals      one row per measurement: at POI and at each arrival (parquet)
 *   treatments  one row per treatment: a procedure (SNOMED CT) or a drug given (RxNorm), told apart by `system` (parquet)
 *   Bundle      one FHIR R4 transaction Bundle per patient, as JSON (fhir)
 *   Patient, Encounter, …  one FHIR resource per line, a table per resource type (fhir-bulk, fhir.ts);
 *               Location holds the job's roles and is written once, with the job's first part
 *
 * Child rows carry the patient's id and index and their position (`seq`) in the patient's list, so
 * a child table's digest is over (patient index × 1024 + seq, values): the same whatever the parts.
 * The JSON tables (ndjson, fhir, fhir-bulk) digest each line's SHA-256 in place of its text: the
 * same digest of a far shorter string (a FHIR patient is ~20 KB of JSON, which the digest's
 * JavaScript string hash would walk character by character; SHA-256 is native).
 */
import { createHash, hash } from 'node:crypto';
import type { Batch, ColumnData, ColumnSchema } from '../../data/batch.js';
import { TableDigest } from '../../data/digest.js';
import type { OutputFormat } from '../../encoders/types.js';
import { FHIR_TYPES, locations, patientBundle, patientResources } from './fhir.js';
import type { Patient } from './generate.js';
import type { Role } from './scenario.js';

type Value = string | number | null;
interface Col<R> {
  schema: ColumnSchema;
  get(r: R): Value;
}
interface TableDef<R> {
  name: string;
  columns: Col<R>[];
  /** The rows of one patient. */
  rows(p: Patient): R[];
}

const us = (iso: string) => Date.parse(iso) * 1000;
const days = (isoDate: string) => Math.round(Date.parse(`${isoDate}T00:00:00Z`) / 86_400_000);
const col = <R>(name: string, type: ColumnSchema['type'], get: (r: R) => Value, extra: Partial<ColumnSchema> = {}): Col<R> => ({ schema: { name, type, ...extra }, get });

interface Child<T> {
  p: Patient;
  seq: number;
  x: T;
}
const childKeys = <T>(): Col<Child<T>>[] => [col('patient_id', 'uuid', (r) => r.p.id), col('patient_index', 'int64', (r) => r.p.index), col('seq', 'int32', (r) => r.seq)];
const children = <T>(xs: T[], p: Patient): Child<T>[] => xs.map((x, seq) => ({ p, seq, x }));

export const PATIENTS_TABLE: TableDef<Patient> = {
  name: 'patients',
  rows: (p) => [p],
  columns: [
    col('id', 'uuid', (p) => p.id),
    col('patient_index', 'int64', (p) => p.index),
    col('nationality', 'string', (p) => p.nationality),
    col('front', 'string', (p) => p.front),
    col('event', 'string', (p) => p.event, { nullable: true }),
    col('sex', 'string', (p) => p.sex),
    col('birth_date', 'date', (p) => days(p.birthDate)),
    col('given_name', 'string', (p) => p.name.given),
    col('family_name', 'string', (p) => p.name.family),
    col('service_number', 'string', (p) => p.serviceNumber),
    col('blood_group', 'string', (p) => p.bloodGroup),
    col('weight_kg', 'float64', (p) => p.weightKg, { decimals: 1 }),
    col('injury_time', 'timestamp', (p) => us(p.injury.time)),
    col('category', 'string', (p) => p.injury.category),
    col('mechanism', 'string', (p) => p.injury.mechanism),
    col('mechanism_code', 'string', (p) => p.injury.mechanismCode?.code ?? null, { nullable: true }),
    col('primary_condition_code', 'string', (p) => p.conditions[0]?.code ?? null, { nullable: true }),
    col('primary_condition', 'string', (p) => p.conditions[0]?.display ?? null, { nullable: true }),
    col('conditions', 'int32', (p) => p.conditions.length),
    col('severity', 'string', (p) => p.severity),
    col('triage', 'string', (p) => p.triage),
    col('allergies', 'string', (p) => p.allergies.map((a) => a.code).join(' ')),
    col('history', 'string', (p) => p.history.map((a) => a.code).join(' ')),
    col('medications', 'string', (p) => p.medications.map((a) => a.code).join(' ')),
    col('blood_loss_ml', 'int32', (p) => Math.round(p.bloodLossMl)),
    col('blood_volume_ml', 'int32', (p) => Math.round(p.bloodVolumeMl)),
    col('roles', 'string', (p) => p.stays.map((s) => s.role).join(' ')),
    col('outcome', 'string', (p) => p.outcome.type),
    col('outcome_role', 'string', (p) => ('role' in p.outcome ? p.outcome.role : null), { nullable: true }),
    col('outcome_time', 'timestamp', (p) => us(p.outcome.time)),
  ],
};

type Ev = Patient['timeline'][number];
export const TIMELINE_TABLE: TableDef<Child<Ev>> = {
  name: 'timeline',
  rows: (p) => children(p.timeline, p),
  columns: [...childKeys<Ev>(), col('time', 'timestamp', (r) => us(r.x.time)), col('type', 'string', (r) => r.x.type), col('role', 'string', (r) => r.x.role)],
};

type Cond = Patient['conditions'][number];
export const CONDITIONS_TABLE: TableDef<Child<Cond>> = {
  name: 'conditions',
  rows: (p) => children(p.conditions, p),
  columns: [
    ...childKeys<Cond>(),
    col('system', 'string', (r) => r.x.system),
    col('code', 'string', (r) => r.x.code),
    col('display', 'string', (r) => r.x.display),
    col('body_region', 'string', (r) => r.x.bodyRegion),
    col('severity', 'string', (r) => r.x.severity),
  ],
};

type Vit = Patient['vitals'][number];
const vital = (k: 'hr' | 'sbp' | 'dbp' | 'rr' | 'spo2' | 'gcs') => col<Child<Vit>>(k, 'int32', (r) => Math.round(r.x[k]));
export const VITALS_TABLE: TableDef<Child<Vit>> = {
  name: 'vitals',
  rows: (p) => children(p.vitals, p),
  columns: [
    ...childKeys<Vit>(),
    col('time', 'timestamp', (r) => us(r.x.time)),
    col('role', 'string', (r) => r.x.role),
    vital('hr'),
    vital('sbp'),
    vital('dbp'),
    vital('rr'),
    vital('spo2'),
    col('temp', 'float64', (r) => r.x.temp, { decimals: 1 }),
    vital('gcs'),
  ],
};

type Tr = Patient['stays'][number]['treatments'][number];
export const TREATMENTS_TABLE: TableDef<Child<Tr>> = {
  name: 'treatments',
  rows: (p) =>
    children(
      p.stays.flatMap((s) => s.treatments),
      p,
    ),
  columns: [
    ...childKeys<Tr>(),
    col('time', 'timestamp', (r) => us(r.x.time)),
    col('role', 'string', (r) => r.x.role),
    col('system', 'string', (r) => r.x.system),
    col('code', 'string', (r) => r.x.code),
    col('display', 'string', (r) => r.x.display),
  ],
};

/** The one table of ndjson: the nested record, a line per patient (its digest is over the line's text). */
export const RECORD_SCHEMA: ColumnSchema[] = [{ name: 'record', type: 'string' }];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyTable = TableDef<any>;
const BY_FORMAT: Record<'csv' | 'parquet', AnyTable[]> = {
  csv: [PATIENTS_TABLE, TIMELINE_TABLE],
  parquet: [PATIENTS_TABLE, CONDITIONS_TABLE, TIMELINE_TABLE, VITALS_TABLE, TREATMENTS_TABLE],
};

/** The Location table of fhir-bulk: written once per job, with its first part. */
export const LOCATION_TABLE = 'Location';

/**
 * The tables a job writes in `format`, with their schemas; the first is the one with a row per
 * patient (ndjson: `patients` with the record; fhir: `Bundle`; fhir-bulk: `Patient`, then a table per resource type).
 */
export function patientTables(format: OutputFormat): Array<{ name: string; schema: ColumnSchema[]; child: boolean }> {
  if (format === 'ndjson') return [{ name: 'patients', schema: RECORD_SCHEMA, child: false }];
  if (format === 'fhir') return [{ name: 'Bundle', schema: RECORD_SCHEMA, child: false }];
  if (format === 'fhir-bulk') return FHIR_TYPES.map((t) => ({ name: t, schema: RECORD_SCHEMA, child: t !== 'Patient' }));
  return BY_FORMAT[format].map((t) => ({ name: t.name, schema: t.columns.map((c) => ({ ...c.schema })), child: t !== PATIENTS_TABLE }));
}

/** The table's rows for these patients, as one batch (start = the first patient's index). */
function toBatch(def: AnyTable, patients: Patient[]): { batch: Batch; owners: number[] } {
  const rows: unknown[] = [];
  const owners: number[] = [];
  for (const p of patients) for (const r of def.rows(p)) rows.push(r), owners.push(p.index);
  const n = rows.length;
  const nulls: (Uint8Array | undefined)[] = [];
  const columns: ColumnData[] = def.columns.map((c, ci) => {
    const t = c.schema.type;
    if (t === 'string') {
      const values: string[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const v = c.get(rows[i]);
        if (v === null) (nulls[ci] ??= new Uint8Array(n))[i] = 1;
        values[i] = v === null ? '' : String(v);
      }
      return { kind: 'plain', values };
    }
    if (t === 'uuid') {
      const out = new Uint8Array(16 * n);
      for (let i = 0; i < n; i++) {
        const hex = String(c.get(rows[i])).replace(/-/g, '');
        for (let b = 0; b < 16; b++) out[16 * i + b] = parseInt(hex.slice(2 * b, 2 * b + 2), 16);
      }
      return out;
    }
    const out = t === 'int32' || t === 'date' ? new Int32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = c.get(rows[i]);
      if (v === null) (nulls[ci] ??= new Uint8Array(n))[i] = 1;
      else out[i] = v as number;
    }
    return out;
  });
  return { batch: { start: patients[0]?.index ?? 0, length: n, columns, ...(nulls.some(Boolean) ? { nulls } : {}) }, owners };
}

/** Rows [from, to) of a batch as a batch of its own starting at `start` (views, no copy). */
function slice(b: Batch, schema: readonly ColumnSchema[], from: number, to: number, start: number): Batch {
  const columns = b.columns.map((c, ci): ColumnData => {
    if (schema[ci]!.type === 'uuid') return (c as Uint8Array).subarray(16 * from, 16 * to);
    if (ArrayBuffer.isView(c)) return (c as Int32Array).subarray(from, to);
    if (c.kind === 'plain') return { kind: 'plain', values: c.values.slice(from, to) };
    throw new Error('unexpected column');
  });
  return { start, length: to - from, columns, ...(b.nulls ? { nulls: b.nulls.map((x) => x?.subarray(from, to)) } : {}) };
}

/** Rows per patient a child table's digest index leaves room for. */
const CHILD_STRIDE = 1024;

export interface TablePart {
  table: string;
  schema: ColumnSchema[];
  batch: Batch;
  digest: string;
}

/** A child table's digest: each patient's rows as a batch starting at index × CHILD_STRIDE, so it does not depend on the parts. */
function childDigest(name: string, batch: Batch, schema: readonly ColumnSchema[], owners: number[]): string {
  const d = new TableDigest();
  for (let i = 0; i < owners.length; ) {
    let j = i;
    while (j < owners.length && owners[j] === owners[i]) j++;
    if (j - i > CHILD_STRIDE) throw new Error(`patient ${owners[i]} has ${j - i} ${name} rows, more than ${CHILD_STRIDE}`);
    d.add(slice(batch, schema, i, j, owners[i]! * CHILD_STRIDE), schema);
    i = j;
  }
  return d.toString();
}

const sha256 = typeof hash === 'function' ? (s: string) => hash('sha256', s, 'base64') : (s: string) => createHash('sha256').update(s).digest('base64');
/** A JSON table's batch as the digest sees it: each line's SHA-256 (base64) in place of the line. */
const hashedLines = (b: Batch): Batch => ({ ...b, columns: [{ kind: 'plain', values: (b.columns[0] as { values: string[] }).values.map(sha256) }] });

/** One line per patient (ndjson, fhir). */
function recordPart(table: string, patients: Patient[], line: (p: Patient) => string): TablePart {
  const values = patients.map(line);
  const batch: Batch = { start: patients[0]?.index ?? 0, length: values.length, columns: [{ kind: 'plain', values }] };
  const d = new TableDigest();
  d.add(hashedLines(batch), RECORD_SCHEMA);
  return { table, schema: RECORD_SCHEMA, batch, digest: d.toString() };
}

/** What the FHIR formats need besides the patients: the seed of the ids and the roles the scenario has. */
export interface FhirContext {
  seed: number;
  roles: readonly Role[];
}

/**
 * The batches of every table of `format` for these patients (contiguous indices), each with its
 * digest, in patientTables' order (fhir-bulk: without Location, see locationPart).
 */
export function patientParts(format: OutputFormat, patients: Patient[], fhir?: FhirContext): TablePart[] {
  if (format === 'ndjson') return [recordPart('patients', patients, (p) => JSON.stringify(p))];
  if (format === 'fhir' || format === 'fhir-bulk') {
    if (!fhir) throw new Error(`${format} needs the job's seed and roles`);
    if (format === 'fhir') return [recordPart('Bundle', patients, (p) => JSON.stringify(patientBundle(p, fhir.seed, fhir.roles)))];
    const byType = new Map<string, { values: string[]; owners: number[] }>(FHIR_TYPES.map((t) => [t, { values: [], owners: [] }]));
    for (const p of patients)
      for (const r of patientResources(p, fhir.seed, 'bulk')) {
        const t = byType.get(r.resourceType)!;
        t.values.push(JSON.stringify(r));
        t.owners.push(p.index);
      }
    return FHIR_TYPES.filter((t) => t !== LOCATION_TABLE).map((table) => {
      const { values, owners } = byType.get(table)!;
      const batch: Batch = { start: patients[0]?.index ?? 0, length: values.length, columns: [{ kind: 'plain', values }] };
      if (table === 'Patient') {
        const d = new TableDigest();
        d.add(hashedLines(batch), RECORD_SCHEMA);
        return { table, schema: RECORD_SCHEMA, batch, digest: d.toString() };
      }
      return { table, schema: RECORD_SCHEMA, batch, digest: childDigest(table, hashedLines(batch), RECORD_SCHEMA, owners) };
    });
  }
  return BY_FORMAT[format].map((def) => {
    const schema = def.columns.map((c) => c.schema);
    const { batch, owners } = toBatch(def, patients);
    if (def !== PATIENTS_TABLE) return { table: def.name, schema, batch, digest: childDigest(def.name, batch, schema, owners) };
    const d = new TableDigest();
    d.add(batch, schema);
    return { table: def.name, schema, batch, digest: d.toString() };
  });
}

/** fhir-bulk's Location table: the job's roles, one resource each. */
export function locationPart(fhir: FhirContext): TablePart {
  const values = locations(fhir.seed, fhir.roles).map((r) => JSON.stringify(r));
  const batch: Batch = { start: 0, length: values.length, columns: [{ kind: 'plain', values }] };
  const d = new TableDigest();
  d.add(hashedLines(batch), RECORD_SCHEMA);
  return { table: LOCATION_TABLE, schema: RECORD_SCHEMA, batch, digest: d.toString() };
}
