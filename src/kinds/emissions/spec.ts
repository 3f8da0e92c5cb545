/** The `emissions` job spec (docs/API.md, Kind specs). */
import { z } from '@hono/zod-openapi';
import { ACTIVITY_TYPES, type ActivityType } from './reference.js';

export const PERIOD_RE = /^\d{4}-(0[1-9]|1[0-2])$/;

export const EmissionsSpecSchema = z
  .object({
    orgId: z.string().min(1).max(200).optional(),
    types: z.array(z.enum(ACTIVITY_TYPES)).min(1).optional(),
    from: z.string().regex(PERIOD_RE, 'a period YYYY-MM').optional(),
    to: z.string().regex(PERIOD_RE, 'a period YYYY-MM').optional(),
    recalculate: z.boolean().optional(),
    factorSet: z.string().min(1).max(64).optional(),
    batchSize: z.number().int().min(1).max(100_000).optional(),
  })
  .strict()
  .openapi('EmissionsSpec');

export type EmissionsSpecBody = z.infer<typeof EmissionsSpecSchema>;

/** The stored spec: factorSet and batchSize resolved. */
export interface EmissionsSpec {
  orgId?: string;
  types?: ActivityType[];
  from?: string;
  to?: string;
  recalculate: boolean;
  factorSet: string;
  batchSize: number;
}

/** 50,000: at 5,000 the per-batch work (the next-batch query, the counts read back, the commit and checkpoint) made a 1M-activity job 2.5 × the one-statement floor; at 50,000, 1.3 × (bench/emissions.ts, docs/BENCHMARKS.md). */
export const DEFAULT_BATCH_SIZE = 50_000;
