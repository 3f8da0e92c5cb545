/**
 * Patients as FHIR R4 resources (docs/PATIENTS.md § FHIR). Pure: a patient and the job's seed give
 * the same resources, ids and bytes on any shard.
 *
 *   Patient              identity, nationality (core extension patient-nationality), deceased time
 *   Location             one per enabled role of the chain (POI, R1 … R4)
 *   Encounter            one per stay, with its Location, period, triage (priority) and disposition
 *   Condition            the coded injuries and illnesses (encounter-diagnosis) and the history (problem-list-item)
 *   AllergyIntolerance   the allergies (or "No known allergy")
 *   Observation          vitals with LOINC (vital-signs; blood pressure as the 85354-9 panel), GCS,
 *                        body weight, ABO/Rh group
 *   Procedure            treatments coded in SNOMED CT
 *   MedicationAdministration  treatments coded in RxNorm (drugs given)
 *   MedicationStatement  current medications
 *
 * Two shapes: a `transaction` Bundle per patient (`fhir`), its references `urn:uuid:` full URLs of
 * the bundle's own entries and every entry a PUT (so loading a bundle twice changes nothing); and
 * FHIR Bulk Data NDJSON (`fhir-bulk`), a file per resource type, references `Type/id`.
 * Every id is a UUID from (seed, patient index, resource type, position): never random.
 */
import { counterState, keyState, laneU32 } from '../../data/rng.js';
import { loinc, sct, SNOMED, type Coding } from './codes.js';
import type { Patient, Stay, VitalsRecord } from './generate.js';
import { ROLES, type Role, type Triage } from './scenario.js';

/** Resource types in the order a bundle lists them and bulk files are named. */
export const FHIR_TYPES = [
  'Patient',
  'Location',
  'Encounter',
  'Condition',
  'AllergyIntolerance',
  'Observation',
  'Procedure',
  'MedicationAdministration',
  'MedicationStatement',
] as const;
export type FhirType = (typeof FHIR_TYPES)[number];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Resource = { resourceType: FhirType | 'Bundle'; id: string } & Record<string, any>;

/** Stream numbers of the FHIR ids (distinct from the generator's). */
const STREAM_FHIR = 0x70660000;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const hex32 = (w: number) => HEX[w >>> 24]! + HEX[(w >>> 16) & 255]! + HEX[(w >>> 8) & 255]! + HEX[w & 255]!;

/** A UUID of four lanes of a counter state: RFC 9562 version 8 (custom), variant 10. */
function uuidOf(cs: number, lane0: number): string {
  const w1 = hex32(((laneU32(cs, lane0 + 1) & 0xffff0fff) | 0x8000) >>> 0);
  const w2 = hex32(((laneU32(cs, lane0 + 2) & 0x3fffffff) | 0x80000000) >>> 0);
  return `${hex32(laneU32(cs, lane0) >>> 0)}-${w1.slice(0, 4)}-${w1.slice(4)}-${w2.slice(0, 4)}-${w2.slice(4)}${hex32(laneU32(cs, lane0 + 3) >>> 0)}`;
}

/** The job's Location ids: one per role, from the seed only. */
let lastLocations: { seed: number; ids: Record<Role, string> } | undefined;
export function locationIds(seed: number): Record<Role, string> {
  if (lastLocations?.seed === seed) return lastLocations.ids;
  const ids = makeLocationIds(seed);
  lastLocations = { seed, ids };
  return ids;
}
function makeLocationIds(seed: number): Record<Role, string> {
  const cs = counterState(keyState(seed, STREAM_FHIR), 0x10c);
  return Object.fromEntries(ROLES.map((r, i) => [r, uuidOf(cs, 4 * i)])) as Record<Role, string>;
}

export const ROLE_NAMES: Record<Role, string> = {
  POI: 'Point of injury',
  R1: 'Role 1 medical treatment facility',
  R2: 'Role 2 medical treatment facility',
  R3: 'Role 3 field hospital',
  R4: 'Role 4 definitive care (out of theatre)',
};

/** The Location resources of the job's enabled roles (the same in every bundle, so a PUT of them is idempotent). */
export function locations(seed: number, roles: readonly Role[]): Resource[] {
  const ids = locationIds(seed);
  return roles.map((r) => ({
    resourceType: 'Location',
    id: ids[r],
    identifier: [{ system: ROLE_SYSTEM, value: r }],
    status: 'active',
    name: `${r} — ${ROLE_NAMES[r]}`,
    mode: r === 'POI' ? 'kind' : 'instance',
    ...(r === 'POI' ? { physicalType: { text: 'area' } } : {}),
  }));
}

/** The project's own vocabulary for NATO triage categories (docs/PATIENTS.md § Triage). */
export const TRIAGE_SYSTEM = 'urn:shardflow:patients:triage';
const TRIAGE_DISPLAY: Record<Triage, string> = { T1: 'Immediate', T2: 'Delayed', T3: 'Minimal', T4: 'Expectant' };
export const ROLE_SYSTEM = 'urn:shardflow:patients:role';
export const SERVICE_NUMBER_SYSTEM = 'urn:shardflow:patients:service-number';

const ACT = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const ENCOUNTER_CLASS: Record<Role, Coding> = {
  POI: { system: ACT, code: 'FLD', display: 'field' },
  R1: { system: ACT, code: 'EMER', display: 'emergency' },
  R2: { system: ACT, code: 'IMP', display: 'inpatient encounter' },
  R3: { system: ACT, code: 'IMP', display: 'inpatient encounter' },
  R4: { system: ACT, code: 'IMP', display: 'inpatient encounter' },
};
const DISCHARGE = 'http://terminology.hl7.org/CodeSystem/discharge-disposition';
const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const vitalSigns = [{ coding: [{ system: OBS_CATEGORY, code: 'vital-signs', display: 'Vital Signs' }] }];
const exam = [{ coding: [{ system: OBS_CATEGORY, code: 'exam', display: 'Exam' }] }];
const laboratory = [{ coding: [{ system: OBS_CATEGORY, code: 'laboratory', display: 'Laboratory' }] }];
const CONDITION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/condition-category';
const clinical = (system: string, code: string) => ({ coding: [{ system, code }] });
const conditionActive = clinical('http://terminology.hl7.org/CodeSystem/condition-clinical', 'active');
const conditionConfirmed = clinical('http://terminology.hl7.org/CodeSystem/condition-ver-status', 'confirmed');
const allergyActive = clinical('http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', 'active');
const allergyConfirmed = clinical('http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', 'confirmed');
const UCUM = 'http://unitsofmeasure.org';
const qty = (value: number, unit: string, code: string) => ({ value, unit, system: UCUM, code });
const concepts = new Map<string, { coding: Coding[]; text: string }>();
/** A CodeableConcept of one coding (shared between resources: they are only serialised). */
function concept(c: Coding) {
  const key = `${c.system}|${c.code}`;
  let x = concepts.get(key);
  if (!x) concepts.set(key, (x = { coding: [{ system: c.system, code: c.code, display: c.display }], text: c.display }));
  return x;
}

/** SNOMED CT severities where the code table has one (docs/PATIENTS.md § Codes); the text is always ours. */
function severityConcept(s: Patient['severity']) {
  if (s === 'moderate') return { coding: [sct('severity_moderate')], text: s };
  if (s === 'severe' || s === 'critical') return { coding: [sct('severity_severe')], text: s };
  return { text: s };
}

/** How references are written: to a bundle's own `urn:uuid:` entries, or `Type/id` (bulk). */
export type RefStyle = 'bundle' | 'bulk';

/** Every resource of one patient (Locations not included: locations()). */
export function patientResources(p: Patient, seed: number, style: RefStyle): Resource[] {
  const loc = locationIds(seed);
  const ref = (type: FhirType, id: string, display?: string) => ({ reference: style === 'bundle' ? `urn:uuid:${id}` : `${type}/${id}`, ...(display ? { display } : {}) });
  const cs = counterState(keyState(seed, STREAM_FHIR + 1), p.index);
  // Lanes 0..: 4 per child id, in the order below; a patient has far fewer than 2^20 children.
  let lane = 0;
  const nextId = () => {
    const id = uuidOf(cs, lane);
    lane += 4;
    return id;
  };
  const subject = ref('Patient', p.id, `${p.name.given} ${p.name.family}`);
  const out: Resource[] = [];
  const died = p.outcome.type === 'KIA' || p.outcome.type === 'DOW';

  out.push({
    resourceType: 'Patient',
    id: p.id,
    extension: [
      {
        url: 'http://hl7.org/fhir/StructureDefinition/patient-nationality',
        extension: [{ url: 'code', valueCodeableConcept: { coding: [{ system: 'urn:iso:std:iso:3166', code: p.nationality }] } }],
      },
    ],
    identifier: [{ system: SERVICE_NUMBER_SYSTEM, value: p.serviceNumber }],
    name: [{ use: 'official', family: p.name.family, given: [p.name.given] }],
    gender: p.sex,
    birthDate: p.birthDate,
    ...(died ? { deceasedDateTime: p.outcome.time } : { deceasedBoolean: false }),
  });

  const encounters = p.stays.map((s) => ({ stay: s, id: nextId() }));
  const encOf = (role: Role) => encounters.find((e) => e.stay.role === role);
  for (const [i, { stay, id }] of encounters.entries()) out.push(encounter(p, stay, id, encounters[i - 1]?.stay.role, encounters[i + 1]?.stay.role));

  const first = encounters[0]!;
  for (const c of p.conditions) {
    out.push({
      resourceType: 'Condition',
      id: nextId(),
      clinicalStatus: conditionActive,
      verificationStatus: conditionConfirmed,
      category: [{ coding: [{ system: CONDITION_CATEGORY, code: 'encounter-diagnosis', display: 'Encounter Diagnosis' }] }],
      severity: severityConcept(c.severity),
      code: concept(c),
      bodySite: [{ text: c.bodyRegion.replace('_', ' ') }],
      subject,
      encounter: ref('Encounter', first.id),
      onsetDateTime: p.injury.time,
      recordedDate: first.stay.arrival,
    });
  }
  for (const h of p.history) {
    out.push({
      resourceType: 'Condition',
      id: nextId(),
      clinicalStatus: conditionActive,
      verificationStatus: conditionConfirmed,
      category: [{ coding: [{ system: CONDITION_CATEGORY, code: 'problem-list-item', display: 'Problem List Item' }] }],
      code: concept(h),
      subject,
    });
  }
  for (const a of p.allergies) {
    const none = a.code === sct('no_known_allergy').code;
    out.push({
      resourceType: 'AllergyIntolerance',
      id: nextId(),
      ...(none ? {} : { clinicalStatus: allergyActive }),
      verificationStatus: allergyConfirmed,
      code: concept(a),
      patient: subject,
    });
  }

  const weightAt = p.vitals[0]?.time ?? p.injury.time;
  out.push({
    resourceType: 'Observation',
    id: nextId(),
    status: 'final',
    category: vitalSigns,
    code: concept(loinc('body_weight')),
    subject,
    effectiveDateTime: weightAt,
    valueQuantity: qty(p.weightKg, 'kg', 'kg'),
  });
  out.push({
    resourceType: 'Observation',
    id: nextId(),
    status: 'final',
    category: laboratory,
    code: concept(loinc('abo_rh_group')),
    subject,
    effectiveDateTime: weightAt,
    valueCodeableConcept: { text: p.bloodGroup },
  });
  for (const v of p.vitals) out.push(...vitalObservations(v, subject, ref('Encounter', encOf(v.role)!.id), nextId));

  for (const s of p.stays) {
    const enc = ref('Encounter', encOf(s.role)!.id);
    for (const t of s.treatments) {
      if (t.system === SNOMED) {
        out.push({ resourceType: 'Procedure', id: nextId(), status: 'completed', code: concept(t), subject, encounter: enc, performedDateTime: t.time, location: ref('Location', loc[s.role]) });
      } else {
        out.push({ resourceType: 'MedicationAdministration', id: nextId(), status: 'completed', medicationCodeableConcept: concept(t), subject, context: enc, effectiveDateTime: t.time });
      }
    }
  }
  for (const m of p.medications) {
    out.push({ resourceType: 'MedicationStatement', id: nextId(), status: 'active', medicationCodeableConcept: concept(m), subject, dateAsserted: p.injury.time });
  }
  return out;

  /** A stay; `hospitalization` names where the casualty came from and was sent to. */
  function encounter(pt: Patient, s: Stay, id: string, from: Role | undefined, to: Role | undefined): Resource {
    const period = { start: s.arrival, end: s.departure };
    const disposition =
      s.disposition === 'die'
        ? { coding: [{ system: DISCHARGE, code: 'exp', display: 'Expired' }], text: pt.outcome.type === 'KIA' ? 'killed in action' : 'died of wounds' }
        : s.disposition === 'returnToDuty'
          ? { coding: [{ system: DISCHARGE, code: 'oth', display: 'Other' }], text: 'returned to duty' }
          : s.role === 'R4'
            ? { coding: [{ system: DISCHARGE, code: 'oth', display: 'Other' }], text: 'evacuated out of theatre' }
            : { coding: [{ system: DISCHARGE, code: 'other-hcf', display: 'Other healthcare facility' }], text: 'evacuated to the next role' };
    return {
      resourceType: 'Encounter',
      id,
      status: 'finished',
      class: ENCOUNTER_CLASS[s.role],
      priority: { coding: [{ system: TRIAGE_SYSTEM, code: s.triage, display: TRIAGE_DISPLAY[s.triage] }], text: `${s.triage} ${TRIAGE_DISPLAY[s.triage].toLowerCase()}` },
      subject: ref('Patient', pt.id),
      period,
      hospitalization: {
        ...(from ? { origin: ref('Location', loc[from], from) } : {}),
        ...(to ? { destination: ref('Location', loc[to], to) } : {}),
        dischargeDisposition: disposition,
      },
      location: [{ location: ref('Location', loc[s.role], s.role), status: 'completed', period }],
    };
  }
}

function vitalObservations(v: VitalsRecord, subject: { reference: string }, encounter: { reference: string }, nextId: () => string): Resource[] {
  const base = (code: Coding, category: typeof vitalSigns) => ({ resourceType: 'Observation' as const, id: nextId(), status: 'final', category, code: concept(code), subject, encounter, effectiveDateTime: v.time });
  const sys = loinc('systolic_bp');
  const dia = loinc('diastolic_bp');
  return [
    { ...base(loinc('heart_rate'), vitalSigns), valueQuantity: qty(Math.round(v.hr), 'beats/minute', '/min') },
    {
      ...base(loinc('bp_panel'), vitalSigns),
      component: [
        { code: concept(sys), valueQuantity: qty(Math.round(v.sbp), 'mmHg', 'mm[Hg]') },
        { code: concept(dia), valueQuantity: qty(Math.round(v.dbp), 'mmHg', 'mm[Hg]') },
      ],
    },
    { ...base(loinc('respiratory_rate'), vitalSigns), valueQuantity: qty(Math.round(v.rr), 'breaths/minute', '/min') },
    { ...base(loinc('spo2'), vitalSigns), valueQuantity: qty(Math.round(v.spo2), '%', '%') },
    { ...base(loinc('body_temperature'), vitalSigns), valueQuantity: qty(v.temp, 'C', 'Cel') },
    { ...base(loinc('gcs_total'), exam), valueQuantity: qty(Math.round(v.gcs), 'score', '{score}') },
  ];
}

/** One patient as a transaction Bundle: every entry a PUT of its resource, references to the entries' urn:uuid. */
export function patientBundle(p: Patient, seed: number, roles: readonly Role[]): Resource {
  const resources = [...patientResources(p, seed, 'bundle'), ...locations(seed, roles.filter((r) => p.stays.some((s) => s.role === r)))];
  const order = (r: Resource) => FHIR_TYPES.indexOf(r.resourceType as FhirType);
  resources.sort((a, b) => order(a) - order(b));
  return {
    resourceType: 'Bundle',
    id: p.id,
    type: 'transaction',
    entry: resources.map((r) => ({ fullUrl: `urn:uuid:${r.id}`, resource: r, request: { method: 'PUT', url: `${r.resourceType}/${r.id}` } })),
  };
}
