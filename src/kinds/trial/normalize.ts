/**
 * A trial spec's semantics, checked once when a job is submitted: the model exists and has the
 * spec's visits and arms, the seed is recorded, and the target effect is one that SystolicBP's
 * clinical range lets the model show. Refusals name the field (`spec.visits.2`).
 */
import { randomInt } from 'node:crypto';
import { SpecError, type KindContext, type Normalized } from '../../engine/kind.js';
import { effectReach } from './generate.js';
import { rulesModel, type TrialModel } from './model.js';
import { createModelStore } from './models.js';
import type { TrialSpecBody } from './schema.js';
import { checkTrialSpec, PILOT_MODEL_ID, resolveTrialSpec, storedTrialSpec, trialRowCount } from './spec.js';

/** How far (mmHg) the expected effect may fall from the target before the spec is refused. */
const EFFECT_TOLERANCE = 0.1;

export async function normalizeTrial(body: TrialSpecBody, ctx: KindContext): Promise<Normalized> {
  // A field the method would ignore is a mistake worth naming, not something to drop in silence.
  const ignored: Array<{ path: string; message: string }> = [];
  if (body.jitter !== undefined && body.method !== 'bootstrap') ignored.push({ path: 'spec.jitter', message: `only bootstrap uses jitter (method is ${body.method})` });
  if (body.model !== undefined && body.method === 'rules') ignored.push({ path: 'spec.model', message: 'rules uses population norms, no model' });
  if (ignored.length) throw new SpecError(400, ignored);
  const ref = body.model ?? PILOT_MODEL_ID;
  let model: TrialModel | undefined;
  let modelId = ref;
  if (body.method !== 'rules') {
    const found = await createModelStore(ctx.sql).find(ctx.tenantId, ref);
    if (!found) throw new SpecError(400, [{ path: 'spec.model', message: `unknown model "${ref}"; see GET /v1/models` }]);
    // The job records the model's id: a name given to another model later does not change the job.
    ({ model, id: modelId } = found);
  }
  // The seed is always recorded, so the same job can be run again to the same bytes.
  const resolved = resolveTrialSpec({ ...body, model: modelId, seed: body.seed ?? randomInt(0, 2 ** 47) }, model);
  const issues = checkTrialSpec(resolved, model);
  if (issues.length) throw new SpecError(400, issues.map((i) => ({ path: `spec.${i.path}`, message: i.message })));
  // The clinical ranges bound the effect a model can show: refuse a target the output would miss.
  const reach = effectReach(resolved, model ?? rulesModel(resolved.visits, resolved.arms));
  const target = resolved.targetEffect;
  if (target !== 'model' && (!(target > reach.min && target < reach.max) || Math.abs(reach.achieved - target) > EFFECT_TOLERANCE || reach.worstMiss > EFFECT_TOLERANCE)) {
    const message =
      `${target} mmHg cannot be reached: with ${resolved.method === 'rules' ? 'the rules model' : `model ${resolved.model}`} ` +
      `SystolicBP in 95–200 and DiastolicBP in 55–130 (moving with it) allow an effect between ${reach.min.toFixed(1)} and ${reach.max.toFixed(1)} mmHg at the last visit`;
    throw new SpecError(422, [{ path: 'spec.targetEffect', message }], message);
  }
  return { spec: storedTrialSpec(resolved), units: trialRowCount(resolved) };
}
