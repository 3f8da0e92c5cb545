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

type Section = 'snomed' | 'loinc' | 'rxnorm';
const SYSTEMS: Record<Section, { uri: string; name: string }> = {
  snomed: { uri: SNOMED, name: 'SNOMED CT' },
  loinc: { uri: LOINC, name: 'LOINC' },
  rxnorm: { uri: RXNORM, name: 'RxNorm' },
};
/** Per section, key → coding (one Map each: no key strings built per lookup). */
const caches: Record<Section, Map<string, Coding>> = { snomed: new Map(), loinc: new Map(), rxnorm: new Map() };

function lookup(section: Section, key: string): Coding {
  let c = caches[section].get(key);
  if (!c) {
    const e = codeTable()[section][key];
    if (!e) throw new Error(`no ${SYSTEMS[section].name} code "${key}" in data/patients/codes.json`);
    c = { system: SYSTEMS[section].uri, code: e.code, display: e.display };
    caches[section].set(key, c);
  }
  return c;
}

/** The SNOMED CT coding for a key of the table; throws on a key that is not there. */
export const sct = (key: string): Coding => lookup('snomed', key);
/** The LOINC coding for a key of the table. */
export const loinc = (key: string): Coding => lookup('loinc', key);
/** The RxNorm coding (a drug) for a key of the table. */
export const rxnorm = (key: string): Coding => lookup('rxnorm', key);
