/**
 * The bundled SNOMED CT, LOINC and RxNorm table (data/patients/codes.json): every code the
 * generator writes is looked up here by key, so a code and its display always come from the table,
 * which records where each one was found (docs/PATIENTS.md § Codes). A treatment coded in RxNorm is
 * a drug given; one coded in SNOMED CT is a procedure.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SNOMED = 'http://snomed.info/sct';
export const LOINC = 'http://loinc.org';
export const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';

export interface Coding {
  system: string;
  code: string;
  display: string;
}

interface Table {
  sources: Record<string, { repo: string; commit: string; path: string; note?: string }>;
  snomed: Record<string, { code: string; display: string; source: string }>;
  loinc: Record<string, { code: string; display: string; source: string }>;
  rxnorm: Record<string, { code: string; display: string; source: string }>;
}

let table: Table | undefined;
export function codeTable(): Table {
  table ??= JSON.parse(readFileSync(fileURLToPath(new URL('../../../data/patients/codes.json', import.meta.url)), 'utf8')) as Table;
  return table;
}

/** Per system, key → coding (one Map each: no key strings built per lookup). */
const caches = { s: new Map<string, Coding>(), l: new Map<string, Coding>(), r: new Map<string, Coding>() };
/** The SNOMED CT coding for a key of the table; throws on a key that is not there. */
export function sct(key: string): Coding {
  let c = caches.s.get(key);
  if (!c) {
    const e = codeTable().snomed[key];
    if (!e) throw new Error(`no SNOMED CT code "${key}" in data/patients/codes.json`);
    c = { system: SNOMED, code: e.code, display: e.display };
    caches.s.set(key, c);
  }
  return c;
}

/** The LOINC coding for a key of the table. */
export function loinc(key: string): Coding {
  let c = caches.l.get(key);
  if (!c) {
    const e = codeTable().loinc[key];
    if (!e) throw new Error(`no LOINC code "${key}" in data/patients/codes.json`);
    c = { system: LOINC, code: e.code, display: e.display };
    caches.l.set(key, c);
  }
  return c;
}

/** The RxNorm coding (a drug) for a key of the table. */
export function rxnorm(key: string): Coding {
  let c = caches.r.get(key);
  if (!c) {
    const e = codeTable().rxnorm[key];
    if (!e) throw new Error(`no RxNorm code "${key}" in data/patients/codes.json`);
    c = { system: RXNORM, code: e.code, display: e.display };
    caches.r.set(key, c);
  }
  return c;
}
