/**
 * The built-in `pilot-vitals` model: the model fitted to data/pilot-vitals.csv (synthetic, see
 * data/README.md). Reading the file is the only I/O here and lives in readPilotVitalsCsv; fitting
 * is pure (pilotModelFromCsv). Do not import this module from workflow code (it uses node:fs).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { fitModel, parseVitalsCsv, type TrialModel } from './model.js';
import { PILOT_MODEL_ID } from './spec.js';

export { PILOT_MODEL_ID };

/** Absolute path of data/pilot-vitals.csv (resolved from this file, so independent of the cwd). */
export const PILOT_VITALS_CSV_PATH = fileURLToPath(new URL('../../../data/pilot-vitals.csv', import.meta.url));

/** The one I/O step: the pilot CSV's text. */
export function readPilotVitalsCsv(path: string = PILOT_VITALS_CSV_PATH): Promise<string> {
  return readFile(path, 'utf8');
}

/** Pure: fits the pilot model from the CSV text (throws if the shipped file has a bad line). */
export function pilotModelFromCsv(text: string): TrialModel {
  const { rows, errors } = parseVitalsCsv(text);
  if (errors.length) throw new Error(`pilot-vitals.csv: ${errors.slice(0, 5).map((e) => `line ${e.line}: ${e.message}`).join('; ')}`);
  return fitModel(rows, { keepRows: true });
}

let cached: Promise<TrialModel> | undefined;

/** Reads and fits once per process; later calls share the result. */
export function loadPilotModel(): Promise<TrialModel> {
  cached ??= readPilotVitalsCsv().then(pilotModelFromCsv);
  cached.catch(() => (cached = undefined));
  return cached;
}
