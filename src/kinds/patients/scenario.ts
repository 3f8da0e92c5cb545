/**
 * The `patients` scenario: an exercise's casualty model (docs/PATIENTS.md § Scenario).
 *
 * - `ScenarioSchema` (zod) is the shape: its failures are 400s naming the field (`spec.durationDays`,
 *   `spec.facilities.R2.byTriage.T1.die`, an unknown facility `spec.facilities.R5`).
 * - `checkScenario` is the semantics (422): shares summing to 1, known nationalities, events inside
 *   the exercise, facility dispositions summing to 1, POI and R4 not skipped.
 * - `normalizeScenario` resolves a preset, fills every default and returns a `ResolvedScenario`:
 *   the pure input of the generator (no DB here; storage and the API come later).
 */
import { z } from '@hono/zod-openapi';
import { SpecError, type FieldError } from '../../engine/kind.js';
import { NATO_NATIONS } from './names.js';

export const WARFARE = ['conventional', 'artillery', 'urban', 'guerrilla', 'drone', 'naval', 'cbrn', 'peacekeeping'] as const;
export const INTENSITY = ['low', 'moderate', 'high', 'very_high', 'extreme'] as const;
export const TEMPO = ['sustained', 'escalating', 'surge', 'declining', 'intermittent'] as const;
export const EVENT_TYPES = ['major_offensive', 'ambush', 'mass_casualty'] as const;
export const TERRAIN = ['open', 'forest', 'urban', 'mountain', 'desert', 'arctic', 'maritime'] as const;
export const ROLES = ['POI', 'R1', 'R2', 'R3', 'R4'] as const;
export const TRIAGE = ['T1', 'T2', 'T3', 'T4'] as const;
export type Warfare = (typeof WARFARE)[number];
export type Intensity = (typeof INTENSITY)[number];
export type Tempo = (typeof TEMPO)[number];
export type Role = (typeof ROLES)[number];
export type Triage = (typeof TRIAGE)[number];
export type Terrain = (typeof TERRAIN)[number];

const prob = z.number().min(0).max(1);
const share = z.number().min(0).max(1);
const name = z.string().min(1).max(100);
const iso = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z$/, 'a UTC timestamp, e.g. 2025-09-01T00:00:00Z');
/** A duration in hours: lognormal with this median and log-sd (median 0 means "none"). */
const duration = z.object({ medianHours: z.number().min(0).max(24 * 365), sigma: z.number().min(0).max(3) }).strict();
const disposition = z
  .object({ evacuate: prob, returnToDuty: prob, die: prob })
  .strict()
  .describe('chances for a casualty of this triage category arriving here; they sum to 1');
const roleSpec = z
  .object({
    enabled: z.boolean().optional().describe('false skips the role: evacuation goes on to the next enabled one (POI and R4 cannot be skipped)'),
    byTriage: z.object({ T1: disposition, T2: disposition, T3: disposition, T4: disposition }).partial().strict().optional(),
    stay: duration.optional().describe('time spent at the role'),
    transit: duration.optional().describe('time from leaving this role to arriving at the next enabled one'),
  })
  .strict();
const mix = z.object({ disease: share, nonBattle: share, battle: share }).strict();

export const ScenarioSchema = z
  .object({
    preset: z.string().min(1).max(60).optional().describe('start from a built-in preset (GET presets); the other fields override it'),
    name: name.optional(),
    start: iso.optional().describe('exercise start (UTC)'),
    durationDays: z.number().positive().max(365).optional(),
    totalCasualties: z.number().int().min(1).max(1e9).optional(),
    ratePerDay: z.number().positive().max(1e7).optional().describe('casualties per day at moderate intensity (instead of totalCasualties)'),
    warfare: z.enum(WARFARE).optional(),
    intensity: z.enum(INTENSITY).optional(),
    tempo: z.enum(TEMPO).optional(),
    injuryMix: mix.optional().describe('shares of disease / non-battle injury / battle injury; sum 1'),
    femaleShare: share.optional(),
    fronts: z
      .array(
        z
          .object({
            name,
            share,
            nationalities: z.array(z.object({ code: z.string().regex(/^[A-Z]{3}$/, 'ISO 3166-1 alpha-3, upper case'), share }).strict()).min(1).max(32),
          })
          .strict(),
      )
      .min(1)
      .max(50)
      .optional(),
    events: z
      .array(
        z
          .object({
            type: z.enum(EVENT_TYPES),
            name: name.optional(),
            start: iso,
            durationHours: z.number().positive().max(24 * 365),
            casualties: z.number().int().min(1).max(1e8),
            front: name.optional().describe('the front it happens on (default: the first)'),
            injuryMix: mix.optional(),
          })
          .strict(),
      )
      .max(100)
      .optional(),
    environment: z
      .object({
        heat: share.optional().describe('0–1: raises heat illness among non-battle injuries'),
        cold: share.optional().describe('0–1: raises cold injury among non-battle injuries'),
        nightOperations: z.boolean().optional().describe('casualties at night as often as by day'),
        terrain: z.enum(TERRAIN).optional().describe('scales tactical evacuation times'),
      })
      .strict()
      .optional(),
    facilities: z.object({ POI: roleSpec, R1: roleSpec, R2: roleSpec, R3: roleSpec, R4: roleSpec }).partial().strict().optional(),
  })
  .strict();

export type ScenarioBody = z.infer<typeof ScenarioSchema>;
export interface Disposition {
  evacuate: number;
  returnToDuty: number;
  die: number;
}
export interface Duration {
  medianHours: number;
  sigma: number;
}
export interface ResolvedRole {
  enabled: boolean;
  byTriage: Record<Triage, Disposition>;
  stay: Duration;
  transit: Duration;
}
export interface ResolvedEvent {
  type: (typeof EVENT_TYPES)[number];
  name: string;
  start: string;
  durationHours: number;
  casualties: number;
  front: string;
  injuryMix: Mix;
}
export interface Mix {
  disease: number;
  nonBattle: number;
  battle: number;
}
export interface ResolvedScenario {
  name: string;
  start: string;
  durationDays: number;
  /** Casualties outside the special events (the background). */
  baseCasualties: number;
  warfare: Warfare;
  intensity: Intensity;
  tempo: Tempo;
  injuryMix: Mix;
  femaleShare: number;
  fronts: Array<{ name: string; share: number; nationalities: Array<{ code: string; share: number }> }>;
  events: ResolvedEvent[];
  environment: { heat: number; cold: number; nightOperations: boolean; terrain: Terrain };
  facilities: Record<Role, ResolvedRole>;
}

/** Total patients of a scenario: the background plus every event's casualties. */
export const patientCount = (s: ResolvedScenario) => s.baseCasualties + s.events.reduce((a, e) => a + e.casualties, 0);

/** Rate multipliers by intensity (a ratePerDay is "at moderate intensity"). Modelling assumption. */
export const INTENSITY_RATE: Record<Intensity, number> = { low: 0.5, moderate: 1, high: 1.6, very_high: 2.4, extreme: 3.5 };

const d = (evacuate: number, returnToDuty: number, die: number): Disposition => ({ evacuate, returnToDuty, die });
/**
 * Default chain of care. Times follow NATO's 10-1-2 guideline (first aid within 10 minutes, damage
 * control resuscitation within 1 hour, surgery within 2 hours: AJP-4.10); dispositions are
 * modelling assumptions (docs/PATIENTS.md § Facilities), to be replaced by an exercise's own.
 */
export const DEFAULT_FACILITIES: Record<Role, ResolvedRole> = {
  POI: {
    enabled: true,
    byTriage: { T1: d(0.98, 0, 0.02), T2: d(0.995, 0, 0.005), T3: d(0.55, 0.45, 0), T4: d(0.4, 0, 0.6) },
    stay: { medianHours: 0.2, sigma: 0.5 },
    transit: { medianHours: 0.6, sigma: 0.5 },
  },
  R1: {
    enabled: true,
    byTriage: { T1: d(0.95, 0, 0.05), T2: d(0.8, 0.18, 0.02), T3: d(0.15, 0.85, 0), T4: d(0.3, 0, 0.7) },
    stay: { medianHours: 1.5, sigma: 0.6 },
    transit: { medianHours: 1.2, sigma: 0.5 },
  },
  R2: {
    enabled: true,
    byTriage: { T1: d(0.85, 0.08, 0.07), T2: d(0.45, 0.53, 0.02), T3: d(0.05, 0.95, 0), T4: d(0.45, 0, 0.55) },
    stay: { medianHours: 10, sigma: 0.6 },
    transit: { medianHours: 4, sigma: 0.5 },
  },
  R3: {
    enabled: true,
    byTriage: { T1: d(0.6, 0.36, 0.04), T2: d(0.3, 0.69, 0.01), T3: d(0.02, 0.98, 0), T4: d(0.5, 0, 0.5) },
    stay: { medianHours: 72, sigma: 0.5 },
    transit: { medianHours: 24, sigma: 0.4 },
  },
  R4: {
    enabled: true,
    byTriage: { T1: d(0.7, 0.27, 0.03), T2: d(0.45, 0.54, 0.01), T3: d(0.1, 0.9, 0), T4: d(0.6, 0, 0.4) },
    stay: { medianHours: 240, sigma: 0.5 },
    transit: { medianHours: 0, sigma: 0 },
  },
};

/** The issue's exercise default: 0.52 / 0.33 / 0.15. */
export const DEFAULT_MIX: Mix = { disease: 0.52, nonBattle: 0.33, battle: 0.15 };

const BASE: ResolvedScenario = {
  name: 'default',
  start: '2025-09-01T00:00:00Z',
  durationDays: 10,
  baseCasualties: 1000,
  warfare: 'conventional',
  intensity: 'moderate',
  tempo: 'sustained',
  injuryMix: DEFAULT_MIX,
  femaleShare: 0.12,
  fronts: [
    {
      name: 'North',
      share: 0.6,
      nationalities: [
        { code: 'DEU', share: 0.4 },
        { code: 'NLD', share: 0.2 },
        { code: 'POL', share: 0.25 },
        { code: 'NOR', share: 0.15 },
      ],
    },
    {
      name: 'South',
      share: 0.4,
      nationalities: [
        { code: 'USA', share: 0.5 },
        { code: 'ITA', share: 0.3 },
        { code: 'ROU', share: 0.2 },
      ],
    },
  ],
  events: [],
  environment: { heat: 0, cold: 0, nightOperations: false, terrain: 'open' },
  facilities: DEFAULT_FACILITIES,
};

/** Named presets: partial scenarios over `default`. Their figures are illustrative (docs/PATIENTS.md § Presets). */
export const PRESETS: Record<string, ScenarioBody> = {
  default: {},
  article5: {
    name: 'Article 5 collective defence',
    durationDays: 14,
    totalCasualties: 20000,
    warfare: 'conventional',
    intensity: 'high',
    tempo: 'escalating',
    injuryMix: { disease: 0.3, nonBattle: 0.2, battle: 0.5 },
    fronts: [
      { name: 'Baltic', share: 0.5, nationalities: [{ code: 'EST', share: 0.15 }, { code: 'LVA', share: 0.15 }, { code: 'LTU', share: 0.15 }, { code: 'GBR', share: 0.2 }, { code: 'DEU', share: 0.2 }, { code: 'CAN', share: 0.15 }] },
      { name: 'Poland', share: 0.35, nationalities: [{ code: 'POL', share: 0.5 }, { code: 'USA', share: 0.4 }, { code: 'DNK', share: 0.1 }] },
      { name: 'Romania', share: 0.15, nationalities: [{ code: 'ROU', share: 0.5 }, { code: 'FRA', share: 0.3 }, { code: 'BEL', share: 0.2 }] },
    ],
    events: [{ type: 'major_offensive', start: '2025-09-08T04:00:00Z', durationHours: 48, casualties: 4000, front: 'Baltic', injuryMix: { disease: 0.05, nonBattle: 0.15, battle: 0.8 } }],
  },
  peacekeeping: {
    name: 'Peacekeeping mission',
    durationDays: 30,
    ratePerDay: 20,
    warfare: 'peacekeeping',
    intensity: 'low',
    tempo: 'sustained',
    injuryMix: { disease: 0.62, nonBattle: 0.33, battle: 0.05 },
    environment: { heat: 0.6, terrain: 'desert' },
  },
  urban_assault: {
    name: 'Urban assault',
    durationDays: 5,
    totalCasualties: 5000,
    warfare: 'urban',
    intensity: 'very_high',
    tempo: 'surge',
    injuryMix: { disease: 0.15, nonBattle: 0.25, battle: 0.6 },
    environment: { terrain: 'urban' },
  },
  cbrn_incident: {
    name: 'CBRN incident',
    durationDays: 3,
    totalCasualties: 800,
    warfare: 'cbrn',
    intensity: 'high',
    tempo: 'declining',
    injuryMix: { disease: 0.2, nonBattle: 0.2, battle: 0.6 },
    events: [{ type: 'mass_casualty', name: 'Chemical release', start: '2025-09-01T09:00:00Z', durationHours: 3, casualties: 400, injuryMix: { disease: 0, nonBattle: 0.1, battle: 0.9 } }],
  },
  mass_casualty: {
    name: 'Mass casualty incident',
    durationDays: 2,
    totalCasualties: 300,
    intensity: 'moderate',
    events: [{ type: 'mass_casualty', start: '2025-09-01T14:00:00Z', durationHours: 2, casualties: 500, injuryMix: { disease: 0, nonBattle: 0.2, battle: 0.8 } }],
  },
  arctic: {
    name: 'Arctic operations',
    durationDays: 21,
    ratePerDay: 40,
    intensity: 'low',
    injuryMix: { disease: 0.45, nonBattle: 0.45, battle: 0.1 },
    environment: { cold: 0.9, terrain: 'arctic' },
    fronts: [{ name: 'High North', share: 1, nationalities: [{ code: 'NOR', share: 0.4 }, { code: 'FIN', share: 0.2 }, { code: 'SWE', share: 0.2 }, { code: 'GBR', share: 0.1 }, { code: 'USA', share: 0.1 }] }],
  },
  maritime: {
    name: 'Maritime operations',
    durationDays: 10,
    totalCasualties: 1500,
    warfare: 'naval',
    intensity: 'moderate',
    injuryMix: { disease: 0.4, nonBattle: 0.35, battle: 0.25 },
    environment: { terrain: 'maritime' },
    fronts: [{ name: 'Atlantic', share: 1, nationalities: [{ code: 'GBR', share: 0.3 }, { code: 'FRA', share: 0.2 }, { code: 'ESP', share: 0.15 }, { code: 'PRT', share: 0.15 }, { code: 'USA', share: 0.2 }] }],
  },
  training_exercise: {
    name: 'Training exercise',
    durationDays: 10,
    ratePerDay: 30,
    warfare: 'peacekeeping',
    intensity: 'low',
    injuryMix: { disease: 0.55, nonBattle: 0.45, battle: 0 },
  },
};

/** `spec` for a job's spec; the scenario API will name its paths from the body root (`''`). */
function at(prefix: string, path: string): string {
  return prefix ? (path ? `${prefix}.${path}` : prefix) : path;
}

/** True when `name` is a built-in preset's (own keys only: not `constructor`, `toString`, …). */
export const isPreset = (name: string): boolean => Object.hasOwn(PRESETS, name);

/** The shape (400). */
export function parseScenario(body: unknown, prefix = 'spec'): ScenarioBody {
  const r = ScenarioSchema.safeParse(body ?? {});
  if (r.success) return r.data;
  const errors: FieldError[] = r.error.issues.flatMap((i) => {
    const base = i.path.map(String).join('.');
    if (i.code === 'unrecognized_keys') return i.keys.map((k) => ({ path: at(prefix, base ? `${base}.${k}` : k), message: `unknown field "${k}"` }));
    return [{ path: at(prefix, base), message: i.message }];
  });
  throw new SpecError(400, errors);
}

const SUM_TOLERANCE = 1e-6;
const sums1 = (xs: number[]) => Math.abs(xs.reduce((a, b) => a + b, 0) - 1) <= SUM_TOLERANCE;

/** Resolves the preset and fills every default; no checks. */
export function resolveScenario(body: ScenarioBody): ResolvedScenario {
  const preset = body.preset && isPreset(body.preset) ? PRESETS[body.preset] : {};
  const b: ScenarioBody = { ...preset, ...body, environment: { ...preset?.environment, ...body.environment } };
  const durationDays = b.durationDays ?? BASE.durationDays;
  const intensity = b.intensity ?? BASE.intensity;
  const baseCasualties = b.totalCasualties ?? (b.ratePerDay !== undefined ? Math.max(1, Math.round(b.ratePerDay * durationDays * INTENSITY_RATE[intensity])) : BASE.baseCasualties);
  const fronts = b.fronts ?? BASE.fronts;
  const injuryMix = b.injuryMix ?? BASE.injuryMix;
  const facilities = {} as Record<Role, ResolvedRole>;
  for (const role of ROLES) {
    const over = b.facilities?.[role];
    const def = DEFAULT_FACILITIES[role];
    facilities[role] = {
      enabled: over?.enabled ?? def.enabled,
      byTriage: { ...def.byTriage, ...over?.byTriage },
      stay: over?.stay ?? def.stay,
      transit: over?.transit ?? def.transit,
    };
  }
  return {
    name: b.name ?? body.preset ?? BASE.name,
    start: b.start ?? BASE.start,
    durationDays,
    baseCasualties,
    warfare: b.warfare ?? BASE.warfare,
    intensity,
    tempo: b.tempo ?? BASE.tempo,
    injuryMix,
    femaleShare: b.femaleShare ?? BASE.femaleShare,
    fronts,
    events: (b.events ?? []).map((e, i) => ({
      type: e.type,
      name: e.name ?? `${e.type}-${i}`,
      start: e.start,
      durationHours: e.durationHours,
      casualties: e.casualties,
      front: e.front ?? fronts[0]!.name,
      injuryMix: e.injuryMix ?? injuryMix,
    })),
    environment: {
      heat: b.environment?.heat ?? BASE.environment.heat,
      cold: b.environment?.cold ?? BASE.environment.cold,
      nightOperations: b.environment?.nightOperations ?? BASE.environment.nightOperations,
      terrain: b.environment?.terrain ?? BASE.environment.terrain,
    },
    facilities,
  };
}

/** The semantics (422): every problem, each naming its field. */
export function checkScenario(body: ScenarioBody, s: ResolvedScenario, prefix = 'spec'): FieldError[] {
  const errors: FieldError[] = [];
  const err = (path: string, message: string) => errors.push({ path: at(prefix, path), message });
  if (body.preset !== undefined && !isPreset(body.preset)) err('preset', `unknown preset "${body.preset}"; built in: ${Object.keys(PRESETS).join(', ')}`);
  if (body.totalCasualties !== undefined && body.ratePerDay !== undefined) err('ratePerDay', 'give totalCasualties or ratePerDay, not both');
  const mixSum = (m: Mix, path: string) => {
    if (!sums1([m.disease, m.nonBattle, m.battle])) err(path, `disease + nonBattle + battle must sum to 1, got ${(m.disease + m.nonBattle + m.battle).toFixed(6)}`);
  };
  mixSum(s.injuryMix, 'injuryMix');
  if (!sums1(s.fronts.map((f) => f.share))) err('fronts', `front shares must sum to 1, got ${s.fronts.reduce((a, f) => a + f.share, 0).toFixed(6)}`);
  const names = new Map<string, number>();
  s.fronts.forEach((f, i) => {
    if (names.has(f.name)) err(`fronts.${i}.name`, `front "${f.name}" is already defined at fronts.${names.get(f.name)}`);
    else names.set(f.name, i);
    if (!sums1(f.nationalities.map((n) => n.share))) err(`fronts.${i}.nationalities`, `nationality shares must sum to 1, got ${f.nationalities.reduce((a, n) => a + n.share, 0).toFixed(6)}`);
    const seen = new Set<string>();
    f.nationalities.forEach((n, j) => {
      if (!NATO_NATIONS.includes(n.code)) err(`fronts.${i}.nationalities.${j}.code`, `"${n.code}" is not one of the 32 NATO nations (${NATO_NATIONS.join(' ')})`);
      else if (seen.has(n.code)) err(`fronts.${i}.nationalities.${j}.code`, `${n.code} is listed twice on this front`);
      seen.add(n.code);
    });
  });
  const start = Date.parse(s.start);
  const end = start + s.durationDays * 86_400_000;
  if (!Number.isFinite(start)) err('start', `${s.start} is not a timestamp`);
  s.events.forEach((e, i) => {
    const t0 = Date.parse(e.start);
    if (!Number.isFinite(t0)) err(`events.${i}.start`, `${e.start} is not a timestamp`);
    else if (t0 < start || t0 >= end) err(`events.${i}.start`, `the event starts outside the exercise (${s.start} + ${s.durationDays} days)`);
    else if (t0 + e.durationHours * 3_600_000 > end) err(`events.${i}.durationHours`, 'the event ends after the exercise');
    if (!names.has(e.front)) err(`events.${i}.front`, `no front is named "${e.front}"`);
    if (body.events?.[i]?.injuryMix) mixSum(e.injuryMix, `events.${i}.injuryMix`);
  });
  for (const role of ROLES) {
    const r = s.facilities[role];
    if (!r.enabled && (role === 'POI' || role === 'R4')) err(`facilities.${role}.enabled`, `${role} cannot be skipped (every casualty starts at POI; evacuation out of theatre leaves from R4)`);
    for (const t of TRIAGE) {
      const p = r.byTriage[t];
      if (!sums1([p.evacuate, p.returnToDuty, p.die])) err(`facilities.${role}.byTriage.${t}`, `evacuate + returnToDuty + die must sum to 1, got ${(p.evacuate + p.returnToDuty + p.die).toFixed(6)}`);
    }
  }
  return errors;
}

/** Shape, preset, defaults and semantics: the scenario the generator takes, or a SpecError (400/422). */
export function normalizeScenario(body: unknown, prefix = 'spec'): ResolvedScenario {
  const parsed = parseScenario(body, prefix);
  const resolved = resolveScenario(parsed);
  const errors = checkScenario(parsed, resolved, prefix);
  if (errors.length) throw new SpecError(422, errors);
  return resolved;
}
