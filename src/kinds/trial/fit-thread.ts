/**
 * A worker thread that parses a CSV and fits a trial model (seconds for tens of MB), so the API's
 * event loop keeps answering meanwhile. Input: the CSV bytes (transferred). Output: the errors, or
 * the model as JSON text (stored as is) and its summary without the bootstrap rows.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { fitModel, ModelFitError, parseVitalsCsv, stripRows } from './model.js';
import type { FitOutcome } from './fit.js';

const { bytes } = workerData as { bytes: Uint8Array };

function run(): FitOutcome {
  const parsed = parseVitalsCsv(new TextDecoder().decode(bytes));
  if (parsed.errors.length) return { kind: 'csv', count: parsed.errors.length, errors: parsed.errors.slice(0, 100) };
  try {
    const model = fitModel(parsed.rows, { keepRows: true });
    return { kind: 'ok', json: JSON.stringify(model), summary: stripRows(model), sourceRows: parsed.rows.length };
  } catch (err) {
    if (err instanceof ModelFitError) return { kind: 'fit', errors: err.errors };
    return { kind: 'error', message: err instanceof Error ? err.message : String(err) };
  }
}

parentPort!.postMessage(run());
