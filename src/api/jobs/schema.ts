/**
 * The POST /v1/jobs body (docs/API.md), as zod schemas that also document the API (OpenAPI). The
 * union is built from the registered kinds, so the document advertises exactly what this server
 * runs. Shape errors are 400s naming the field; each kind's semantics: its `normalize`.
 */
import { z } from '@hono/zod-openapi';
import { outputFormats } from '../../encoders/index.js';
import type { Compression, OutputFormat } from '../../encoders/types.js';
import type { KindRegistry } from '../../engine/kind.js';
import { JOB_STATUSES, type LoadSummary } from '../../engine/types.js';

/** Every kind the public contract names; one this server does not run is a 422, another name a 400. */
export const CONTRACT_KINDS = ['trial', 'relational', 'patients', 'emissions'] as const;

export const OutputSchema = z
  .object({
    format: z
      .enum(outputFormats().map((f) => f.format) as [OutputFormat, ...OutputFormat[]])
      .optional()
      .openapi({ description: 'default: the kind’s first format' }),
    compression: z
      .enum([...new Set(outputFormats().flatMap((f) => f.compressions))] as [Compression, ...Compression[]])
      .optional()
      .openapi({ description: outputFormats().map((f) => `${f.format}: ${f.compressions.join(', ')} (default ${f.defaultCompression})`).join('; ') }),
    postgres: z
      .object({
        schema: z
          .string()
          .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case Postgres identifier')
          .openapi({ description: 'schema to load the tables into; not public, information_schema, pg_*, shardflow*', example: 'exp_demo' }),
        target: z.string().min(1).max(63).optional().openapi({ description: 'an operator-configured target (SHARDFLOW_POSTGRES_TARGETS); default: the service’s own database' }),
        ifExists: z.enum(['error', 'replace']).optional().openapi({ description: 'a table of the job already in the schema: refuse the job (default) or drop and replace it' }),
      })
      .strict()
      .optional()
      .openapi({ description: 'bulk-load the job’s tables into Postgres (kinds that produce tables)' }),
    encryption: z
      .object({
        passphrase: z
          .string()
          .min(8)
          .max(1024)
          .optional()
          .openapi({ description: 'the key is derived with scrypt (N=2^17, r=8, p=1) and a random salt per job; never stored, logged or returned' }),
        key: z.string().optional().openapi({ description: 'a raw AES-256 key: the base64 of exactly 32 bytes (instead of a passphrase)' }),
      })
      .strict()
      .optional()
      .openapi({
        description:
          'AES-256-GCM encryption of every file of the job (docs/ENCRYPTION.md): exactly one of `passphrase` and `key`. The job then shows `{ algorithm, kdf, keyId }` here, never the secret; files are named `….enc`; decrypt with `shardflow decrypt`',
      }),
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

export function createJobSchema(kinds: KindRegistry) {
  const variants = kinds.list.map((k) =>
    z.object({ kind: z.literal(k.name), spec: k.spec, output: OutputSchema.optional(), partitioning: PartitioningSchema.optional() }).strict(),
  );
  if (variants.length === 0) throw new Error('no kinds registered');
  const first = kinds.list[0]!;
  return z
    .discriminatedUnion('kind', variants as unknown as [z.ZodObject, ...z.ZodObject[]])
    .openapi('CreateJob', { example: { kind: first.name, spec: first.example, output: { format: first.formats[0] } } });
}

/** One request example per registered kind (the kind's own example spec), for the OpenAPI document. */
export function createJobExamples(kinds: KindRegistry): Record<string, { summary: string; value: CreateJobBody }> {
  return Object.fromEntries(
    kinds.list.map((k) => [k.name, { summary: `a ${k.name} job`, value: { kind: k.name, spec: k.example, output: { format: k.formats[0] } } }]),
  );
}

/** The body with `output.encryption`'s passphrase and key replaced (what the idempotency hash sees: docs/ENCRYPTION.md). */
export function redactSecrets(body: CreateJobBody): CreateJobBody {
  const enc = body.output?.encryption;
  if (!enc) return body;
  const redacted = Object.fromEntries(Object.keys(enc).map((k) => [k, '[redacted]']));
  return { ...body, output: { ...body.output, encryption: redacted } };
}

export interface CreateJobBody {
  kind: string;
  spec: unknown;
  output?: z.infer<typeof OutputSchema>;
  partitioning?: z.infer<typeof PartitioningSchema>;
}

const ProgressSchema = z
  .object({
    unit: z.enum(['rows', 'activities', 'patients']),
    done: z.number(),
    total: z.number(),
    fraction: z.number(),
    ratePerSecond: z.number().nullable(),
    etaSeconds: z.number().nullable(),
    shards: z.object({ total: z.number(), completed: z.number(), running: z.number() }),
    phase: z
      .enum(['planning', 'running', 'finalizing', 'cancelling', 'done'])
      .nullable()
      .openapi({ description: 'finalizing: the manifest and a load’s keys and indexes (done = total, ETA unknown); null: the workflow did not answer' }),
    totals: z.record(z.string(), z.number()).optional().openapi({
      description:
        'The kind’s totals over the shards completed so far, as the workflow adds them up (emissions: `activities`, `activities.<type>`, `kgCo2e`, `kgCo2e.<type>`, `kgCo2e.scope2|scope3`, `kgCo2e.scope2.market`); absent for kinds that count none',
    }),
  })
  .openapi('JobProgress');

export function jobSchema(kinds: KindRegistry) {
  return z
    .object({
      id: z.string().openapi({ example: 'job-m3x0k2ab4q7r' }),
      kind: z.enum(kinds.names as [string, ...string[]]),
      status: z.enum(JOB_STATUSES as [string, ...string[]]).openapi({ description: '`cancelling`: cancel was asked for; running shards are stopping' }),
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
          summary: z
            .record(z.string(), z.unknown())
            .optional()
            .openapi({ description: 'what the kind reports about its output (trial: the quality summary; the full report is the file quality.json)' }),
          load: z
            .object({
              target: z.string().optional(),
              schema: z.string(),
              tables: z.array(z.object({ name: z.string(), rows: z.number() })),
              constraints: z.number(),
            })
            .optional()
            .openapi({ description: 'the Postgres load (output.postgres): target name, schema, rows per table, keys and indexes added' }),
        })
        .nullable()
        .optional(),
      error: z.object({ type: z.string(), message: z.string() }).nullable().optional(),
      links: z.record(z.string(), z.string()),
    })
    .openapi('Job');
}

export interface JobView {
  id: string;
  kind: string;
  status: (typeof JOB_STATUSES)[number];
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  spec: Record<string, unknown>;
  output: Record<string, unknown>;
  partitioning: Record<string, unknown>;
  estimate?: { rows: number; seconds: number };
  progress?: z.infer<typeof ProgressSchema>;
  result?: {
    rows: number;
    manifest: string;
    digest?: string;
    files: Array<{ name: string; rows: number; bytes: number; sha256: string }>;
    summary?: Record<string, unknown>;
    load?: LoadSummary;
  } | null;
  error?: { type: string; message: string } | null;
  links: Record<string, string>;
}

/** POST /v1/jobs/validate: what POST /v1/jobs would start, with nothing started or stored. */
export function validatedJobSchema(kinds: KindRegistry) {
  return z
    .object({
      kind: z.enum(kinds.names as [string, ...string[]]),
      spec: z.record(z.string(), z.unknown()).openapi({ description: 'the normalised spec: every default filled in, as the job would record it' }),
      output: z.record(z.string(), z.unknown()),
      partitioning: z.record(z.string(), z.unknown()),
      unit: z.enum(['rows', 'activities', 'patients']),
      estimate: z.object({ rows: z.number(), seconds: z.number() }),
      shards: z.number().int().openapi({ description: 'how many shards the job would be split into' }),
    })
    .openapi('ValidatedJob');
}
