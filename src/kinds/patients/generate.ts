/**
 * One casualty: patient(scenario, seed, index) → Patient, a pure function of (scenario, seed,
 * index). Every draw is a lane of the counter-based generator (src/data/rng.ts) keyed on (seed,
 * stream) at counter = index, so a patient is the same whatever the shard; no Math.random, no clock.
 */
import { counterState, fmix32, keyState, laneU32, mixWord, normalQuantile } from '../../data/rng.js';
import { arrivalAt, arrivalCurve, type ArrivalCurve } from './arrivals.js';
import {
  BATTLE,
  BATTLE_MECHANISMS,
  BLEED_RATE,
  CAPABILITIES,
  DISEASE,
  lossAfter,
  maxSeverity,
  minutesToDeath,
  ML_PER_KG,
  NON_BATTLE,
  severityOf,
  SURGERY,
  triageOf,
  vitalsFor,
  type Bleed,
  type Category,
  type Mechanism,
  type Region,
  type Severity,
  type Template,
  type Vitals,
} from './clinical.js';
import { loinc, rxnorm, sct, SNOMED, type Coding } from './codes.js';
import { nationNames } from './names.js';
import { ROLES, type Duration, type ResolvedScenario, type Role, type Terrain, type Triage } from './scenario.js';

/** Stream numbers of this kind (any fixed numbers distinct from each other). */
const STREAM_PATIENT = 0x70610001;
const STREAM_UUID = 0x70610002;
/** Current medications and the drugs given: a stream of their own, so the other draws stay as they were. */
const STREAM_DRUGS = 0x70610003;

export interface Condition extends Coding {
  bodyRegion: Region;
  severity: Severity;
}
export interface Treatment extends Coding {
  time: string;
  role: Role;
}
export interface VitalsRecord extends Vitals {
  time: string;
  role: Role;
}
export interface Stay {
  role: Role;
  arrival: string;
  departure: string;
  triage: Triage;
  disposition: 'evacuate' | 'returnToDuty' | 'die';
  /** `table`: drawn from the role's chances; `physiology`: death by blood loss before that. */
  decidedBy: 'table' | 'physiology';
  treatments: Treatment[];
}
export type Outcome =
  | { type: 'RTD'; role: Role; time: string }
  | { type: 'KIA'; time: string }
  | { type: 'DOW'; role: Role; time: string }
  | { type: 'EVACUATED_OUT_OF_THEATRE'; role: 'R4'; time: string };
export interface TimelineEvent {
  time: string;
  type: 'injury' | 'arrival' | 'departure' | 'death' | 'return_to_duty' | 'evacuated_out_of_theatre';
  role: Role;
}
export interface Patient {
  id: string;
  index: number;
  nationality: string;
  front: string;
  /** The special event the casualty belongs to, if any. */
  event: string | null;
  sex: 'male' | 'female';
  birthDate: string;
  name: { given: string; family: string };
  serviceNumber: string;
  bloodGroup: string;
  weightKg: number;
  injury: { time: string; front: string; category: Category; mechanism: Mechanism; mechanismCode: Coding | null };
  conditions: Condition[];
  severity: Severity;
  triage: Triage;
  allergies: Coding[];
  history: Coding[];
  /** Current medications (RxNorm) for the history: empty for most patients. */
  medications: Coding[];
  /** Blood lost at the last point of the course (ml) and the blood volume (ml). */
  bloodLossMl: number;
  bloodVolumeMl: number;
  vitals: VitalsRecord[];
  stays: Stay[];
  timeline: TimelineEvent[];
  outcome: Outcome;
}

/** The scenario's precomputed parts (the arrival curve), shared by every patient. */
export interface PatientModel {
  scenario: ResolvedScenario;
  curve: ArrivalCurve;
}
export const patientModel = (scenario: ResolvedScenario): PatientModel => ({ scenario, curve: arrivalCurve(scenario) });

/** Draws of one patient: lane after lane of one counter state. */
class Draws {
  private lane = 0;
  constructor(private readonly cs: number) {}
  u(): number {
    return (laneU32(this.cs, this.lane++) + 0.5) / 4294967296;
  }
  normal(): number {
    return normalQuantile(this.u());
  }
  below(n: number): number {
    return Math.min(n - 1, Math.floor(this.u() * n));
  }
  chance(p: number): boolean {
    return this.u() < p;
  }
  pick<T>(items: readonly T[], weight: (x: T) => number): T {
    let total = 0;
    for (const x of items) total += weight(x);
    let r = this.u() * total;
    for (const x of items) {
      r -= weight(x);
      if (r < 0) return x;
    }
    return items[items.length - 1]!;
  }
  /** Lognormal duration in minutes. */
  minutes(d: Duration, factor = 1): number {
    return d.medianHours * 60 * factor * Math.exp(d.sigma * this.normal());
  }
}

/** A v8 UUID (RFC 9562: custom) from 16 hash bytes of (seed, index): never random. */
export function patientUuid(seed: number, index: number): string {
  const cs = counterState(keyState(seed, STREAM_UUID), index);
  const b = new Uint8Array(16);
  for (let i = 0; i < 4; i++) {
    const w = laneU32(cs, i);
    b[4 * i] = w >>> 24;
    b[4 * i + 1] = (w >>> 16) & 255;
    b[4 * i + 2] = (w >>> 8) & 255;
    b[4 * i + 3] = w & 255;
  }
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Approximate pan-European ABO/Rh frequencies (docs/PATIENTS.md § Identity); not per nation. */
const BLOOD_GROUPS: Array<[string, number]> = [
  ['O+', 0.35], ['A+', 0.34], ['B+', 0.09], ['AB+', 0.03], ['O-', 0.07], ['A-', 0.06], ['B-', 0.02], ['AB-', 0.01],
];
/** Tactical evacuation (POI → R1 → R2) takes longer in harder terrain. Assumptions. */
export const TERRAIN_TRANSIT: Record<Terrain, number> = { open: 1, forest: 1.3, urban: 0.8, mountain: 1.7, desert: 1.2, arctic: 1.8, maritime: 1.5 };
/** Bleeding of battle injuries by intensity (more energy, more severe wounds). Assumption. */
const INTENSITY_BLEED = { low: 0.8, moderate: 1, high: 1.15, very_high: 1.3, extreme: 1.5 } as const;

const DAY_MS = 86_400_000;
const P2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const P3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const dayPrefixes = new Map<number, string>();
/**
 * `new Date(Math.round(ms)).toISOString()`, the same text, without a Date per call (a patient has
 * dozens of times; toISOString was a third of the generator's CPU): the date part cached per day.
 */
export function iso(ms: number): string {
  const t = Math.round(ms);
  const day = Math.floor(t / DAY_MS);
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    prefix = new Date(day * DAY_MS).toISOString().slice(0, -13); // through the 'T'
    if (dayPrefixes.size >= 100_000) dayPrefixes.clear();
    dayPrefixes.set(day, prefix);
  }
  let r = t - day * DAY_MS;
  const milli = r % 1000;
  r = (r - milli) / 1000;
  const sec = r % 60;
  r = (r - sec) / 60;
  const min = r % 60;
  return `${prefix}${P2[(r - min) / 60]}:${P2[min]}:${P2[sec]}.${P3[milli]}Z`;
}
const MIN = 60_000;

interface Bleeding {
  kind: Bleed;
  rate: number;
}

function normals(r: Draws, n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = r.normal();
  return out;
}

const capabilitySets = new Map<Role, Set<string>>();
/** Whether `role` can give `key` (CAPABILITIES, as sets). */
function capable(role: Role, key: string): boolean {
  let s = capabilitySets.get(role);
  if (!s) capabilitySets.set(role, (s = new Set(CAPABILITIES[role])));
  return s.has(key);
}

export function patient(model: PatientModel, seed: number, index: number): Patient {
  const s = model.scenario;
  const r = new Draws(counterState(keyState(seed, STREAM_PATIENT), index));

  // When, where, who.
  const { timeMs: t0, event } = arrivalAt(model.curve, r.u(), r.u(), r.u());
  const ev = event >= 0 ? s.events[event]! : undefined;
  const frontName = ev ? ev.front : r.pick(s.fronts, (f) => f.share).name;
  const front = s.fronts.find((f) => f.name === frontName)!;
  const nationality = r.pick(front.nationalities, (n) => n.share).code;
  const sex = r.chance(s.femaleShare) ? 'female' : 'male';
  const lists = nationNames()[nationality]!;
  const given = sex === 'male' ? lists.maleFirst : lists.femaleFirst;
  const family = sex === 'male' ? lists.maleSurnames : lists.femaleSurnames;
  const name = { given: given[r.below(given.length)]!, family: family[r.below(family.length)]! };
  const age = Math.min(55, Math.max(18, 28 + 6.5 * r.normal()));
  const birthDate = iso(t0 - age * 365.2425 * 86_400_000).slice(0, 10);
  const weightKg = Math.round(Math.min(130, Math.max(50, sex === 'male' ? 82 + 11 * r.normal() : 66 + 9 * r.normal())) * 10) / 10;
  const bloodGroup = r.pick(BLOOD_GROUPS, (g) => g[1])[0];
  const serviceNumber = `${nationality}-${String(r.below(100_000_000)).padStart(8, '0')}`;

  // What.
  const mix = ev ? ev.injuryMix : s.injuryMix;
  const cu = r.u();
  const category: Category = cu < mix.disease ? 'disease' : cu < mix.disease + mix.nonBattle ? 'nonBattle' : 'battle';
  let template: Template;
  let mechanism: Mechanism;
  if (category === 'battle') {
    const mechs = Object.entries(BATTLE_MECHANISMS[s.warfare]) as Array<[keyof typeof BATTLE, number]>;
    const m = r.pick(mechs, (x) => x[1])[0];
    mechanism = m;
    template = r.pick(BATTLE[m], (x) => x.weight);
  } else if (category === 'nonBattle') {
    const e = s.environment;
    const nb = r.pick(NON_BATTLE, (x) => x.weight + (x.heat ? 30 * e.heat : 0) + (x.cold ? 30 * e.cold : 0) + (x.naval && s.warfare === 'naval' ? 4 : 0));
    template = nb;
    mechanism = nb.mechanism;
  } else {
    template = r.pick(DISEASE, (x) => x.weight);
    mechanism = 'infection';
  }
  const codes = [...template.codes];
  for (const x of template.extra ?? []) if (r.chance(x.p) && !codes.includes(x.code)) codes.push(x.code);

  const bloodVolumeMl = Math.round(ML_PER_KG * weightKg);
  const bleeds: Bleeding[] = [];
  if (template.bleed) {
    const kind = r.chance(template.bleed.p) ? template.bleed.kind : template.bleed.otherwise;
    const factor = category === 'battle' ? INTENSITY_BLEED[s.intensity] : 1;
    if (kind !== 'none') bleeds.push({ kind, rate: BLEED_RATE[kind] * factor * Math.exp(0.35 * r.normal()) });
  } else {
    r.u();
    r.u();
  }
  const [gLo, gHi] = template.gcs ?? [0, 0];
  const gcsLoss = gLo + Math.round(r.u() * (gHi - gLo));
  const spo2Loss = template.spo2 ?? 0;
  const tempDelta = (template.temp ?? 0) * (0.7 + 0.6 * r.u());
  const rate0 = bleeds.reduce((a, b) => a + b.rate, 0);
  const untreated = minutesToDeath(bloodVolumeMl, 0, rate0);
  let severity = severityOf(untreated, gcsLoss, spo2Loss, template.minSeverity);
  if (category === 'disease' && r.chance(0.08)) severity = maxSeverity(severity, 'moderate');
  const expectant = (codes.includes('brain_injury_open') && gcsLoss >= 10) || untreated < 15;
  const triage = triageOf(severity, expectant);
  const conditions: Condition[] = codes.map((k) => ({ ...sct(k), bodyRegion: template.region, severity }));
  if (untreated < 240) conditions.push({ ...sct('hypovolemic_shock'), bodyRegion: 'systemic', severity });
  const allergyKey = r.chance(0.9) ? 'no_known_allergy' : r.chance(0.8) ? 'allergy_penicillin' : 'allergy_peanut';
  const allergies = [sct(allergyKey)];
  const hu = r.u();
  const historyKey = hu < 0.08 ? 'seasonal_allergic_rhinitis' : hu < 0.12 ? 'asthma' : hu < 0.15 ? 'migraine' : null;
  const history = historyKey ? [sct(historyKey)] : [];
  const d = new Draws(counterState(keyState(seed, STREAM_DRUGS), index));
  const medications = currentMedications(historyKey, d);
  const mechanismCode = mechanism === 'gunshot' ? sct('struck_by_firearm_discharge') : mechanism === 'fall' ? sct('fall') : mechanism === 'vehicle' ? sct('motor_vehicle_traffic_accident') : null;
  const z = normals(r, 6);
  const physBase = { gcsLoss, spo2Loss, tempDelta, z };

  // The course: a clock in minutes since injury, the blood lost so far, and the bleeds still open.
  let t = 0;
  let lost = 0;
  const vitals: VitalsRecord[] = [];
  const stays: Stay[] = [];
  const timeline: TimelineEvent[] = [{ time: iso(t0), type: 'injury', role: 'POI' }];
  const rate = () => bleeds.reduce((a, b) => a + b.rate, 0);
  const measure = (role: Role) => {
    const noise = normals(r, 6);
    vitals.push({ time: iso(t0 + t * MIN), role, ...vitalsFor(lost / bloodVolumeMl, physBase, noise) });
  };
  /** Runs the clock to `until`; returns the minute of death by bleeding if it comes first. */
  const advance = (until: number): number | undefined => {
    const dt = until - t;
    const die = minutesToDeath(bloodVolumeMl, lost, rate());
    if (die <= dt) {
      lost = 0.5 * bloodVolumeMl;
      t += die;
      return t;
    }
    lost = lossAfter(bloodVolumeMl, lost, rate(), dt);
    t = until;
    return undefined;
  };
  const treat = (stay: Stay, key: string) => {
    if (!capable(stay.role, key)) throw new Error(`${stay.role} cannot do ${key}`);
    const c = sct(key);
    stay.treatments.push({ system: c.system, code: c.code, display: c.display, time: iso(t0 + t * MIN), role: stay.role });
  };
  /** A drug given (RxNorm): a treatment like a procedure, told apart by its system. */
  const give = (stay: Stay, key: string) => {
    if (!capable(stay.role, key)) throw new Error(`${stay.role} cannot give ${key}`);
    const c = rxnorm(key);
    stay.treatments.push({ system: c.system, code: c.code, display: c.display, time: iso(t0 + t * MIN), role: stay.role });
  };
  const stopBleeds = (kinds: Bleed[], factor: number) => {
    for (const b of bleeds) if (kinds.includes(b.kind)) b.rate *= factor;
  };
  const hasBleed = (k: Bleed) => bleeds.some((b) => b.kind === k && b.rate > BLEED_RATE.minor);
  const hasCode = (k: string) => codes.includes(k);
  const fractures = codes.some((k) => k.includes('fracture'));
  // Drugs: open or penetrating battle wounds get an antibiotic, battle injuries beyond minor an opioid.
  const openWound = category === 'battle' && codes.some((k) => k === 'gunshot_wound' || k.startsWith('open_') || k === 'foreign_body' || k === 'traumatic_amputation' || k === 'brain_injury_open');
  const painful = category === 'battle' && severity !== 'minor';
  const penicillinAllergy = allergyKey === 'allergy_penicillin';
  let antibiotic = false;
  let opioid = false;
  /** Able to take a tablet: awake, not in shock, no abdominal or open head wound (TCCC). */
  const canSwallow = (g: number, f: number) => g >= 14 && f < 0.15 && template.region !== 'abdomen' && !hasCode('brain_injury_open');

  let outcome: Outcome | undefined;
  let reachedFacility = false;
  const die = (role: Role) => {
    timeline.push({ time: iso(t0 + t * MIN), type: 'death', role });
    outcome = reachedFacility ? { type: 'DOW', role, time: iso(t0 + t * MIN) } : { type: 'KIA', time: iso(t0 + t * MIN) };
  };

  let role: Role = 'POI';
  let arrival = 0;
  for (;;) {
    const cfg = s.facilities[role];
    const stay: Stay = { role, arrival: iso(t0 + arrival * MIN), departure: '', triage, disposition: 'evacuate', decidedBy: 'table', treatments: [] };
    stays.push(stay);
    if (role !== 'POI') {
      reachedFacility = true;
      timeline.push({ time: stay.arrival, type: 'arrival', role });
      measure(role);
    }
    const stayMinutes = Math.max(1, r.minutes(cfg.stay));
    const end = arrival + stayMinutes;
    // Care starts soon after arrival: buddy aid in a few minutes at POI, the team within 10–30 minutes at a facility.
    const careAt = Math.min(end, arrival + (role === 'POI' ? 2 + 3 * r.u() : role === 'R1' ? 5 + 10 * r.u() : 10 + 20 * r.u()));
    let deathAt = advance(careAt);
    if (deathAt === undefined) {
      if (role === 'POI') measure('POI');
      giveCare(role, stay);
      deathAt = advance(end);
    }
    if (deathAt !== undefined) {
      stay.disposition = 'die';
      stay.decidedBy = 'physiology';
      stay.departure = iso(t0 + t * MIN);
      die(role);
      break;
    }
    const p = cfg.byTriage[triage];
    const x = r.u();
    if (x < p.die) {
      stay.disposition = 'die';
      t = careAt + (end - careAt) * r.u(); // after the care it was given
      stay.departure = iso(t0 + t * MIN);
      die(role);
      break;
    }
    stay.departure = iso(t0 + end * MIN);
    timeline.push({ time: stay.departure, type: 'departure', role });
    if (x < p.die + p.returnToDuty) {
      stay.disposition = 'returnToDuty';
      timeline.push({ time: stay.departure, type: 'return_to_duty', role });
      outcome = { type: 'RTD', role, time: stay.departure };
      break;
    }
    stay.disposition = 'evacuate';
    if (role === 'R4') {
      timeline.push({ time: stay.departure, type: 'evacuated_out_of_theatre', role });
      outcome = { type: 'EVACUATED_OUT_OF_THEATRE', role: 'R4', time: stay.departure };
      break;
    }
    const next: Role = ROLES.slice(ROLES.indexOf(role) + 1).find((x) => s.facilities[x].enabled)!;
    const tactical = role === 'POI' || role === 'R1' ? TERRAIN_TRANSIT[s.environment.terrain] : 1;
    const arriveAt = end + Math.max(1, r.minutes(cfg.transit, tactical));
    if (advance(arriveAt) !== undefined) {
      die(role); // in transit, after leaving `role`
      break;
    }
    role = next;
    arrival = arriveAt;
  }

  function giveCare(at: Role, stay: Stay): void {
    const f = lost / bloodVolumeMl;
    const g = vitals.length ? vitals[vitals.length - 1]!.gcs : 15;
    if (at === 'POI') {
      if (category !== 'battle' && rate() === 0) return;
      treat(stay, 'first_aid');
      if (hasBleed('limb_arterial')) {
        if (r.chance(0.9)) {
          treat(stay, 'tourniquet');
          stopBleeds(['limb_arterial'], 0.03);
        } else {
          treat(stay, 'direct_pressure');
          stopBleeds(['limb_arterial'], 0.5);
        }
      }
      if (hasBleed('junctional') || hasBleed('venous')) {
        treat(stay, 'pressure_dressing');
        stopBleeds(['junctional'], 0.4);
        stopBleeds(['venous'], 0.2);
      }
      if (g <= 8) treat(stay, 'nasopharyngeal_airway');
      if (category === 'battle') {
        // The combat wound medication pack (moxifloxacin) and IV fentanyl from the medic, when at hand.
        if (openWound && canSwallow(g, f) && d.chance(0.7)) {
          give(stay, 'moxifloxacin_oral');
          antibiotic = true;
        }
        if (painful && g >= 13 && f < 0.3 && d.chance(0.5)) {
          give(stay, 'fentanyl_injection');
          opioid = true;
        }
      }
      return;
    }
    if (at === 'R1') {
      if (hasBleed('limb_arterial') || hasBleed('junctional') || hasBleed('venous')) {
        treat(stay, 'control_of_hemorrhage');
        stopBleeds(['limb_arterial', 'junctional', 'venous'], 0.1);
      }
      if (f >= 0.15 || hasBleed('torso')) treat(stay, 'iv_therapy');
      if (g <= 8) treat(stay, 'intubation');
      if (fractures) treat(stay, 'bone_immobilization');
      if (hasCode('laceration') || hasCode('laceration_hand')) treat(stay, 'suture_open_wound');
      if (category === 'battle' && r.chance(0.3)) treat(stay, 'tetanus_antitoxin');
      if (painful) {
        // No opioid in shock (TCCC would give ketamine, which the table has not) or with GCS ≤ 8.
        if (!opioid && g > 8 && f < 0.3) {
          give(stay, d.chance(0.6) ? 'fentanyl_injection' : 'morphine_injection');
          opioid = true;
        }
      } else if (category !== 'disease' && mechanism !== 'environmental' && d.chance(0.5)) give(stay, 'acetaminophen_325');
      if (openWound && !antibiotic) {
        const oral = canSwallow(g, f);
        give(stay, penicillinAllergy ? (oral ? 'moxifloxacin_oral' : 'moxifloxacin_iv') : oral && d.chance(0.3) ? 'moxifloxacin_oral' : 'ceftriaxone_1g');
        antibiotic = true;
      }
      return;
    }
    if (at === 'R2' || at === 'R3') {
      if (f >= 0.3 || hasBleed('torso')) {
        treat(stay, 'transfusion');
        lost = Math.max(0, lost - 1500); // about four units of blood
      }
      if (g <= 8 && at === 'R2') treat(stay, 'intubation');
      if (hasBleed('torso')) {
        if (template.region === 'abdomen') treat(stay, 'laparotomy');
        else treat(stay, 'vascular_surgery');
        stopBleeds(['torso'], 0);
      }
      if (hasCode('traumatic_amputation')) treat(stay, 'amputation_lower_limb');
      else if (hasBleed('limb_arterial') || hasBleed('junctional')) treat(stay, 'vascular_surgery');
      stopBleeds(['limb_arterial', 'junctional', 'venous', 'minor'], 0);
      if (at === 'R3' && gcsLoss >= 5) treat(stay, 'craniotomy');
      if (at === 'R3' && fractures) treat(stay, 'orif');
      if (category === 'battle' && codes.some((k) => k.startsWith('open_wound') || k === 'gunshot_wound' || k === 'foreign_body')) treat(stay, 'wound_procedure');
      // Antibiotic prophylaxis for the surgery just done (a cephalosporin, moxifloxacin if allergic to penicillin), then analgesia.
      const operated = stay.treatments.some((x) => x.system === SNOMED && SURGERY.some((k) => sct(k).code === x.code));
      if (operated) give(stay, penicillinAllergy ? 'moxifloxacin_iv' : 'cefazolin_2g');
      if (painful && g > 8 && (operated || !opioid) && d.chance(0.8)) {
        give(stay, 'morphine_injection');
        opioid = true;
      }
      return;
    }
    // R4
    if (category === 'battle') treat(stay, 'change_of_dressing');
  }

  return {
    id: patientUuid(seed, index),
    index,
    nationality,
    front: frontName,
    event: ev ? ev.name : null,
    sex,
    birthDate,
    name,
    serviceNumber,
    bloodGroup,
    weightKg,
    injury: { time: iso(t0), front: frontName, category, mechanism, mechanismCode },
    conditions,
    severity,
    triage,
    allergies,
    history,
    medications,
    bloodLossMl: Math.round(lost),
    bloodVolumeMl,
    vitals,
    stays,
    timeline,
    outcome: outcome!,
  };
}

/**
 * Current medications for a history item, as synthea prescribes them (data/patients/codes.json,
 * sources SYN-ASTHMA, SYN-AH, SYN-PAIN); the shares taking them are assumptions.
 */
function currentMedications(history: string | null, d: Draws): Coding[] {
  const one = (keys: string[]) => rxnorm(keys[d.below(keys.length)]!);
  if (history === 'asthma') return d.chance(0.4) ? [rxnorm('albuterol_inhaler'), rxnorm('fluticasone_inhaler')] : [rxnorm('albuterol_inhaler')];
  if (history === 'seasonal_allergic_rhinitis') return d.chance(0.7) ? [one(['loratadine_10', 'cetirizine_10', 'fexofenadine_60'])] : [];
  if (history === 'migraine') return d.chance(0.6) ? [one(['acetaminophen_325', 'ibuprofen_200', 'naproxen_220'])] : [];
  return [];
}

/** The LOINC codings of the vitals fields (for the FHIR writer to come). */
export const VITALS_LOINC = {
  hr: () => loinc('heart_rate'),
  sbp: () => loinc('systolic_bp'),
  dbp: () => loinc('diastolic_bp'),
  rr: () => loinc('respiratory_rate'),
  spo2: () => loinc('spo2'),
  temp: () => loinc('body_temperature'),
  gcs: () => loinc('gcs_total'),
} as const;

/**
 * A digest of patients [start, end) that does not depend on how the range is cut: the lane-wise
 * sum mod 2^32 of a 128-bit hash of (index, the patient's JSON) per patient.
 */
export class PatientDigest {
  private readonly lanes = new Uint32Array(4);
  add(p: Patient): void {
    const text = JSON.stringify(p);
    for (let lane = 0; lane < 4; lane++) {
      let h = mixWord(mixWord(0x2545f491 + lane, p.index >>> 0), (p.index / 4294967296) >>> 0);
      for (let i = 0; i < text.length; i++) h = mixWord(h, text.charCodeAt(i));
      this.lanes[lane] = (this.lanes[lane]! + fmix32(h ^ text.length)) >>> 0;
    }
  }
  merge(o: PatientDigest): void {
    for (let lane = 0; lane < 4; lane++) this.lanes[lane] = (this.lanes[lane]! + o.lanes[lane]!) >>> 0;
  }
  toString(): string {
    return 'pt1-' + Array.from(this.lanes, (x) => x.toString(16).padStart(8, '0')).join('');
  }
}
