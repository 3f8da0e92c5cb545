/**
 * The emissions kind's bundled reference data (docs/EMISSIONS.md says where every number came
 * from) and its pure arithmetic. The set-based SQL of a batch (calculate.ts) does the same
 * arithmetic; the unit tests check both against hand-worked examples.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { averageIntensity } from '@tgwf/co2/data';
import { csvCells } from './csv.js';

const dataFile = (name: string) => fileURLToPath(new URL(`../../../data/emissions/${name}`, import.meta.url));

export const ACTIVITY_TYPES = ['electricity', 'goods_services', 'air_travel'] as const;
export type ActivityType = (typeof ACTIVITY_TYPES)[number];
export const CABIN_CLASSES = ['economy', 'premium_economy', 'business', 'first', 'average'] as const;
export type CabinClass = (typeof CABIN_CLASSES)[number];
export type HaulBand = 'domestic' | 'short_haul' | 'long_haul' | 'international';

/**
 * The built-in factor set's version. Loading another set is `POST /v1/emission-factors` or `shardflow emissions load-factors`.
 * A change to the built-in figures or to how they are applied is a new version (results are kept per
 * activity and version): 2025.2 deflates spend to the factor's base year, which 2025.1 did not.
 */
export const DEFAULT_FACTOR_SET = 'default-2025.2';

/**
 * DESNZ (UK government GHG conversion factors): great-circle distances are increased by 8 % for
 * routing and delays before the passenger.km factors are applied; a distance the user reports is used as is.
 */
export const GREAT_CIRCLE_UPLIFT = 1.08;
/** Flights to or from the UK shorter than this (km, before uplift) are "short-haul", others "long-haul" (DESNZ bands). */
export const SHORT_HAUL_MAX_KM = 3700;
/** Mean Earth radius (km, IUGG) for the haversine great-circle distance. */
export const EARTH_RADIUS_KM = 6371.0088;
const UK = 'United Kingdom';

export interface Airport {
  iata: string;
  lat: number;
  lon: number;
  country: string;
}

/** The rows of a bundled CSV file after its header line (ours: no open quotes). */
function parseCsv(text: string): string[][] {
  return text
    .split('\n')
    .filter(Boolean)
    .slice(1)
    .map((line) => csvCells(line) ?? [line]);
}

let airports: Map<string, Airport> | undefined;
/** IATA code → coordinates and country (data/emissions/airports.csv, from OpenFlights). */
export function airportIndex(): Map<string, Airport> {
  if (!airports) {
    airports = new Map();
    for (const [iata, lat, lon, country] of parseCsv(readFileSync(dataFile('airports.csv'), 'utf8'))) {
      airports.set(iata!, { iata: iata!, lat: Number(lat), lon: Number(lon), country: country! });
    }
  }
  return airports;
}

let fx: Map<string, number> | undefined;
/** Currency → units per EUR, 2021 annual averages (data/emissions/fx-2021-per-eur.csv). */
export function fxTable(): Map<string, number> {
  if (!fx) fx = new Map(parseCsv(readFileSync(dataFile('fx-2021-per-eur.csv'), 'utf8')).map(([c, r]) => [c!, Number(r)]));
  return fx;
}

let cpi: { months: Map<string, number>; first: string; last: string } | undefined;
/** US CPI-U, all items, not seasonally adjusted (BLS CUUR0000SA0), by month YYYY-MM (data/emissions/us-cpi-u-monthly.csv). */
export function cpiTable(): { months: Map<string, number>; first: string; last: string } {
  if (!cpi) {
    const rows = parseCsv(readFileSync(dataFile('us-cpi-u-monthly.csv'), 'utf8')).map(([p, v]) => [p!, Number(v)] as const);
    cpi = { months: new Map(rows), first: rows[0]![0], last: rows[rows.length - 1]![0] };
  }
  return cpi;
}

/** The mean of a year's twelve monthly CPI-U figures; undefined when the table lacks a month of it. */
export function cpiYearAverage(year: number): number | undefined {
  const { months } = cpiTable();
  let sum = 0;
  for (let m = 1; m <= 12; m++) {
    const v = months.get(`${year}-${String(m).padStart(2, '0')}`);
    if (v === undefined) return undefined;
    sum += v;
  }
  return sum / 12;
}

/**
 * Spend of month `period` → money of the factor's base year: CPI-U(base year average) / CPI-U(period),
 * the period clamped into the table (a month after its last uses the last). 1 when the factor is not
 * in USD or has no base year the table covers (the ratio then changes nothing; docs/EMISSIONS.md).
 */
export function priceRatio(period: string, factorCurrency: string | null, baseYear: number | null): { ratio: number; indexMonth: string | null } {
  const base = factorCurrency === 'USD' && baseYear !== null ? cpiYearAverage(baseYear) : undefined;
  if (base === undefined) return { ratio: 1, indexMonth: null };
  const { months, first, last } = cpiTable();
  const month = period < first ? first : period > last ? last : period;
  return { ratio: base / months.get(month)!, indexMonth: month };
}

/** How many units of `to` one unit of `from` is worth, at the table's (2021) rates. */
export function fxRate(from: string, to: string): number {
  const t = fxTable();
  const a = t.get(from);
  const b = t.get(to);
  if (a === undefined || b === undefined) throw new RangeError(`no exchange rate for ${from} → ${to}`);
  return b / a;
}

/** Haversine great-circle distance in km. */
export function greatCircleKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** DESNZ haul band: both ends in the UK → domestic; one end → short/long-haul by distance; neither → international. */
export function haulBand(originCountry: string, destinationCountry: string, distanceKm: number): HaulBand {
  const o = originCountry === UK;
  const d = destinationCountry === UK;
  if (o && d) return 'domestic';
  if (o || d) return distanceKm < SHORT_HAUL_MAX_KM ? 'short_haul' : 'long_haul';
  return 'international';
}

/** One factor of a set, as loaded into emission_factors. */
export interface FactorRow {
  type: ActivityType;
  key: string;
  unit: string;
  kgCo2e: number;
  kgCo2?: number | null;
  kgCh4?: number | null;
  kgN2o?: number | null;
  currency?: string | null;
  baseYear?: number | null;
  source: string;
  sourceTable?: string | null;
  year?: number | null;
  region?: string | null;
  url?: string | null;
  label?: string | null;
}

const DESNZ = 'UK Government GHG Conversion Factors for Company Reporting 2025 (DESNZ), flat file';
const DESNZ_URL = 'https://www.gov.uk/government/publications/greenhouse-gas-reporting-conversion-factors-2025';
const EPA = 'US EPA Supply Chain Greenhouse Gas Emission Factors for US Industries and Commodities v1.2 (NAICS-6, 2021 USD, with margins)';
const EPA_URL = 'https://catalog.data.gov/dataset/supply-chain-greenhouse-gas-emission-factors-v1-2-by-naics-6';
const EMBER = 'Ember yearly electricity data, average grid carbon intensity, as carried by @tgwf/co2 0.19.0 (averageIntensity)';
const EMBER_URL = 'https://ember-climate.org/data/data-explorer/';

/** The built-in factor set, from the bundled files and @tgwf/co2. */
export function defaultFactors(): FactorRow[] {
  const out: FactorRow[] = [];
  for (const [band, cabin, rf, co2e, co2, ch4, n2o, id] of parseCsv(readFileSync(dataFile('desnz-2025-air.csv'), 'utf8'))) {
    out.push({
      type: 'air_travel',
      key: `${band}:${cabin}:${rf}`,
      unit: 'passenger.km',
      kgCo2e: Number(co2e),
      kgCo2: Number(co2),
      kgCh4: Number(ch4),
      kgN2o: Number(n2o),
      source: DESNZ,
      sourceTable: `Business travel- air, Flights (IDs ${id}_1..4)`,
      year: 2025,
      region: 'UK',
      url: DESNZ_URL,
      label: `${band} ${cabin} ${rf === 'with_rf' ? 'with' : 'without'} RF`,
    });
  }
  for (const [naics, title, , , withMargins] of parseCsv(readFileSync(dataFile('epa-useeio-v1.2-naics.csv'), 'utf8'))) {
    out.push({
      type: 'goods_services',
      key: naics!,
      unit: 'USD',
      kgCo2e: Number(withMargins),
      currency: 'USD',
      baseYear: 2021,
      source: EPA,
      sourceTable: 'SupplyChainGHGEmissionFactors_v1.2_NAICS_CO2e_USD2021.csv, "Supply Chain Emission Factors with Margins"',
      year: 2021,
      region: 'US',
      url: EPA_URL,
      label: title,
    });
  }
  for (const [key, grams] of Object.entries(averageIntensity.data as Record<string, number>)) {
    // Country codes (ISO 3166 alpha-3) and WORLD; Ember's regional aggregates (EU, ASIA, …) are left out.
    if (!/^[A-Z]{3}$/.test(key) && key !== 'WORLD') continue;
    out.push({
      type: 'electricity',
      key,
      unit: 'kWh',
      kgCo2e: grams / 1000,
      source: EMBER,
      sourceTable: 'average-intensities (gCO2e/kWh, latest year per country)',
      region: key,
      url: EMBER_URL,
      label: `grid average ${key}`,
    });
  }
  return out;
}

// ---- Pure arithmetic (the same as the SQL of calculate.ts), for tests and documentation ----

export interface AirInput {
  origin: string;
  destination: string;
  cabinClass: CabinClass;
  passengers: number;
  roundTrip: boolean;
  distanceKm?: number | null;
}

/** The distance, its method and uplift, and the band of a trip (one way). */
export function airDistance(a: AirInput): { distanceKm: number; method: 'great_circle' | 'reported'; uplift: number; band: HaulBand } {
  const idx = airportIndex();
  const o = idx.get(a.origin);
  const d = idx.get(a.destination);
  if (!o || !d) throw new RangeError(`unknown IATA code ${!o ? a.origin : a.destination}`);
  const reported = a.distanceKm ?? null;
  const base = reported ?? greatCircleKm(o, d);
  return {
    distanceKm: base,
    method: reported === null ? 'great_circle' : 'reported',
    uplift: reported === null ? GREAT_CIRCLE_UPLIFT : 1,
    band: haulBand(o.country, d.country, base),
  };
}

/** kg CO2e of a trip with a passenger.km factor: distance × uplift × factor × passengers × (2 for a round trip). */
export function airKg(distanceKm: number, uplift: number, factor: number, passengers: number, roundTrip: boolean): number {
  return distanceKm * uplift * factor * passengers * (roundTrip ? 2 : 1);
}

/** kg CO2e of electricity: kWh × kg CO2e/kWh. */
export const electricityKg = (kwh: number, factor: number): number => kwh * factor;

/** kg CO2e of spend: amount converted to the factor's currency (× the price ratio to its base year) × kg CO2e per unit of it. */
export const spendKg = (amount: number, currency: string, factorCurrency: string, factor: number, priceRatio = 1): number =>
  amount * fxRate(currency, factorCurrency) * priceRatio * factor;
