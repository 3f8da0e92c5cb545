/**
 * The POST /v1/jobs body (API.md), as zod schemas that also document the API (OpenAPI).
 * Shape errors are 400s naming the field; semantic checks (model, visits, quotas) live in validate.ts.
 */
import { z } from '@hono/zod-openapi';
import { TRIAL_LIMITS, TRIAL_METHODS } from '../../kinds/trial/spec.js';

const name = z.string().min(1).max(TRIAL_LIMITS.nameMaxLength);

export const TrialSpecSchema = z
  .object({
    method: z.enum(TRIAL_METHODS).default('mvn'),
    nPerArm: z.number().int().min(TRIAL_LIMITS.nPerArmMin).max(TRIAL_LIMITS.nPerArmMax),
    targetEffect: z.number().min(-TRIAL_LIMITS.targetEffectMaxAbs).max(TRIAL_LIMITS.targetEffectMaxAbs).default(-5),
    seed: z.number().int().min(TRIAL_LIMITS.seedMin).max(TRIAL_LIMITS.seedMax).optional(),
    model: name.default('pilot-vitals'),
    visits: z
      .array(name)
      .min(TRIAL_LIMITS.visitsMin)
      .max(TRIAL_LIMITS.visitsMax)
      .refine((v) => new Set(v).size === v.length, 'visit names must be distinct')
      .optional(),
    arms: z
      .tuple([name, name])
      .refine(([a, b]) => a !== b, 'the two arms must differ')
      .optional(),
    jitter: z.number().min(TRIAL_LIMITS.jitterMin).max(TRIAL_LIMITS.jitterMax).optional(),
  })
  .strict()
  .openapi('TrialSpec');

export const OutputSchema = z
  .object({
    format: z.enum(['parquet', 'csv', 'ndjson', 'fhir']).default('parquet'),
    compression: z.enum(['zstd', 'snappy', 'gzip', 'none']).optional(),
    postgres: z.object({ schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case Postgres identifier') }).strict().optional(),
  })
  .strict()
  .openapi('JobOutput');

export const SHARD_ROWS_MIN = 10;
export const SHARD_ROWS_MAX = 50_000_000;
export const MAX_SHARDS = 200_000;

export const PartitioningSchema = z
  .object({
    shardRows: z.number().int().min(SHARD_ROWS_MIN).max(SHARD_ROWS_MAX).optional(),
    maxParallelShards: z.number().int().min(1).max(64).default(4),
  })
  .strict()
  .openapi('JobPartitioning');

const common = {
  output: OutputSchema.optional(),
  partitioning: PartitioningSchema.optional(),
};

export const CreateJobSchema = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('trial'), spec: TrialSpecSchema, ...common }).strict(),
    z.object({ kind: z.literal('relational'), spec: z.record(z.string(), z.unknown()), ...common }).strict(),
    z.object({ kind: z.literal('patients'), spec: z.record(z.string(), z.unknown()), ...common }).strict(),
    z.object({ kind: z.literal('emissions'), spec: z.record(z.string(), z.unknown()), ...common }).strict(),
  ])
  .openapi('CreateJob');

export type CreateJobBody = z.infer<typeof CreateJobSchema>;

const ProgressSchema = z
  .object({
    unit: z.enum(['rows', 'activities', 'patients']),
    done: z.number(),
    total: z.number(),
    fraction: z.number(),
    ratePerSecond: z.number().nullable(),
    etaSeconds: z.number().nullable(),
    shards: z.object({ total: z.number(), completed: z.number(), running: z.number() }),
  })
  .openapi('JobProgress');

export const JobSchema = z
  .object({
    id: z.string().openapi({ example: 'job-m3x0k2ab4q7r' }),
    kind: z.enum(['trial', 'relational', 'patients', 'emissions']),
    status: z.enum(['running', 'paused', 'completed', 'failed', 'cancelled']),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    spec: z.record(z.string(), z.unknown()),
    output: z.record(z.string(), z.unknown()),
    partitioning: z.record(z.string(), z.unknown()),
    estimate: z.object({ rows: z.number(), seconds: z.number() }).optional(),
    progress: ProgressSchema.optional(),
    result: z
      .object({
        rows: z.number(),
        manifest: z.string(),
        digest: z.string().optional(),
        files: z.array(z.object({ name: z.string(), rows: z.number(), bytes: z.number(), sha256: z.string() })),
      })
      .nullable()
      .optional(),
    error: z.object({ type: z.string(), message: z.string() }).nullable().optional(),
    links: z.record(z.string(), z.string()),
  })
  .openapi('Job');

export type JobView = z.infer<typeof JobSchema>;
