/**
 * A factor set from the US EPA's own file (SupplyChainGHGEmissionFactors_v1.x_NAICS_CO2e_USD20xx.csv,
 * as downloaded from the EPA), for `shardflow emissions load-epa`: every NAICS-6 code, the "with
 * margins" factor, the currency and price year read from the file's Unit column. The built-in set
 * carries only a subset (docs/EMISSIONS.md); this loads the whole table as a new version.
 */
import { csvCells } from './csv.js';
import type { FactorRow } from './reference.js';

/** A line's fields (an open quote keeps the line as one field, which then fails the row's checks). */
const cells = (line: string): string[] => csvCells(line) ?? [line];


export function epaFactors(csv: string, publication: string, url?: string): FactorRow[] {
  const lines = csv.replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.trim());
  const header = cells(lines[0] ?? '');
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`not an EPA supply-chain factor file: no column "${name}"`);
    return i;
  };
  const code = col('2017 NAICS Code');
  const title = col('2017 NAICS Title');
  const unit = col('Unit');
  const withMargins = col('Supply Chain Emission Factors with Margins');
  const ghg = header.indexOf('GHG');
  const out: FactorRow[] = [];
  for (const line of lines.slice(1)) {
    const c = cells(line);
    if (ghg >= 0 && c[ghg] !== 'All GHGs') continue;
    const m = /kg CO2e\/(\d{4}) ([A-Z]{3})/.exec(c[unit] ?? '');
    if (!m) throw new Error(`unit ${JSON.stringify(c[unit])} is not kg CO2e per <year> <currency>`);
    out.push({
      type: 'goods_services',
      key: c[code]!.trim(),
      unit: m[2]!,
      kgCo2e: Number(c[withMargins]),
      currency: m[2]!,
      baseYear: Number(m[1]),
      source: publication,
      sourceTable: 'Supply Chain Emission Factors with Margins',
      year: Number(m[1]),
      region: 'US',
      url: url ?? null,
      label: c[title]!.trim(),
    });
  }
  return out;
}
