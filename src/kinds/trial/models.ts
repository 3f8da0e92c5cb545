/**
 * Where trial models come from: `pilot-vitals` is fitted once per process from the shipped
 * CSV; a user's model is the fitted JSON stored by `POST /v1/models`; `rules` needs none.
 */
import type postgres from 'postgres';
import { rulesModel, type TrialModel } from './model.js';
import { loadPilotModel, PILOT_MODEL_ID } from './pilot.js';
import type { ResolvedTrialSpec } from './spec.js';

export { PILOT_MODEL_ID };

export class UnknownModelError extends Error {
  constructor(readonly modelId: string) {
    super(`unknown model "${modelId}"`);
    this.name = 'UnknownModelError';
  }
}

export interface ModelStore {
  /** The fitted model a trial spec asks for (throws UnknownModelError). */
  trialModel(tenantId: string, spec: ResolvedTrialSpec): Promise<TrialModel>;
  /** Visit and arm names a model was fitted on, for validating specs. */
  groups(tenantId: string, modelId: string): Promise<{ visits: string[]; arms: string[] } | undefined>;
}

export function createModelStore(sql?: postgres.Sql): ModelStore {
  const load = async (tenantId: string, modelId: string): Promise<TrialModel | undefined> => {
    if (modelId === PILOT_MODEL_ID) return loadPilotModel();
    if (!sql) return undefined;
    const rows = await sql<{ params: TrialModel }[]>`
      select params from models where id = ${modelId} and (tenant_id = ${tenantId} or tenant_id is null)`;
    return rows[0]?.params;
  };
  return {
    async trialModel(tenantId, spec) {
      if (spec.method === 'rules') return rulesModel(spec.visits, spec.arms);
      const model = await load(tenantId, spec.model);
      if (!model) throw new UnknownModelError(spec.model);
      return model;
    },
    async groups(tenantId, modelId) {
      const model = await load(tenantId, modelId);
      return model ? { visits: model.visits, arms: model.arms } : undefined;
    },
  };
}
