/**
 * A realistic test set of activities on demand (`shardflow seed emissions`, bench/emissions.ts):
 * activity `index` of seed `seed` is a pure function of (seed, index, options) — the counter-based
 * generator of src/data/rng.ts, one counter per index — so the same seed gives the same activities
 * however they are cut into chunks, and no state carries from one activity to the next.
 *
 * Every activity is one that `POST /v1/activities` accepts (validateActivity), built only from the
 * reference data the kind loads: the default factor set's electricity countries and NAICS codes,
 * the bundled FX table's currencies, the bundled airports. The mix:
 *
 * - 40 % electricity: a month of 2024–2025; 80 % in 16 large economies, the rest any country with a
 *   grid factor; a region on a quarter of those of the USA, Canada, Australia, the UK and Germany
 *   (no factor has a region, so these fall back to the country); log-uniform 200–200,000 kWh; a
 *   supplier contract factor on 15 % (a third of those 0: a renewable tariff).
 * - 30 % goods_services: a month; USD 50 %, EUR 25 %, GBP 10 %, the other currencies 15 %;
 *   a NAICS code of the default set; log-uniform 50–250,000.
 * - 30 % air_travel: a day of 2024–2025; 20 % UK domestic, 35 % UK ↔ Europe (short haul), 25 %
 *   UK ↔ the rest of the world (long haul), 20 % neither end in the UK (international); either
 *   direction; economy 60 %, premium economy 10 %, business 20 %, first 3 %, average 7 %;
 *   passengers 1–4 (70/18/8/4 %); 55 % round trips; 5 % with a reported distance (great circle × 1–1.15).
 */
import { counterState, keyState, laneU32, STREAMS } from '../../data/rng.js';
import { ACTIVITY_TYPES, airportIndex, defaultFactors, fxTable, greatCircleKm, type ActivityType, type CabinClass } from './reference.js';

export interface SeedOptions {
  /** How many organisations the activities are spread over (orgId `${orgPrefix}-1` … `${orgPrefix}-${orgs}`). */
  orgs: number;
  orgPrefix: string;
}

export const SEED_DEFAULTS: SeedOptions = { orgs: 20, orgPrefix: 'seed-org' };

export type SeedActivity =
  | { type: 'electricity'; orgId: string; period: string; kwh: number; country: string; region?: string; contractFactor?: number }
  | { type: 'goods_services'; orgId: string; period: string; amount: number; currency: string; category: string }
  | {
      type: 'air_travel';
      orgId: string;
      date: string;
      origin: string;
      destination: string;
      cabinClass: CabinClass;
      passengers: number;
      roundTrip: boolean;
      distanceKm?: number;
    };

const INV32 = 1 / 4294967296;
/** Uniform in [0, 1) from a 32-bit lane. */
const unit = (x: number) => x * INV32;
const pick = <T>(list: readonly T[], x: number): T => list[Math.floor(unit(x) * list.length)]!;
/** Weighted choice: `cum` is the cumulative weights (last = 1). */
function weighted<T>(values: readonly T[], cum: readonly number[], x: number): T {
  const u = unit(x);
  for (let i = 0; i < cum.length; i++) if (u < cum[i]!) return values[i]!;
  return values[values.length - 1]!;
}
const cumulative = (w: number[]) => {
  let s = 0;
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((v) => (s += v / total));
};
/** Log-uniform in [lo, hi), rounded to `digits` decimals. */
const logUniform = (x: number, lo: number, hi: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(lo * Math.exp(unit(x) * Math.log(hi / lo)) * f) / f;
};

const CORE_COUNTRIES = ['USA', 'DEU', 'GBR', 'FRA', 'JPN', 'CHN', 'IND', 'BRA', 'CAN', 'AUS', 'ESP', 'ITA', 'NLD', 'SWE', 'POL', 'MEX'];
/** Sub-national regions (no factor of the default set has one: the country fallback). */
const REGIONS: Record<string, readonly string[]> = {
  USA: ['CA', 'TX', 'NY', 'WA', 'IL'],
  CAN: ['ON', 'QC', 'BC', 'AB'],
  AUS: ['NSW', 'VIC', 'QLD'],
  GBR: ['England', 'Scotland', 'Wales', 'Northern Ireland'],
  DEU: ['BY', 'BW', 'NW', 'BE'],
};
const UK_AIRPORTS = ['LHR', 'LGW', 'MAN', 'EDI', 'GLA', 'BHX', 'BRS', 'BHD', 'ABZ', 'NCL', 'STN'];
const EUROPE_AIRPORTS = ['CDG', 'AMS', 'FRA', 'MAD', 'BCN', 'FCO', 'MUC', 'ZRH', 'DUB', 'CPH', 'ARN', 'OSL', 'LIS', 'VIE', 'BRU', 'MXP', 'WAW', 'PRG', 'ATH', 'IST'];
const WORLD_AIRPORTS = ['JFK', 'LAX', 'SFO', 'ORD', 'BOS', 'YYZ', 'DXB', 'SIN', 'HKG', 'NRT', 'SYD', 'JNB', 'GRU', 'DEL', 'BOM', 'PEK', 'ATL', 'DFW', 'SEA', 'MIA'];
const CABINS: readonly CabinClass[] = ['economy', 'premium_economy', 'business', 'first', 'average'];
const CABIN_CUM = cumulative([60, 10, 20, 3, 7]);
const PAX_CUM = cumulative([70, 18, 8, 4]);
const ROUTE_CUM = cumulative([20, 35, 25, 20]);
/** Months 2024-01 … 2025-12 and days 2024-01-01 … 2025-12-31. */
const MONTHS = Array.from({ length: 24 }, (_, i) => `${2024 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`);
const DAYS = (() => {
  const out: string[] = [];
  for (let t = Date.UTC(2024, 0, 1); t < Date.UTC(2026, 0, 1); t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
})();

interface Pools {
  core: string[];
  countries: string[];
  currencies: string[];
  currencyCum: number[];
  categories: string[];
  uk: string[];
  europe: string[];
  world: string[];
}

let pools: Pools | undefined;
/** The keys to draw from, from the kind's own reference data (loaded once; sorted, so the order never depends on a file's). */
function seedPools(): Pools {
  if (pools) return pools;
  const factors = defaultFactors();
  const countries = factors.filter((f) => f.type === 'electricity' && /^[A-Z]{3}$/.test(f.key)).map((f) => f.key).sort();
  const core = CORE_COUNTRIES.filter((c) => countries.includes(c));
  const categories = [...new Set(factors.filter((f) => f.type === 'goods_services').map((f) => f.key))].sort();
  const fx = [...fxTable().keys()];
  const others = fx.filter((c) => !['USD', 'EUR', 'GBP'].includes(c)).sort();
  const main = ['USD', 'EUR', 'GBP'].filter((c) => fx.includes(c));
  const currencies = [...main, ...others];
  const currencyCum = cumulative([...main.map((c) => ({ USD: 50, EUR: 25, GBP: 10 })[c]!), ...others.map(() => 15 / others.length)]);
  const ap = airportIndex();
  const known = (list: string[]) => list.filter((c) => ap.has(c));
  pools = { core, countries, currencies, currencyCum, categories, uk: known(UK_AIRPORTS), europe: known(EUROPE_AIRPORTS), world: known(WORLD_AIRPORTS) };
  for (const [k, v] of Object.entries(pools)) if (Array.isArray(v) && v.length === 0) throw new Error(`seed: no ${k} in the bundled reference data`);
  return pools;
}

/** The type of activity `index` (lane 0 alone: cheap, for counting a range without building it). */
export function seedType(seed: number, index: number): ActivityType {
  const u = unit(laneU32(counterState(keyState(seed, STREAMS.emissionsSeed), index), 0));
  return u < 0.4 ? 'electricity' : u < 0.7 ? 'goods_services' : 'air_travel';
}

/** A generator for one seed: activity(index) is a pure function of (seed, index, options). */
export function seedGenerator(seed: number, opts: SeedOptions = SEED_DEFAULTS) {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed: an integer in [0, 2^53 - 1], got ${seed}`);
  if (!Number.isInteger(opts.orgs) || opts.orgs < 1) throw new RangeError(`orgs: an integer ≥ 1, got ${opts.orgs}`);
  const key = keyState(seed, STREAMS.emissionsSeed);
  const p = seedPools();
  const orgIds = Array.from({ length: opts.orgs }, (_, k) => `${opts.orgPrefix}-${k + 1}`);

  function activity(index: number): SeedActivity {
    const cs = counterState(key, index);
    const r = (lane: number) => laneU32(cs, lane);
    const t = unit(r(0));
    const orgId = pick(orgIds, r(1));
    if (t < 0.4) {
      const country = unit(r(3)) < 0.8 ? pick(p.core, r(4)) : pick(p.countries, r(4));
      const a: SeedActivity = { type: 'electricity', orgId, period: pick(MONTHS, r(2)), kwh: logUniform(r(5), 200, 200_000, 1), country };
      const regions = REGIONS[country];
      if (regions && unit(r(6)) < 0.25) a.region = pick(regions, r(7));
      const c = unit(r(8));
      if (c < 0.05) a.contractFactor = 0;
      else if (c < 0.15) a.contractFactor = Math.round(unit(r(9)) * 500) / 1000;
      return a;
    }
    if (t < 0.7) {
      return {
        type: 'goods_services',
        orgId,
        period: pick(MONTHS, r(2)),
        amount: logUniform(r(3), 50, 250_000, 2),
        currency: weighted(p.currencies, p.currencyCum, r(4)),
        category: pick(p.categories, r(5)),
      };
    }
    const route = weighted([0, 1, 2, 3], ROUTE_CUM, r(3));
    let a: string;
    let b: string;
    if (route === 0) {
      a = pick(p.uk, r(4));
      b = pick(p.uk, r(5));
      if (b === a) b = p.uk[(p.uk.indexOf(a) + 1) % p.uk.length]!;
    } else if (route === 1) [a, b] = [pick(p.uk, r(4)), pick(p.europe, r(5))];
    else if (route === 2) [a, b] = [pick(p.uk, r(4)), pick(p.world, r(5))];
    else {
      // neither end in the UK: within Europe, Europe ↔ the world, or within the rest of the world
      const both = [...p.europe, ...p.world];
      a = pick(both, r(4));
      b = pick(both, r(5));
      if (b === a) b = both[(both.indexOf(a) + 1) % both.length]!;
    }
    if (unit(r(6)) < 0.5) [a, b] = [b, a];
    const trip: SeedActivity = {
      type: 'air_travel',
      orgId,
      date: pick(DAYS, r(2)),
      origin: a,
      destination: b,
      cabinClass: weighted(CABINS, CABIN_CUM, r(7)),
      passengers: weighted([1, 2, 3, 4], PAX_CUM, r(8)),
      roundTrip: unit(r(9)) < 0.55,
    };
    if (unit(r(10)) < 0.05) {
      const ap = airportIndex();
      trip.distanceKm = Math.round(greatCircleKm(ap.get(a)!, ap.get(b)!) * (1 + unit(r(11)) * 0.15));
    }
    return trip;
  }

  return {
    activity,
    orgIds,
    /**
     * NDJSON of activities [from, to) as text pieces of about `pieceBytes` (whole lines), with the
     * count per type of each piece: a stream, never the whole range in memory.
     */
    *ndjson(from: number, to: number, pieceBytes = 1 << 16): Generator<{ text: string; counts: Record<ActivityType, number> }> {
      let text = '';
      let counts = zeroCounts();
      for (let i = from; i < to; i++) {
        const a = activity(i);
        counts[a.type]++;
        text += JSON.stringify(a) + '\n';
        if (text.length >= pieceBytes) {
          yield { text, counts };
          text = '';
          counts = zeroCounts();
        }
      }
      if (text) yield { text, counts };
    },
  };
}

export const zeroCounts = (): Record<ActivityType, number> => Object.fromEntries(ACTIVITY_TYPES.map((t) => [t, 0])) as Record<ActivityType, number>;

/** Activities per type among [from, to) of a seed, without building them. */
export function seedCounts(seed: number, from: number, to: number): Record<ActivityType, number> {
  const counts = zeroCounts();
  for (let i = from; i < to; i++) counts[seedType(seed, i)]++;
  return counts;
}
