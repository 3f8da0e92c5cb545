/** The shape of a trial spec (zod; documents the API). Semantics against the model: normalize.ts. */
import { z } from '@hono/zod-openapi';
import { TRIAL_LIMITS, TRIAL_METHODS } from './spec.js';

const name = z.string().min(1).max(TRIAL_LIMITS.nameMaxLength).regex(/^[^\u0000-\u001f\u007f]*$/, 'no control characters');

export const TrialSpecSchema = z
  .object({
    method: z.enum(TRIAL_METHODS),
    nPerArm: z.number().int().min(TRIAL_LIMITS.nPerArmMin).max(TRIAL_LIMITS.nPerArmMax),
    targetEffect: z
      .union([z.number().min(-TRIAL_LIMITS.targetEffectMaxAbs).max(TRIAL_LIMITS.targetEffectMaxAbs), z.literal('model')])
      .optional()
      .openapi({
        description:
          'mmHg: mean SystolicBP of arms[0] − arms[1] at the last visit, growing linearly from 0 at the first (default −5); or "model": every visit keeps the fitted model’s own arm differences (mvn, bootstrap)',
      }),
    seed: z.number().int().min(TRIAL_LIMITS.seedMin).max(TRIAL_LIMITS.seedMax).optional(),
    model: name.optional().openapi({ description: 'pilot-vitals (built in), or a model id or name from POST /v1/models; not for rules' }),
    visits: z
      .array(name)
      .min(TRIAL_LIMITS.visitsMin)
      .max(TRIAL_LIMITS.visitsMax)
      .refine((v) => new Set(v).size === v.length, 'visit names must be distinct')
      .optional()
      .openapi({ uniqueItems: true }),
    arms: z
      .tuple([name, name])
      .refine(([a, b]) => a !== b, 'the two arms must differ')
      .optional()
      .openapi({ description: 'two arm names, active first', minItems: 2, maxItems: 2, uniqueItems: true }),
    jitter: z.number().min(TRIAL_LIMITS.jitterMin).max(TRIAL_LIMITS.jitterMax).optional().openapi({ description: 'bootstrap only' }),
  })
  .strict()
  .openapi('TrialSpec');

export type TrialSpecBody = z.infer<typeof TrialSpecSchema>;
