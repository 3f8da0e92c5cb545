/** Bundled name lists of the 32 NATO nations (data/patients/names.json; sources in docs/PATIENTS.md § Names). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface NationNames {
  source: string;
  note?: string;
  maleFirst: string[];
  femaleFirst: string[];
  maleSurnames: string[];
  femaleSurnames: string[];
}

/** ISO 3166-1 alpha-3 codes of the NATO member nations (32, as of 2024). */
export const NATO_NATIONS: readonly string[] = [
  'ALB', 'BEL', 'BGR', 'CAN', 'HRV', 'CZE', 'DNK', 'EST', 'FIN', 'FRA', 'DEU', 'GRC', 'HUN', 'ISL', 'ITA', 'LVA',
  'LTU', 'LUX', 'MNE', 'NLD', 'MKD', 'NOR', 'POL', 'PRT', 'ROU', 'SVK', 'SVN', 'ESP', 'SWE', 'TUR', 'GBR', 'USA',
];

let names: Record<string, NationNames> | undefined;

export function nationNames(): Record<string, NationNames> {
  names ??= (JSON.parse(readFileSync(fileURLToPath(new URL('../../../data/patients/names.json', import.meta.url)), 'utf8')) as { nations: Record<string, NationNames> }).nations;
  return names;
}
