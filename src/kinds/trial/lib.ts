/**
 * The trial generator as a library (tests, benchmarks, scripts): spec, model fitting and the
 * pure generator. The file-reading pilot loader is in ./pilot.js.
 */
export * from './spec.js';
export * from './model.js';
export * from './generate.js';

import { createTrialTable } from './generate.js';
import { rulesModel, type TrialModel } from './model.js';
import type { ResolvedTrialSpec } from './spec.js';
import type { TableGenerator } from '../../data/batch.js';

/**
 * The generator for a resolved spec. `model` is the model the spec names (the pilot or a
 * user's); it is ignored for method 'rules', which uses rulesModel(spec.visits, spec.arms).
 */
export function trialGenerator(spec: ResolvedTrialSpec, model?: TrialModel): TableGenerator {
  if (spec.method === 'rules') return createTrialTable(spec, rulesModel(spec.visits, spec.arms));
  if (!model) throw new Error(`method "${spec.method}" needs a model`);
  return createTrialTable(spec, model);
}
