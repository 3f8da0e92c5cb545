/**
 * Activities in: each record validated (every error of a line reported), derived columns computed
 * (an air trip's great-circle distance and airport countries, its period), and the valid ones
 * streamed into Postgres with COPY (text format) inside one transaction, so memory stays flat and
 * a body with an invalid line inserts nothing unless the caller asked for a partial insert.
 */
import type postgres from 'postgres';
import { airportIndex, CABIN_CLASSES, fxTable, greatCircleKm, ACTIVITY_TYPES, type ActivityType } from './reference.js';
import { PERIOD_RE } from './spec.js';

export interface Rejected {
  line: number;
  errors: string[];
}

/** The most passengers one air-travel activity may have (a whole charter is a few hundred). */
export const MAX_PASSENGERS = 10_000;

/** The columns COPY writes, in order. */
export const COPY_COLUMNS = [
  'tenant_id', 'org_id', 'type', 'period', 'kwh', 'country', 'region', 'contract_factor', 'amount', 'currency', 'category',
  'activity_date', 'origin', 'destination', 'cabin_class', 'passengers', 'round_trip', 'distance_km', 'gc_distance_km',
  'origin_country', 'destination_country',
] as const;
type Row = Partial<Record<(typeof COPY_COLUMNS)[number], string | number | boolean | null>>;

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/** A real calendar day (proleptic Gregorian, as Date reads it), without building a Date: it is on every air trip's path. */
function validDate(s: string): boolean {
  if (!DATE_RE.test(s)) return false;
  const y = Number(s.slice(0, 4));
  const m = Number(s.slice(5, 7));
  const d = Number(s.slice(8, 10));
  if (m < 1 || m > 12 || d < 1) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return d <= (m === 2 ? (leap ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31);
}

/** A JSON value or a CSV cell ('' = absent) as a number, or undefined when absent, or NaN when not a number. */
function num(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v.trim())) return Number(v);
  return NaN;
}

function bool(v: unknown): boolean | undefined | null {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return null;
}

const str = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : typeof v === 'string' ? v : String(v));

const FIELDS: Record<ActivityType, readonly string[]> = {
  electricity: ['type', 'orgId', 'period', 'kwh', 'country', 'region', 'contractFactor'],
  goods_services: ['type', 'orgId', 'period', 'amount', 'currency', 'category'],
  air_travel: ['type', 'orgId', 'date', 'origin', 'destination', 'cabinClass', 'passengers', 'roundTrip', 'distanceKm'],
};

// (A module-level function, not a closure per record: this runs once per ingested line.)
function readPeriod(r: Record<string, unknown>, errors: string[]): string | null {
  const p = str(r.period);
  if (!p || !PERIOD_RE.test(p)) errors.push(`period: bad period ${JSON.stringify(p ?? null)}, expected YYYY-MM`);
  return p ?? null;
}

/** One record → a row to COPY, or its errors (all of them). CSV cells of other types' columns may be empty. */
export function validateActivity(rec: unknown, tenantId: string, fromCsv = false): { row: Row } | { errors: string[] } {
  if (!rec || typeof rec !== 'object' || Array.isArray(rec)) return { errors: ['an activity is a JSON object'] };
  const r = rec as Record<string, unknown>;
  const errors: string[] = [];
  const type = r.type as ActivityType;
  if (!(ACTIVITY_TYPES as readonly string[]).includes(type as string)) return { errors: [`type: one of ${ACTIVITY_TYPES.join(', ')}`] };
  for (const k of Object.keys(r)) {
    if (!FIELDS[type].includes(k) && !(fromCsv && (r[k] === '' || r[k] === undefined))) errors.push(`${k}: not a field of a ${type} activity`);
  }
  // Postgres text holds no NUL (and a COPY line with one fails the whole body): a line error instead.
  let nul: string[] | undefined;
  for (const k in r) {
    const v = r[k];
    if (typeof v === 'string' && v.includes('\u0000')) (nul ??= []).push(`${k}: must not contain NUL (U+0000)`);
  }
  if (nul) return { errors: [...errors, ...nul] };
  const orgId = str(r.orgId);
  if (!orgId || orgId.length > 200) errors.push('orgId: required, 1–200 characters');
  const row: Row = { tenant_id: tenantId, org_id: orgId ?? null, type };
  if (type === 'electricity') {
    row.period = readPeriod(r, errors);
    const kwh = num(r.kwh);
    if (kwh === undefined || !Number.isFinite(kwh)) errors.push('kwh: required, a number');
    else if (kwh < 0) errors.push(`kwh: negative (${kwh})`);
    const country = str(r.country);
    if (!country || !/^[A-Z]{3}$/.test(country)) errors.push('country: required, an ISO 3166 alpha-3 code (e.g. DEU)');
    const cf = num(r.contractFactor);
    if (cf !== undefined && (!Number.isFinite(cf) || cf < 0)) errors.push('contractFactor: a number ≥ 0 (kg CO2e per kWh)');
    Object.assign(row, { kwh: kwh ?? null, country: country ?? null, region: str(r.region) ?? null, contract_factor: cf ?? null });
  } else if (type === 'goods_services') {
    row.period = readPeriod(r, errors);
    const amount = num(r.amount);
    if (amount === undefined || !Number.isFinite(amount)) errors.push('amount: required, a number');
    else if (amount < 0) errors.push(`amount: negative (${amount})`);
    const currency = str(r.currency);
    if (!currency || !fxTable().has(currency)) errors.push(`currency: unknown currency ${JSON.stringify(currency ?? null)} (known: ${[...fxTable().keys()].join(', ')})`);
    const category = str(r.category);
    if (!category || !/^\d{6}$/.test(category)) errors.push('category: required, a six-digit 2017 NAICS code (e.g. 541511)');
    Object.assign(row, { amount: amount ?? null, currency: currency ?? null, category: category ?? null });
  } else {
    const date = str(r.date);
    if (!date || !validDate(date)) errors.push(`date: bad date ${JSON.stringify(date ?? null)}, expected YYYY-MM-DD`);
    else row.period = date.slice(0, 7);
    row.activity_date = date ?? null;
    const airports = airportIndex();
    const ends: Array<{ lat: number; lon: number; country: string } | undefined> = [];
    for (const k of ['origin', 'destination'] as const) {
      const code = str(r[k]);
      const ap = code ? airports.get(code) : undefined;
      if (!code) errors.push(`${k}: required, an IATA airport code`);
      else if (!ap) errors.push(`${k}: unknown IATA code ${JSON.stringify(code)}`);
      ends.push(ap);
      row[k] = code ?? null;
    }
    const cabin = str(r.cabinClass);
    if (!cabin || !(CABIN_CLASSES as readonly string[]).includes(cabin)) errors.push(`cabinClass: one of ${CABIN_CLASSES.join(', ')}`);
    const pax = num(r.passengers);
    // The column is an integer: a count past this is a typo, reported on its line (not a failed COPY).
    if (pax === undefined || !Number.isInteger(pax) || pax < 1 || pax > MAX_PASSENGERS) errors.push(`passengers: required, an integer from 1 to ${MAX_PASSENGERS.toLocaleString('en-US')}`);
    const rt = bool(r.roundTrip);
    if (rt === undefined || rt === null) errors.push('roundTrip: required, true or false');
    const dist = num(r.distanceKm);
    if (dist !== undefined && (!Number.isFinite(dist) || dist <= 0)) errors.push('distanceKm: a number > 0');
    const [o, d] = ends;
    Object.assign(row, {
      cabin_class: cabin ?? null,
      passengers: pax ?? null,
      round_trip: rt ?? null,
      distance_km: dist ?? null,
      gc_distance_km: o && d ? greatCircleKm(o, d) : null,
      origin_country: o?.country ?? null,
      destination_country: d?.country ?? null,
    });
  }
  return errors.length ? { errors } : { row };
}

const COPY_SPECIAL = /[\\\t\n\r]/;

/**
 * A value in COPY's text format. A number is its shortest round-trip decimal (String), which
 * Postgres's float8 input reads back to the same double (every number column is double precision
 * or integer), and shorter than toPrecision(17).
 */
function copyValue(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (!COPY_SPECIAL.test(v)) return v;
  return v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

const cells: string[] = new Array(COPY_COLUMNS.length);
/**
 * One line of COPY text. Joined, so the line is one flat string: built with `+=` it would be a tree
 * of ~40 cons strings that lives in the 64 KiB batch until its flush, surviving scavenges into the
 * old generation (the API's heap then grew ~2.5 MB per 100,000 rows until the next full GC).
 */
export function copyLine(row: Row): string {
  for (let i = 0; i < COPY_COLUMNS.length; i++) cells[i] = copyValue(row[COPY_COLUMNS[i]!]);
  return cells.join('\t') + '\n';
}

export interface IngestOutcome {
  inserted: number;
  rejected: Rejected[];
}

export interface IngestResult extends IngestOutcome {
  committed: boolean;
  /** Every id this ingest inserted is above this one (a sequence value drawn before the COPY). */
  idsAbove: number;
}


/**
 * Validates `records` (batches of line number and record) as they come and COPYs the valid ones, in one
 * transaction: committed when every line is valid or `partial`, else rolled back. `after` runs in
 * the same transaction before the commit (the idempotency record).
 */
export async function ingestActivities(
  sql: postgres.Sql,
  tenantId: string,
  /** Batches of (line number, record), as they arrive; a batch may be lazy (records parsed as they are taken). */
  records: AsyncIterable<Iterable<{ line: number; record: unknown; fromCsv?: boolean } | { line: number; error: string }>>,
  opts: { partial: boolean; after?: (tx: postgres.TransactionSql, outcome: IngestOutcome) => Promise<void> },
): Promise<IngestResult> {
  const rejected: Rejected[] = [];
  let inserted = 0;
  const ROLLBACK = Symbol('rollback');
  let committed = true;
  let idsAbove = 0;
  try {
    await sql.begin(async (tx) => {
      // Drawn before the COPY's ids, so all of them are above it: where the calculator starts looking.
      const [seq] = await tx<{ v: string }[]>`select nextval(pg_get_serial_sequence('activities', 'id'))::text as v`;
      idsAbove = Number(seq!.v);
      const writable = await tx`copy activities (${tx.unsafe(COPY_COLUMNS.join(', '))}) from stdin`.writable();
      const done = new Promise<void>((resolve, reject) => {
        writable.on('finish', resolve);
        writable.on('error', reject);
      });
      let buf = '';
      const flush = async () => {
        if (!buf) return;
        const chunk = buf;
        buf = '';
        if (!writable.write(chunk)) await new Promise((r) => writable.once('drain', r));
      };
      try {
        for await (const batch of records) {
          for (const item of batch) {
            const v = 'error' in item ? { errors: [item.error] } : validateActivity(item.record, tenantId, item.fromCsv);
            if ('errors' in v) {
              rejected.push({ line: item.line, errors: v.errors });
              continue;
            }
            inserted++;
            buf += copyLine(v.row);
            if (buf.length > 1 << 16) await flush();
          }
        }
        await flush();
      } catch (err) {
        // The body failed mid-way (over the upload limit, the client went away): end the COPY with
        // CopyFail first, so the connection leaves COPY mode and the transaction can roll back.
        writable.destroy(err as Error);
        await done.catch(() => undefined);
        throw err;
      }
      writable.end();
      await done;
      if (rejected.length > 0 && !opts.partial) throw ROLLBACK;
      await opts.after?.(tx, { inserted, rejected });
    });
  } catch (err) {
    if (err !== ROLLBACK) throw err;
    committed = false;
    inserted = 0;
  }
  return { inserted, rejected, committed, idsAbove };
}
