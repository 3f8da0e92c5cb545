/**
 * The patients core (pure, no stack): `npx tsx --test test/patients.test.ts`.
 *
 * Tolerances: a share p estimated from n patients has standard error sqrt(p(1-p)/n); we allow
 * 5 standard errors (plus 1e-9), so with ~40 independent checks per run a false alarm has
 * probability ≈ 40 × 5.7e-7. The data are deterministic anyway (fixed seeds): a failure is a
 * change of the model or the generator, never flakiness.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpecError } from '../src/engine/kind.js';
import { CAPABILITIES, SURGERY } from '../src/kinds/patients/clinical.js';
import { codeTable, RXNORM, SNOMED } from '../src/kinds/patients/codes.js';
import { iso, patient, PatientDigest, patientModel, patientUuid, type Patient, VITALS_LOINC } from '../src/kinds/patients/generate.js';
import { NATO_NATIONS, nationNames } from '../src/kinds/patients/names.js';
import { normalizeScenario, patientCount, PRESETS, ROLES, TRIAGE, type ResolvedScenario } from '../src/kinds/patients/scenario.js';

const N = 100_000;
const SEED = 20250901;

function within(observed: number, n: number, p: number, what: string): void {
  const se = Math.sqrt((p * (1 - p)) / n);
  assert.ok(Math.abs(observed / n - p) <= 5 * se + 1e-9, `${what}: ${(observed / n).toFixed(4)} vs ${p} (n ${n}, 5 SE ${(5 * se).toFixed(4)})`);
}

const cache = new Map<string, Patient[]>();
function generate(s: ResolvedScenario, n: number, seed = SEED, key?: string): Patient[] {
  if (key && cache.has(key)) return cache.get(key)!;
  const m = patientModel(s);
  const out: Patient[] = [];
  for (let i = 0; i < n; i++) out.push(patient(m, seed, i));
  if (key) cache.set(key, out);
  return out;
}

const def = normalizeScenario({ totalCasualties: N });
const article5 = normalizeScenario({ preset: 'article5', totalCasualties: N - 4000 });

test('injury mix, fronts and nationality mix per front match the scenario (100K, default)', () => {
  const ps = generate(def, N, SEED, 'default');
  const cat = { disease: 0, nonBattle: 0, battle: 0 };
  for (const p of ps) cat[p.injury.category]++;
  within(cat.disease, N, def.injuryMix.disease, 'disease');
  within(cat.nonBattle, N, def.injuryMix.nonBattle, 'non-battle');
  within(cat.battle, N, def.injuryMix.battle, 'battle');
  for (const f of def.fronts) {
    const on = ps.filter((p) => p.front === f.name);
    within(on.length, N, f.share, `front ${f.name}`);
    for (const nat of f.nationalities) within(on.filter((p) => p.nationality === nat.code).length, on.length, nat.share, `${f.name} ${nat.code}`);
  }
  within(ps.filter((p) => p.sex === 'female').length, N, def.femaleShare, 'female share');
});

test('triage follows severity, and battle injuries are triaged more urgently than diseases', () => {
  const ps = generate(def, N, SEED, 'default');
  const byCat: Record<string, Record<string, number>> = {};
  for (const p of ps) {
    const expected = p.triage === 'T4' ? ['critical', 'severe', 'moderate', 'minor'] : p.triage === 'T1' ? ['critical', 'severe'] : p.triage === 'T2' ? ['moderate'] : ['minor'];
    assert.ok(expected.includes(p.severity), `${p.id}: ${p.triage} with severity ${p.severity}`);
    for (const c of p.conditions) assert.equal(c.severity, p.severity);
    (byCat[p.injury.category] ??= {})[p.triage] = (byCat[p.injury.category]![p.triage] ?? 0) + 1;
  }
  const share = (c: string, t: string) => (byCat[c]![t] ?? 0) / Object.values(byCat[c]!).reduce((a, b) => a + b, 0);
  assert.ok(share('battle', 'T1') > 0.25, `battle T1 ${share('battle', 'T1')}`);
  assert.ok(share('disease', 'T1') < 0.01, `disease T1 ${share('disease', 'T1')}`);
  assert.ok(share('disease', 'T3') > 0.85, `disease T3 ${share('disease', 'T3')}`);
  assert.ok(share('battle', 'T4') > 0 && share('battle', 'T4') < 0.05, `battle T4 ${share('battle', 'T4')}`);
});

test('outcomes per role follow the role’s chances for each triage category (table decisions)', () => {
  for (const [name, s, key] of [['default', def, 'default'], ['article5', article5, 'article5']] as const) {
    const ps = generate(s, patientCount(s), SEED, key);
    let checked = 0;
    for (const role of ROLES) {
      for (const t of TRIAGE) {
        const stays = ps.flatMap((p) => p.stays.filter((x) => x.role === role && x.triage === t && x.decidedBy === 'table'));
        if (stays.length < 400) continue;
        const p = s.facilities[role].byTriage[t];
        within(stays.filter((x) => x.disposition === 'die').length, stays.length, p.die, `${name} ${role} ${t} die`);
        within(stays.filter((x) => x.disposition === 'returnToDuty').length, stays.length, p.returnToDuty, `${name} ${role} ${t} RTD`);
        within(stays.filter((x) => x.disposition === 'evacuate').length, stays.length, p.evacuate, `${name} ${role} ${t} evacuate`);
        checked++;
      }
    }
    assert.ok(checked >= 10, `${name}: only ${checked} role × triage cells had 400 stays`);
  }
});

test('every timeline is ordered and ends in exactly one outcome; no event after death; KIA only before a facility', () => {
  for (const key of ['default', 'article5']) {
    const ps = cache.get(key) ?? generate(key === 'default' ? def : article5, N, SEED, key);
    for (const p of ps) {
      const times = p.timeline.map((e) => Date.parse(e.time));
      for (let i = 1; i < times.length; i++) assert.ok(times[i]! >= times[i - 1]!, `${p.id}: timeline out of order at ${i}`);
      const ends = p.timeline.filter((e) => e.type === 'death' || e.type === 'return_to_duty' || e.type === 'evacuated_out_of_theatre');
      assert.equal(ends.length, 1, `${p.id}: ${ends.length} outcomes`);
      assert.equal(p.timeline[p.timeline.length - 1], ends[0], `${p.id}: an event after the outcome`);
      const end = Date.parse(p.outcome.time);
      assert.equal(Date.parse(ends[0]!.time), end);
      for (const x of [...p.vitals.map((v) => v.time), ...p.stays.flatMap((s) => [s.arrival, s.departure, ...s.treatments.map((t) => t.time)])]) {
        assert.ok(Date.parse(x) <= end, `${p.id}: ${x} after the outcome ${p.outcome.time}`);
      }
      const firstArrival = p.timeline.find((e) => e.type === 'arrival');
      if (p.outcome.type === 'KIA') assert.ok(!firstArrival, `${p.id}: KIA after arriving at ${firstArrival?.role}`);
      if (p.outcome.type === 'DOW') assert.ok(firstArrival && Date.parse(firstArrival.time) <= end, `${p.id}: DOW without a facility`);
      if (p.outcome.type === 'EVACUATED_OUT_OF_THEATRE') assert.equal(p.stays[p.stays.length - 1]!.role, 'R4');
      for (let i = 1; i < p.stays.length; i++) assert.ok(ROLES.indexOf(p.stays[i]!.role) > ROLES.indexOf(p.stays[i - 1]!.role), `${p.id}: roles not in chain order`);
      for (const s of p.stays)
        for (const t of s.treatments) {
          const tab = t.system === RXNORM ? codeTable().rxnorm : codeTable().snomed;
          assert.ok(CAPABILITIES[s.role].some((k) => tab[k]?.code === t.code), `${p.id}: ${s.role} gave ${t.display}`);
          assert.ok(Date.parse(t.time) >= Date.parse(s.arrival) && Date.parse(t.time) <= Date.parse(s.departure), `${p.id}: ${t.display} outside the ${s.role} stay`);
        }
      assert.equal(Date.parse(p.injury.time), times[0]);
    }
  }
});

test('every SNOMED CT, LOINC and RxNorm code used is in the bundled table with its display', () => {
  const tab = codeTable();
  const bySct = new Map(Object.values(tab.snomed).map((e) => [e.code, e.display]));
  const byRx = new Map(Object.values(tab.rxnorm).map((e) => [e.code, e.display]));
  for (const e of [...Object.values(tab.snomed), ...Object.values(tab.loinc), ...Object.values(tab.rxnorm)]) assert.ok(tab.sources[e.source], `source ${e.source} of ${e.code} is described`);
  // A capability names a key of one table only, so a treatment's system follows from its key.
  for (const k of Object.keys(tab.rxnorm)) assert.ok(!(k in tab.snomed), `${k} is a key of both tables`);
  for (const keys of Object.values(CAPABILITIES)) for (const k of keys) assert.ok(k in tab.snomed || k in tab.rxnorm, `capability ${k} is in no table`);
  const ps = cache.get('default')!;
  let drugs = 0;
  for (const p of ps.slice(0, 20_000)) {
    const codings = [...p.conditions, ...p.allergies, ...p.history, ...p.medications, ...p.stays.flatMap((s) => s.treatments), ...(p.injury.mechanismCode ? [p.injury.mechanismCode] : [])];
    for (const c of codings) {
      if (c.system === RXNORM) drugs++;
      else assert.equal(c.system, SNOMED);
      assert.equal((c.system === RXNORM ? byRx : bySct).get(c.code), c.display, `${c.code} ${c.display}`);
    }
    for (const c of [...p.conditions, ...p.allergies, ...p.history]) assert.equal(c.system, SNOMED);
    for (const c of p.medications) assert.equal(c.system, RXNORM);
  }
  assert.ok(drugs > 1000, `${drugs} RxNorm codings in 20,000 patients`);
  for (const f of Object.values(VITALS_LOINC)) {
    const c = f();
    assert.equal(Object.values(tab.loinc).find((e) => e.code === c.code)?.display, c.display);
  }
  assert.deepEqual(
    Object.fromEntries(Object.entries(VITALS_LOINC).map(([k, f]) => [k, f().code])),
    { hr: '8867-4', sbp: '8480-6', dbp: '8462-4', rr: '9279-1', spo2: '59408-5', temp: '8310-5', gcs: '9269-2' },
  );
});

const keyOf = (system: string, code: string) => {
  const tab = system === RXNORM ? codeTable().rxnorm : codeTable().snomed;
  return Object.entries(tab).find(([, e]) => e.code === code)![0];
};

test('current medications only for a matching history item, as often as modelled', () => {
  const ps = cache.get('default')!;
  const by: Record<string, Patient[]> = {};
  for (const p of ps) (by[p.history[0] ? keyOf(SNOMED, p.history[0].code) : 'none'] ??= []).push(p);
  const meds = (p: Patient) => p.medications.map((m) => keyOf(RXNORM, m.code));
  assert.ok(by.none!.every((p) => p.medications.length === 0), 'medications without a history item');
  assert.ok(by.asthma!.every((p) => meds(p)[0] === 'albuterol_inhaler' && meds(p).slice(1).every((k) => k === 'fluticasone_inhaler')), 'asthma: albuterol, maybe fluticasone');
  within(by.asthma!.filter((p) => p.medications.length === 2).length, by.asthma!.length, 0.4, 'asthma with a maintenance inhaler');
  const antihistamines = ['loratadine_10', 'cetirizine_10', 'fexofenadine_60'];
  assert.ok(by.seasonal_allergic_rhinitis!.every((p) => p.medications.length <= 1 && meds(p).every((k) => antihistamines.includes(k))), 'rhinitis: one antihistamine at most');
  within(by.seasonal_allergic_rhinitis!.filter((p) => p.medications.length === 1).length, by.seasonal_allergic_rhinitis!.length, 0.7, 'rhinitis on an antihistamine');
  const analgesics = ['acetaminophen_325', 'ibuprofen_200', 'naproxen_220'];
  assert.ok(by.migraine!.every((p) => p.medications.length <= 1 && meds(p).every((k) => analgesics.includes(k))), 'migraine: one analgesic at most');
  within(by.migraine!.filter((p) => p.medications.length === 1).length, by.migraine!.length, 0.6, 'migraine on an analgesic');
  within(ps.filter((p) => p.medications.length > 0).length, ps.length, 0.08 * 0.7 + 0.04 + 0.03 * 0.6, 'patients on a medication');
});

test('drugs given: antibiotics for open battle wounds by R1, prophylaxis with surgery, none a penicillin-allergic patient should not have', () => {
  const ps = cache.get('default')!;
  const open = (p: Patient) => p.injury.category === 'battle' && p.conditions.some((c) => { const k = keyOf(SNOMED, c.code); return k === 'gunshot_wound' || k.startsWith('open_') || k === 'foreign_body' || k === 'traumatic_amputation' || k === 'brain_injury_open'; });
  const antibiotics = ['moxifloxacin_oral', 'moxifloxacin_iv', 'ceftriaxone_1g', 'cefazolin_2g'];
  const opioids = ['fentanyl_injection', 'morphine_injection'];
  const surgery = new Set(SURGERY.map((k) => codeTable().snomed[k]!.code));
  let checkedR1 = 0;
  let operated = 0;
  for (const p of ps) {
    const drugs = p.stays.flatMap((s) => s.treatments.filter((t) => t.system === RXNORM).map((t) => ({ role: s.role, key: keyOf(RXNORM, t.code) })));
    const penicillin = p.allergies.some((a) => keyOf(SNOMED, a.code) === 'allergy_penicillin');
    if (penicillin) assert.ok(!drugs.some((x) => x.key === 'ceftriaxone_1g' || x.key === 'cefazolin_2g'), `${p.id}: a cephalosporin despite a penicillin allergy`);
    if (!open(p)) assert.ok(!drugs.some((x) => antibiotics.includes(x.key) && (x.role === 'POI' || x.role === 'R1')), `${p.id}: an antibiotic at POI/R1 without an open wound`);
    if (p.injury.category !== 'battle' || p.severity === 'minor') assert.ok(!drugs.some((x) => opioids.includes(x.key)), `${p.id}: an opioid for ${p.injury.category} ${p.severity}`);
    // Off the battlefield: paracetamol at R1 for an injury, and prophylaxis when operated (a femur fracture's ORIF).
    if (p.injury.category !== 'battle')
      assert.ok(drugs.every((x) => (x.key === 'acetaminophen_325' && x.role === 'R1' && p.injury.category === 'nonBattle') || ((x.key === 'cefazolin_2g' || x.key === 'moxifloxacin_iv') && (x.role === 'R2' || x.role === 'R3'))), `${p.id}: a drug for ${p.injury.category}`);
    // An R1 stay decided by the table had its care: an open wound has its antibiotic by then.
    const r1 = p.stays.find((s) => s.role === 'R1');
    if (open(p) && r1 && r1.decidedBy === 'table') {
      checkedR1++;
      assert.ok(drugs.some((x) => (x.role === 'POI' || x.role === 'R1') && antibiotics.includes(x.key)), `${p.id}: open wound without an antibiotic by R1`);
    }
    for (const s of p.stays) {
      const given = s.treatments.filter((t) => t.system === RXNORM).map((t) => keyOf(RXNORM, t.code));
      if (s.treatments.some((t) => t.system === SNOMED && surgery.has(t.code))) {
        operated++;
        assert.ok(given.includes(penicillin ? 'moxifloxacin_iv' : 'cefazolin_2g'), `${p.id}: surgery at ${s.role} without prophylaxis`);
      } else if (s.role !== 'POI' && s.role !== 'R1') assert.ok(!given.some((k) => antibiotics.includes(k)), `${p.id}: an antibiotic at ${s.role} without surgery`);
    }
  }
  assert.ok(checkedR1 > 1000 && operated > 1000, `checked ${checkedR1} R1 stays, ${operated} operations`);
});

test('names come from the nationality’s lists; all 32 NATO nations have lists', () => {
  const lists = nationNames();
  assert.deepEqual(Object.keys(lists).sort(), [...NATO_NATIONS].sort());
  for (const [iso, l] of Object.entries(lists)) for (const k of ['maleFirst', 'femaleFirst', 'maleSurnames', 'femaleSurnames'] as const) assert.ok(l[k].length >= 10, `${iso} ${k}`);
  for (const p of cache.get('default')!.slice(0, 5000)) {
    const l = lists[p.nationality]!;
    assert.ok((p.sex === 'male' ? l.maleFirst : l.femaleFirst).includes(p.name.given));
    assert.ok((p.sex === 'male' ? l.maleSurnames : l.femaleSurnames).includes(p.name.family));
    const age = (Date.parse(p.injury.time) - Date.parse(p.birthDate)) / (365.2425 * 86_400_000);
    assert.ok(age >= 17.99 && age <= 55.01, `age ${age}`);
    assert.match(p.bloodGroup, /^(O|A|B|AB)[+-]$/);
  }
});

test('the same seed gives the same patients in one pass or in chunks of two sizes; ids are UUIDs from (seed, index)', () => {
  const n = 30_000;
  const s = normalizeScenario({ preset: 'mass_casualty' });
  const m = patientModel(s);
  // One pass: the records (as JSON) and their digest. The chunked passes regenerate every patient
  // with a fresh model per chunk (as on another worker): records equal, and (777) the merged digest.
  const records: string[] = [];
  const one = new PatientDigest();
  for (let i = 0; i < n; i++) {
    const p = patient(m, SEED, i);
    records.push(JSON.stringify(p));
    one.add(p);
  }
  for (const size of [1000, 777]) {
    const total = new PatientDigest();
    for (let a = 0; a < n; a += size) {
      const part = new PatientDigest();
      const m2 = patientModel(normalizeScenario({ preset: 'mass_casualty' })); // a fresh model, as on another worker
      for (let i = a; i < Math.min(n, a + size); i++) {
        const p = patient(m2, SEED, i);
        if (JSON.stringify(p) !== records[i]) assert.fail(`chunks of ${size}: patient ${i} differs`);
        if (size === 777) part.add(p);
      }
      total.merge(part);
    }
    if (size === 777) assert.equal(total.toString(), one.toString(), `chunks of ${size}`);
  }
  const other = new PatientDigest();
  const mine = new PatientDigest();
  for (let i = 0; i < 2000; i++) other.add(patient(m, SEED + 1, i)), mine.add(patient(m, SEED, i));
  assert.notEqual(other.toString(), mine.toString());
  assert.match(patientUuid(SEED, 5), /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(patient(m, SEED, 5).id, patientUuid(SEED, 5));
  assert.equal(new Set(Array.from({ length: 10000 }, (_, i) => patientUuid(SEED, i))).size, 10000);
});

test('special events show as more arrivals in their windows', () => {
  // The article5 pass of the tests above (96,000 + the event's 4,000), generated once for all of them.
  const s = article5;
  const ps = cache.get('article5') ?? generate(s, patientCount(s), SEED, 'article5');
  const e = s.events[0]!;
  const t0 = Date.parse(e.start);
  const t1 = t0 + e.durationHours * 3_600_000;
  const inside = ps.filter((p) => Date.parse(p.injury.time) >= t0 && Date.parse(p.injury.time) < t1).length;
  const perHourInside = inside / e.durationHours;
  const perHourOutside = (ps.length - inside) / (s.durationDays * 24 - e.durationHours);
  // The window has the background's rate plus the event's 4000 / 48 h (~83/h; the background ~280/h
  // on average, ~310/h in the window as the tempo escalates): about 1.38 × the rate outside it.
  assert.ok(perHourInside > 1.25 * perHourOutside, `inside ${perHourInside.toFixed(1)}/h, outside ${perHourOutside.toFixed(1)}/h`);
  const backgroundInside = ps.filter((p) => p.event !== e.name && Date.parse(p.injury.time) >= t0 && Date.parse(p.injury.time) < t1).length / e.durationHours;
  assert.ok(perHourInside - backgroundInside > 0.9 * (e.casualties / e.durationHours), `event arrivals ${(perHourInside - backgroundInside).toFixed(1)}/h`);
  const tagged = ps.filter((p) => p.event === e.name);
  within(tagged.length, ps.length, e.casualties / ps.length, 'event casualties');
  assert.ok(tagged.every((p) => p.front === e.front));
  assert.ok(tagged.every((p) => Date.parse(p.injury.time) >= t0 - 3_600_000 && Date.parse(p.injury.time) < t1 + 3_600_000), 'event casualties inside the window');
  within(tagged.filter((p) => p.injury.category === 'battle').length, tagged.length, e.injuryMix.battle, 'event battle share');
  const start = Date.parse(s.start);
  assert.ok(ps.every((p) => Date.parse(p.injury.time) >= start && Date.parse(p.injury.time) < start + s.durationDays * 86_400_000));
});

test('the time to treatment changes the outcome: slower evacuation from POI, more deaths', () => {
  // 20,000 battle casualties each: a few thousand deaths by blood loss, the 1.3 × margin several SE wide.
  const fast = normalizeScenario({ totalCasualties: 20_000, injuryMix: { disease: 0, nonBattle: 0, battle: 1 }, facilities: { POI: { transit: { medianHours: 0.25, sigma: 0.3 } } } });
  const slow = normalizeScenario({ totalCasualties: 20_000, injuryMix: { disease: 0, nonBattle: 0, battle: 1 }, facilities: { POI: { transit: { medianHours: 3, sigma: 0.3 } } } });
  // Deaths by blood loss (at a role before its table decides, or in transit), not the roles' chances of death.
  const bled = (ps: Patient[]) =>
    ps.filter((p) => (p.outcome.type === 'KIA' || p.outcome.type === 'DOW') && (p.stays.at(-1)!.decidedBy === 'physiology' || p.stays.at(-1)!.disposition === 'evacuate')).length;
  const a = generate(fast, 20_000);
  const b = generate(slow, 20_000);
  assert.ok(bled(b) > 1.3 * bled(a), `deaths by blood loss: fast ${bled(a)}, slow ${bled(b)}`);
  const kia = (ps: Patient[]) => ps.filter((p) => p.outcome.type === 'KIA').length;
  assert.ok(kia(b) > kia(a), `KIA fast ${kia(a)}, slow ${kia(b)}`);
});

test('every preset is a valid scenario', () => {
  for (const name of Object.keys(PRESETS)) {
    const s = normalizeScenario({ preset: name });
    assert.ok(patientCount(s) > 0, name);
  }
});

function refused(body: unknown, status: 400 | 422, path: string): void {
  assert.throws(
    () => normalizeScenario(body),
    (err: unknown) => {
      assert.ok(err instanceof SpecError, String(err));
      assert.equal(err.status, status, err.message);
      assert.ok(err.errors.some((e) => e.path === path), `${path} not in ${JSON.stringify(err.errors)}`);
      return true;
    },
  );
}

test('invalid scenarios are refused naming the path', () => {
  const front = (share: number, nationalities = [{ code: 'DEU', share: 1 }]) => ({ name: `F${share}`, share, nationalities });
  refused({ fronts: [front(0.5), front(0.4)] }, 422, 'spec.fronts');
  refused({ fronts: [{ name: 'A', share: 1, nationalities: [{ code: 'DEU', share: 0.5 }, { code: 'FRA', share: 0.3 }] }] }, 422, 'spec.fronts.0.nationalities');
  refused({ fronts: [{ name: 'A', share: 1, nationalities: [{ code: 'DEU', share: 0.5 }, { code: 'AUT', share: 0.5 }] }] }, 422, 'spec.fronts.0.nationalities.1.code');
  refused({ fronts: [{ name: 'A', share: 1, nationalities: [{ code: 'de', share: 1 }] }] }, 400, 'spec.fronts.0.nationalities.0.code');
  refused({ fronts: [{ name: 'A', share: 1.2, nationalities: [{ code: 'DEU', share: 1 }] }] }, 400, 'spec.fronts.0.share');
  refused({ durationDays: -2 }, 400, 'spec.durationDays');
  refused({ facilities: { R2: { stay: { medianHours: -1, sigma: 0.5 } } } }, 400, 'spec.facilities.R2.stay.medianHours');
  refused({ facilities: { R5: { enabled: true } } }, 400, 'spec.facilities.R5');
  refused({ facilities: { R2: { byTriage: { T1: { evacuate: 1.5, returnToDuty: 0, die: -0.5 } } } } }, 400, 'spec.facilities.R2.byTriage.T1.evacuate');
  refused({ facilities: { R2: { byTriage: { T1: { evacuate: 0.5, returnToDuty: 0.2, die: 0.2 } } } } }, 422, 'spec.facilities.R2.byTriage.T1');
  refused({ facilities: { R4: { enabled: false } } }, 422, 'spec.facilities.R4.enabled');
  refused({ injuryMix: { disease: 0.5, nonBattle: 0.3, battle: 0.3 } }, 422, 'spec.injuryMix');
  refused({ events: [{ type: 'ambush', start: '2026-01-01T00:00:00Z', durationHours: 2, casualties: 10 }] }, 422, 'spec.events.0.start');
  refused({ durationDays: 2, events: [{ type: 'ambush', start: '2025-09-02T20:00:00Z', durationHours: 8, casualties: 10 }] }, 422, 'spec.events.0.durationHours');
  refused({ events: [{ type: 'ambush', start: '2025-09-02T20:00:00Z', durationHours: 2, casualties: 10, front: 'Nowhere' }] }, 422, 'spec.events.0.front');
  refused({ preset: 'moon_landing' }, 422, 'spec.preset');
  refused({ totalCasualties: 10, ratePerDay: 5 }, 422, 'spec.ratePerDay');
  // Skipping R2 is allowed: evacuation from R1 goes to R3.
  const s = normalizeScenario({ totalCasualties: 5000, facilities: { R2: { enabled: false } } });
  const ps = generate(s, 5000);
  assert.ok(ps.every((p) => p.stays.every((x) => x.role !== 'R2')));
  assert.ok(ps.some((p) => p.stays.some((x) => x.role === 'R3')));
});

test('times are written as Date#toISOString writes them (the generator formats them without a Date)', () => {
  const samples = [0, -1, -0.5, 0.5, 1.5, 86_399_999.6, -86_400_000, 951_782_400_000, 1_756_684_800_123.4, -62_135_596_800_000, 253_402_300_799_999];
  let x = 0x9e3779b9;
  for (let i = 0; i < 20_000; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    samples.push((x / 2 ** 32) * 4e12 - 1e12 + (i % 7) / 3);
  }
  for (const ms of samples) assert.equal(iso(ms), new Date(Math.round(ms)).toISOString(), String(ms));
});
