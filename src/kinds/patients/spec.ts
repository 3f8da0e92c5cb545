/** The shape of a `patients` job spec (zod; documents the API) and the stored, resolved spec. */
import { z } from '@hono/zod-openapi';
import type { ResolvedScenario } from './scenario.js';

export const PATIENTS_LIMITS = { countMax: 1e9, seedMax: 2 ** 47 } as const;

export const PatientsSpecSchema = z
  .object({
    count: z.number().int().min(1).max(PATIENTS_LIMITS.countMax).optional().openapi({ description: "patients to generate (default: the scenario's casualties, background plus events)" }),
    seed: z.number().int().min(0).max(PATIENTS_LIMITS.seedMax).optional(),
    scenario: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .openapi({ description: 'a built-in preset name (default "default"; GET /v1/scenarios/presets) or the id of a stored scenario (POST /v1/scenarios)' }),
    scenarioVersion: z.number().int().min(1).optional().openapi({ description: 'a stored scenario’s version (default: its latest); not for a preset' }),
  })
  .strict()
  .openapi('PatientsSpec');

export type PatientsSpecBody = z.infer<typeof PatientsSpecSchema>;

/** The spec stored with the job: the scenario resolved, so the job runs again to the same bytes whatever happens to the stored scenario. */
export interface PatientsSpec {
  count: number;
  seed: number;
  /** What was asked for: a preset name or a scenario id. */
  scenario: string;
  /** The stored scenario's version the job used (absent for a preset). */
  scenarioVersion?: number;
  resolvedScenario: ResolvedScenario;
}
