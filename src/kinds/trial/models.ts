/**
 * Where trial models come from: `pilot-vitals` is fitted once per process from the shipped
 * CSV; a user's model is the fitted JSON stored by `POST /v1/models`; `rules` needs none.
 *
 * A model is referenced by its id or by its name, wherever a reference is taken (a trial spec's
 * `model`, `GET /v1/models/{id}`): by id first, else by the tenant's own name. Names are unique per
 * tenant and can never look like an id (see `modelNameProblem`), so the two never compete.
 */
import type postgres from 'postgres';
import { rulesModel, type TrialModel } from './model.js';
import { loadPilotModel, PILOT_MODEL_ID } from './pilot.js';
import type { ResolvedTrialSpec } from './spec.js';

export { PILOT_MODEL_ID };

/** Ids of fitted models start with this; a name may not. */
export const MODEL_ID_PREFIX = 'model-';
export const MODEL_NAME_MAX_LENGTH = 64;

export class UnknownModelError extends Error {
  constructor(readonly modelId: string) {
    super(`unknown model "${modelId}"`);
    this.name = 'UnknownModelError';
  }
}

/** A model as stored, whichever way it was referenced. */
export interface StoredModel {
  id: string;
  name: string;
  builtIn: boolean;
  /** null for the built-in model. */
  createdAt: Date | null;
  model: TrialModel;
}

export interface ModelStore {
  /** The fitted model a trial spec asks for (throws UnknownModelError). */
  trialModel(tenantId: string, spec: ResolvedTrialSpec): Promise<TrialModel>;
  /** Visit and arm names a model was fitted on, for validating specs. */
  groups(tenantId: string, modelRef: string): Promise<{ visits: string[]; arms: string[] } | undefined>;
  /** A model the tenant can use, by id or else by the tenant's name; undefined when there is none. */
  find(tenantId: string, modelRef: string): Promise<StoredModel | undefined>;
}

/**
 * Why `name` cannot name a model, or undefined when it can: 1–64 characters, no control characters,
 * and nothing that looks like an id (`model-…`, `pilot-vitals`, in any case).
 */
export function modelNameProblem(name: string): string | undefined {
  const length = [...name].length;
  if (length < 1 || length > MODEL_NAME_MAX_LENGTH) return `must be 1 to ${MODEL_NAME_MAX_LENGTH} characters`;
  if (/\p{Cc}/u.test(name)) return 'must not contain control characters';
  const lower = name.toLowerCase();
  if (lower.startsWith(MODEL_ID_PREFIX)) return `must not start with "${MODEL_ID_PREFIX}" (ids do)`;
  if (lower === PILOT_MODEL_ID) return `"${PILOT_MODEL_ID}" is the built-in model's id`;
  return undefined;
}

/** A reference no model can have (Postgres text cannot even hold a NUL): not worth a query. */
function impossibleRef(ref: string): boolean {
  return ref.length === 0 || ref.length > 255 || /\p{Cc}/u.test(ref);
}

export function createModelStore(sql?: postgres.Sql): ModelStore {
  const find = async (tenantId: string, ref: string): Promise<StoredModel | undefined> => {
    if (ref === PILOT_MODEL_ID) {
      return { id: PILOT_MODEL_ID, name: PILOT_MODEL_ID, builtIn: true, createdAt: null, model: await loadPilotModel() };
    }
    if (!sql || impossibleRef(ref)) return undefined;
    // Epoch milliseconds: a pool shared with drizzle hands timestamptz over as unparsed text.
    const rows = await sql<{ id: string; name: string; created_ms: number; params: TrialModel }[]>`
      select id, name, (extract(epoch from created_at) * 1000)::float8 as created_ms, params from models
      where (id = ${ref} and (tenant_id = ${tenantId} or tenant_id is null))
         or (tenant_id = ${tenantId} and name = ${ref})
      order by (id = ${ref}) desc
      limit 1`;
    const row = rows[0];
    return row ? { id: row.id, name: row.name, builtIn: false, createdAt: new Date(row.created_ms), model: row.params } : undefined;
  };
  return {
    find,
    async trialModel(tenantId, spec) {
      if (spec.method === 'rules') return rulesModel(spec.visits, spec.arms);
      const found = await find(tenantId, spec.model);
      if (!found) throw new UnknownModelError(spec.model);
      return found.model;
    },
    async groups(tenantId, modelRef) {
      const found = await find(tenantId, modelRef);
      return found ? { visits: found.model.visits, arms: found.model.arms } : undefined;
    },
  };
}
