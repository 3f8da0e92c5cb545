/** The trial kind: one table, `vitals`, of 2 × nPerArm × visits rows. */
import { resolveTrialSpec, type TrialSpec } from './spec.js';
import type { KindPlugin } from '../index.js';

export const trialKind: KindPlugin = {
  unit: 'rows',
  tables(input) {
    const spec = resolveTrialSpec(input.spec as Partial<TrialSpec>);
    return [{ name: 'vitals', rows: 2 * spec.nPerArm * spec.visits.length }];
  },
  async prepare(input, deps) {
    const spec = resolveTrialSpec(input.spec as Partial<TrialSpec>);
    const model = await deps.models.trialModel(input.tenantId, spec);
    return { kind: 'trial', spec, model };
  },
};
