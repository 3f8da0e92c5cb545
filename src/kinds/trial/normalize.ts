/**
 * A trial spec's semantics, checked once when a job is submitted: the model exists and has the
 * spec's visits and arms, the seed is recorded, and the target effect is one that SystolicBP's
 * clinical range lets the model show. Refusals name the field (`spec.visits.2`).
 */
import { randomInt } from 'node:crypto';
import { SpecError, type KindContext, type Normalized } from '../../engine/kind.js';
import { effectReach } from './generate.js';
import { createModelStore } from './models.js';
import type { TrialSpecBody } from './schema.js';
import { checkTrialSpec, PILOT_MODEL_ID, resolveTrialSpec, storedTrialSpec, trialRowCount } from './spec.js';

/** How far (mmHg) the expected effect may fall from the target before the spec is refused. */
const EFFECT_TOLERANCE = 0.1;

export async function normalizeTrial(body: TrialSpecBody, ctx: KindContext): Promise<Normalized> {
  const models = createModelStore(ctx.sql);
  const modelId = body.model ?? PILOT_MODEL_ID;
  let names: { visits: string[]; arms: string[] } | undefined;
  if (body.method !== 'rules') {
    names = await models.groups(ctx.tenantId, modelId);
    if (!names) throw new SpecError(400, [{ path: 'spec.model', message: `unknown model "${modelId}"; see GET /v1/models` }]);
  }
  // The seed is always recorded, so the same job can be run again to the same bytes.
  const resolved = resolveTrialSpec({ ...body, model: modelId, seed: body.seed ?? randomInt(0, 2 ** 47) }, names);
  const issues = checkTrialSpec(resolved, names);
  if (issues.length) throw new SpecError(400, issues.map((i) => ({ path: `spec.${i.path}`, message: i.message })));
  // The clinical SBP range bounds the effect a model can show: refuse a target the output would miss.
  const reach = effectReach(resolved, await models.trialModel(ctx.tenantId, resolved));
  if (Math.abs(reach.achieved - resolved.targetEffect) > EFFECT_TOLERANCE) {
    const message =
      `${resolved.targetEffect} mmHg cannot be reached: with ${resolved.method === 'rules' ? 'the rules model' : `model ${resolved.model}`} ` +
      `SystolicBP in 95–200 allows an effect between ${reach.min.toFixed(1)} and ${reach.max.toFixed(1)} mmHg at the last visit`;
    throw new SpecError(422, [{ path: 'spec.targetEffect', message }], message);
  }
  return { spec: storedTrialSpec(resolved), units: trialRowCount(resolved) };
}
