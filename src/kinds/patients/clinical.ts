/**
 * What happens to a casualty's body: the conditions (coded from data/patients/codes.json), the
 * bleeding they cause, vitals from the blood lost, and the treatments each role can give.
 * The model and its figures: docs/PATIENTS.md § Clinical course.
 */
import type { Role, Triage, Warfare } from './scenario.js';

export type Category = 'disease' | 'nonBattle' | 'battle';
export type Mechanism = 'gunshot' | 'blast' | 'fragment' | 'burn' | 'chemical' | 'fall' | 'vehicle' | 'sport_training' | 'environmental' | 'infection' | 'other';
export type Region = 'head' | 'face' | 'neck' | 'thorax' | 'abdomen' | 'pelvis' | 'upper_limb' | 'lower_limb' | 'back' | 'multiple' | 'systemic';
export type Severity = 'minor' | 'moderate' | 'severe' | 'critical';
/**
 * Wound categories by how they bleed (ml/min at the start, before the fall of blood pressure slows
 * it) and what stops them: a tourniquet (limb), a pressure dressing (junctional, venous), surgery.
 */
export type Bleed = 'none' | 'minor' | 'venous' | 'limb_arterial' | 'junctional' | 'torso';
export const BLEED_RATE: Record<Bleed, number> = { none: 0, minor: 1.5, venous: 12, limb_arterial: 90, junctional: 60, torso: 35 };

export interface Template {
  /** Keys into the code table. */
  codes: string[];
  region: Region;
  weight: number;
  /** Chance that the wound bleeds as `bleed`, else as `otherwise`. */
  bleed?: { kind: Bleed; p: number; otherwise: Bleed };
  /** GCS points lost (brain injury), range [lo, hi]. */
  gcs?: [number, number];
  /** SpO2 points lost (chest, inhalation). */
  spo2?: number;
  /** °C added (fever) or taken (cold). */
  temp?: number;
  /** Extra conditions with their chance. */
  extra?: Array<{ code: string; p: number }>;
  /** A floor on the severity (a fracture is at least moderate). */
  minSeverity?: Severity;
}

const t = (codes: string[], region: Region, weight: number, more: Partial<Template> = {}): Template => ({ codes, region, weight, ...more });

/** Battle injuries by mechanism. Weights within a mechanism and the bleeding figures are modelling assumptions. */
export const BATTLE: Record<'gunshot' | 'blast' | 'fragment' | 'burn' | 'chemical', Template[]> = {
  gunshot: [
    t(['gunshot_wound'], 'lower_limb', 0.33, { bleed: { kind: 'limb_arterial', p: 0.35, otherwise: 'venous' }, extra: [{ code: 'open_fracture', p: 0.2 }], minSeverity: 'moderate' }),
    t(['gunshot_wound'], 'upper_limb', 0.2, { bleed: { kind: 'limb_arterial', p: 0.3, otherwise: 'venous' }, minSeverity: 'moderate' }),
    t(['gunshot_wound', 'pneumothorax'], 'thorax', 0.17, { bleed: { kind: 'torso', p: 0.6, otherwise: 'venous' }, spo2: 9, extra: [{ code: 'hemothorax', p: 0.4 }], minSeverity: 'severe' }),
    t(['gunshot_wound', 'injury_abdomen'], 'abdomen', 0.15, { bleed: { kind: 'torso', p: 0.75, otherwise: 'venous' }, minSeverity: 'severe' }),
    t(['gunshot_wound'], 'neck', 0.05, { bleed: { kind: 'junctional', p: 0.7, otherwise: 'venous' }, minSeverity: 'severe' }),
    t(['gunshot_wound', 'brain_injury_open'], 'head', 0.1, { bleed: { kind: 'venous', p: 1, otherwise: 'venous' }, gcs: [5, 12], minSeverity: 'critical' }),
  ],
  blast: [
    t(['traumatic_amputation'], 'lower_limb', 0.22, { bleed: { kind: 'limb_arterial', p: 0.85, otherwise: 'junctional' }, extra: [{ code: 'tympanic_perforation', p: 0.5 }, { code: 'concussion', p: 0.3 }], minSeverity: 'critical' }),
    t(['tympanic_perforation', 'concussion_no_loc'], 'head', 0.3, { gcs: [0, 2], minSeverity: 'minor' }),
    t(['concussion_loc'], 'head', 0.1, { gcs: [1, 5], extra: [{ code: 'tympanic_perforation', p: 0.6 }], minSeverity: 'moderate' }),
    t(['open_wound', 'foreign_body'], 'multiple', 0.2, { bleed: { kind: 'venous', p: 0.8, otherwise: 'minor' }, extra: [{ code: 'tympanic_perforation', p: 0.4 }] }),
    t(['pneumothorax'], 'thorax', 0.08, { spo2: 10, bleed: { kind: 'torso', p: 0.3, otherwise: 'minor' }, minSeverity: 'severe' }),
    t(['crushing_injury'], 'lower_limb', 0.05, { bleed: { kind: 'venous', p: 0.5, otherwise: 'minor' }, minSeverity: 'moderate' }),
    t(['burn_trunk', 'partial_thickness_burn'], 'thorax', 0.05, { minSeverity: 'moderate' }),
  ],
  fragment: [
    t(['open_wound_lower_leg', 'foreign_body'], 'lower_limb', 0.3, { bleed: { kind: 'limb_arterial', p: 0.2, otherwise: 'venous' } }),
    t(['open_wound_thigh', 'foreign_body'], 'lower_limb', 0.2, { bleed: { kind: 'limb_arterial', p: 0.3, otherwise: 'venous' }, minSeverity: 'moderate' }),
    t(['open_wound_forearm', 'foreign_body'], 'upper_limb', 0.15, { bleed: { kind: 'limb_arterial', p: 0.15, otherwise: 'venous' } }),
    t(['open_wound_abdominal_wall', 'foreign_body'], 'abdomen', 0.1, { bleed: { kind: 'torso', p: 0.5, otherwise: 'venous' }, minSeverity: 'severe' }),
    t(['open_wound_face'], 'face', 0.1, { bleed: { kind: 'minor', p: 1, otherwise: 'minor' } }),
    t(['open_wound_scalp', 'concussion'], 'head', 0.05, { bleed: { kind: 'venous', p: 1, otherwise: 'venous' }, gcs: [1, 6], minSeverity: 'moderate' }),
    t(['open_fracture_tibia_fibula', 'foreign_body'], 'lower_limb', 0.1, { bleed: { kind: 'venous', p: 1, otherwise: 'venous' }, minSeverity: 'moderate' }),
  ],
  burn: [
    t(['burn_upper_limb', 'partial_thickness_burn'], 'upper_limb', 0.3),
    t(['burn_lower_limb', 'partial_thickness_burn'], 'lower_limb', 0.25),
    t(['burn_face'], 'face', 0.15, { extra: [{ code: 'smoke_inhalation', p: 0.5 }], minSeverity: 'moderate' }),
    t(['burn_trunk', 'burn'], 'thorax', 0.2, { minSeverity: 'moderate' }),
    t(['burn_hand'], 'upper_limb', 0.1),
  ],
  chemical: [
    t(['chemical_burn'], 'multiple', 0.5, { minSeverity: 'moderate' }),
    t(['smoke_inhalation'], 'thorax', 0.5, { spo2: 8, minSeverity: 'moderate' }),
  ],
};

/** Mechanisms of battle injury by warfare. Conventional follows Owens et al. 2008 (explosive 78 %, gunshot 18 %); the others are assumptions. */
export const BATTLE_MECHANISMS: Record<Warfare, Partial<Record<keyof typeof BATTLE, number>>> = {
  conventional: { gunshot: 0.18, blast: 0.3, fragment: 0.48, burn: 0.04 },
  artillery: { gunshot: 0.05, blast: 0.35, fragment: 0.55, burn: 0.05 },
  urban: { gunshot: 0.35, blast: 0.25, fragment: 0.35, burn: 0.05 },
  guerrilla: { gunshot: 0.25, blast: 0.45, fragment: 0.25, burn: 0.05 },
  drone: { gunshot: 0.02, blast: 0.38, fragment: 0.55, burn: 0.05 },
  naval: { gunshot: 0.05, blast: 0.3, fragment: 0.35, burn: 0.3 },
  cbrn: { gunshot: 0.05, blast: 0.1, fragment: 0.1, burn: 0.05, chemical: 0.7 },
  peacekeeping: { gunshot: 0.35, blast: 0.35, fragment: 0.25, burn: 0.05 },
};

/** Non-battle injuries: `heat` and `cold` weights grow with the environment's heat and cold (×30). */
export const NON_BATTLE: Array<Template & { mechanism: Mechanism; heat?: boolean; cold?: boolean; naval?: boolean }> = [
  { ...t(['sprain_ankle'], 'lower_limb', 16), mechanism: 'sport_training' },
  { ...t(['sprain_wrist'], 'upper_limb', 5), mechanism: 'fall' },
  { ...t(['sprain_ligament_lower_limb'], 'lower_limb', 6), mechanism: 'sport_training' },
  { ...t(['low_back_strain'], 'back', 10), mechanism: 'sport_training' },
  { ...t(['low_back_pain'], 'back', 6), mechanism: 'other' },
  { ...t(['closed_fracture_ankle'], 'lower_limb', 4, { minSeverity: 'moderate' }), mechanism: 'fall' },
  { ...t(['closed_fracture_forearm'], 'upper_limb', 3, { minSeverity: 'moderate' }), mechanism: 'fall' },
  { ...t(['closed_fracture_clavicle'], 'upper_limb', 2, { minSeverity: 'moderate' }), mechanism: 'fall' },
  { ...t(['closed_fracture_rib'], 'thorax', 2, { minSeverity: 'moderate' }), mechanism: 'vehicle' },
  { ...t(['closed_fracture_femur'], 'lower_limb', 1, { bleed: { kind: 'venous', p: 1, otherwise: 'venous' }, minSeverity: 'severe' }), mechanism: 'vehicle' },
  { ...t(['closed_fracture_vertebral_column'], 'back', 0.7, { minSeverity: 'severe' }), mechanism: 'vehicle' },
  { ...t(['whiplash'], 'neck', 3), mechanism: 'vehicle' },
  { ...t(['laceration_hand'], 'upper_limb', 8, { bleed: { kind: 'minor', p: 1, otherwise: 'minor' } }), mechanism: 'other' },
  { ...t(['laceration'], 'multiple', 5, { bleed: { kind: 'minor', p: 1, otherwise: 'minor' } }), mechanism: 'other' },
  { ...t(['injury_knee'], 'lower_limb', 5), mechanism: 'sport_training' },
  { ...t(['contusion_knee'], 'lower_limb', 4), mechanism: 'fall' },
  { ...t(['concussion_no_loc'], 'head', 2, { gcs: [0, 1] }), mechanism: 'vehicle' },
  { ...t(['blister'], 'lower_limb', 8), mechanism: 'sport_training' },
  { ...t(['corneal_abrasion'], 'face', 2), mechanism: 'other' },
  { ...t(['dehydration'], 'systemic', 2, { temp: 1.6 }), mechanism: 'environmental', heat: true },
  { ...t(['hypothermia'], 'systemic', 0.5, { temp: -3, gcs: [0, 2], minSeverity: 'moderate' }), mechanism: 'environmental', cold: true },
  { ...t(['frostbite_foot'], 'lower_limb', 0.5, { minSeverity: 'moderate' }), mechanism: 'environmental', cold: true },
  { ...t(['drowning_immersion'], 'systemic', 0, { spo2: 8, temp: -1.5, minSeverity: 'severe' }), mechanism: 'environmental', naval: true },
];

/** Diseases and non-battle illness. Weights are assumptions shaped after the usual field leaders (gastrointestinal, respiratory, skin). */
export const DISEASE: Template[] = [
  t(['gastroenteritis'], 'systemic', 14, { temp: 0.8 }),
  t(['infectious_gastroenteritis'], 'systemic', 6, { temp: 1.2, extra: [{ code: 'dehydration', p: 0.3 }] }),
  t(['diarrhea'], 'systemic', 6),
  t(['food_poisoning'], 'systemic', 3, { temp: 0.6 }),
  t(['acute_uri'], 'systemic', 16, { temp: 0.7 }),
  t(['common_cold'], 'systemic', 8, { temp: 0.3 }),
  t(['acute_pharyngitis'], 'systemic', 6, { temp: 1 }),
  t(['influenza'], 'systemic', 5, { temp: 1.8 }),
  t(['respiratory_tract_infection'], 'systemic', 4, { temp: 1.2 }),
  t(['pneumonia'], 'thorax', 1.5, { temp: 2, spo2: 5, minSeverity: 'moderate' }),
  t(['contact_dermatitis'], 'multiple', 5),
  t(['tinea_cruris'], 'pelvis', 3),
  t(['conjunctivitis'], 'face', 3),
  t(['acute_uti'], 'pelvis', 3, { temp: 0.5 }),
  t(['acute_stress_disorder'], 'systemic', 3),
];

/**
 * What each role can do: the procedures (SNOMED CT keys) and drugs (RxNorm keys, data/patients/codes.json)
 * it may record. POI is self and buddy aid and the combat medic. The drugs follow TCCC (the combat wound
 * medication pack's moxifloxacin, IV fentanyl for moderate to severe pain) and, from R1 on, parenteral
 * antibiotics and opioids; surgical prophylaxis (cefazolin) at the surgical roles. Tranexamic acid and
 * ketamine are not in the table (no citable RxNorm source found): see docs/PATIENTS.md § Codes.
 */
export const CAPABILITIES: Record<Role, readonly string[]> = {
  POI: ['first_aid', 'tourniquet', 'pressure_dressing', 'direct_pressure', 'nasopharyngeal_airway', 'moxifloxacin_oral', 'fentanyl_injection'],
  R1: [
    'control_of_hemorrhage', 'pressure_dressing', 'iv_therapy', 'intubation', 'nasopharyngeal_airway', 'bone_immobilization', 'suture_open_wound', 'tetanus_antitoxin', 'change_of_dressing',
    'fentanyl_injection', 'morphine_injection', 'acetaminophen_325', 'moxifloxacin_oral', 'moxifloxacin_iv', 'ceftriaxone_1g',
  ],
  R2: ['transfusion', 'iv_therapy', 'intubation', 'laparotomy', 'vascular_surgery', 'amputation_lower_limb', 'wound_procedure', 'bone_immobilization', 'change_of_dressing', 'morphine_injection', 'cefazolin_2g', 'moxifloxacin_iv'],
  R3: [
    'transfusion', 'iv_therapy', 'intubation', 'laparotomy', 'vascular_surgery', 'amputation_lower_limb', 'craniotomy', 'orif', 'wound_procedure', 'change_of_dressing', 'artificial_airway',
    'morphine_injection', 'cefazolin_2g', 'moxifloxacin_iv',
  ],
  R4: ['orif', 'wound_procedure', 'change_of_dressing', 'transfusion'],
};

/** Procedures after which a surgical role gives antibiotic prophylaxis. */
export const SURGERY = ['laparotomy', 'vascular_surgery', 'amputation_lower_limb', 'craniotomy', 'orif', 'wound_procedure'];

/** Blood volume: 70 ml/kg of body weight (ATLS 10th ed., ch. 3: about 7 % of body weight). */
export const ML_PER_KG = 70;
/** Death from exsanguination at this fraction of the blood volume lost (beyond ATLS class IV, > 40 %). */
export const LETHAL_FRACTION = 0.5;

/** Blood lost after dt minutes at base rate r (ml/min), from l0 ml lost, when the rate falls with the volume left: dL/dt = r (1 − L/V). */
export function lossAfter(v: number, l0: number, r: number, dt: number): number {
  if (r <= 0 || dt <= 0) return l0;
  return v - (v - l0) * Math.exp((-r * dt) / v);
}

/** Minutes until the lethal fraction is lost (Infinity when it never is). */
export function minutesToDeath(v: number, l0: number, r: number): number {
  const lethal = LETHAL_FRACTION * v;
  if (l0 >= lethal) return 0;
  if (r <= 0) return Infinity;
  return (v / r) * Math.log((v - l0) / (v - lethal));
}

/**
 * Vitals by the fraction of blood lost, interpolated through the ATLS haemorrhage classes
 * (ATLS 10th ed., table 3-1: class I < 15 %, II 15–30 %, III 31–40 %, IV > 40 %).
 */
const F = [0, 0.15, 0.3, 0.4, 0.5];
const HR = [72, 95, 115, 135, 150];
const SBP = [122, 120, 110, 85, 60];
const RR = [14, 18, 24, 32, 38];
const GCS_LOSS = [0, 0, 0, 2, 6];
const SPO2_LOSS = [0, 0, 1, 4, 9];
function interp(xs: number[], ys: number[], x: number): number {
  if (x <= xs[0]!) return ys[0]!;
  for (let i = 1; i < xs.length; i++) {
    if (x <= xs[i]!) return ys[i - 1]! + ((ys[i]! - ys[i - 1]!) * (x - xs[i - 1]!)) / (xs[i]! - xs[i - 1]!);
  }
  return ys[ys.length - 1]!;
}

export interface Vitals {
  hr: number;
  sbp: number;
  dbp: number;
  rr: number;
  spo2: number;
  temp: number;
  gcs: number;
}

/** Per-patient offsets (standard normals) that stay with the patient, and per-measurement noise. */
export function vitalsFor(lostFraction: number, base: { gcsLoss: number; spo2Loss: number; tempDelta: number; z: number[] }, noise: number[]): Vitals {
  const f = lostFraction;
  const z = base.z;
  const hr = interp(F, HR, f) + 8 * z[0]! + 3 * noise[0]! + Math.max(0, base.tempDelta) * 8;
  const sbp = interp(F, SBP, f) + 10 * z[1]! + 4 * noise[1]!;
  const dbp = sbp * (0.62 + 0.03 * z[2]!) + 2 * noise[2]!;
  const rr = interp(F, RR, f) + 1.5 * z[3]! + noise[3]! + base.spo2Loss * 0.4;
  const spo2 = 98 + 0.8 * z[4]! - interp(F, SPO2_LOSS, f) - base.spo2Loss + 0.5 * noise[4]!;
  const temp = 36.8 + 0.25 * z[5]! + base.tempDelta - 1.2 * f + 0.1 * noise[5]!;
  const gcs = 15 - base.gcsLoss - interp(F, GCS_LOSS, f);
  return {
    hr: Math.round(clamp(hr, 35, 190)),
    sbp: Math.round(clamp(sbp, 40, 190)),
    dbp: Math.round(clamp(dbp, 20, 120)),
    rr: Math.round(clamp(rr, 6, 45)),
    spo2: Math.round(clamp(spo2, 60, 100)),
    temp: Math.round(clamp(temp, 30, 42) * 10) / 10,
    gcs: Math.round(clamp(gcs, 3, 15)),
  };
}

export const clamp = (x: number, lo: number, hi: number) => (x < lo ? lo : x > hi ? hi : x);

const ORDER: Severity[] = ['minor', 'moderate', 'severe', 'critical'];
export const maxSeverity = (a: Severity, b: Severity): Severity => (ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b);

/**
 * Severity from the untreated time to death by bleeding and the GCS loss; triage follows it (one
 * vocabulary: NATO T1 immediate, T2 delayed, T3 minimal, T4 expectant):
 * critical or severe → T1, moderate → T2, minor → T3; T4 when death is expected whatever is done
 * (GCS ≤ 5 from an open brain injury, or death by bleeding within 15 minutes).
 */
export function severityOf(untreatedMinutes: number, gcsLoss: number, spo2Loss: number, floor: Severity | undefined): Severity {
  let s: Severity = 'minor';
  if (untreatedMinutes < 90 || gcsLoss >= 7) s = 'critical';
  else if (untreatedMinutes < 360 || gcsLoss >= 3 || spo2Loss >= 8) s = 'severe';
  else if (untreatedMinutes < 24 * 60 || gcsLoss >= 1 || spo2Loss >= 4) s = 'moderate';
  return floor ? maxSeverity(s, floor) : s;
}

export function triageOf(severity: Severity, expectant: boolean): Triage {
  if (expectant) return 'T4';
  return severity === 'critical' || severity === 'severe' ? 'T1' : severity === 'moderate' ? 'T2' : 'T3';
}
