/**
 * From a well-formed POST body to the workflow's input: defaults, the model's visit and arm names,
 * the shard grid, and the key's quotas. Every refusal names the field; nothing is started.
 */
import { randomInt } from 'node:crypto';
import { effectReach } from '../../kinds/trial/generate.js';
import { resolveTrialSpec } from '../../kinds/trial/spec.js';
import type { ModelStore } from '../../kinds/trial/models.js';
import type { JobInput, JobOutput } from '../../engine/types.js';
import { ProblemError, type FieldError } from '../middleware/problem.js';
import type { Tenant } from '../types.js';
import { MAX_SHARDS, SHARD_ROWS_MAX, SHARD_ROWS_MIN, type CreateJobBody } from './schema.js';

/** How far (mmHg) the expected effect may fall from the target before the spec is refused. */
const EFFECT_TOLERANCE = 0.1;

export interface NormalizedJob {
  input: Omit<JobInput, 'jobId'>;
  rows: number;
}

/**
 * Shards sized to take a few seconds each, and enough of them to keep every thread busy; never so
 * small that Temporal round trips dominate (docs/BENCHMARKS.md: a 1M-row job runs in 0.62 s as
 * 2 shards of 500K, 1.0 s as 16 of 62.5K).
 */
export function defaultShardRows(rows: number): number {
  return Math.min(4_000_000, Math.max(500_000, Math.ceil(rows / 16)));
}

function outputFor(kind: CreateJobBody['kind'], o: CreateJobBody['output']): JobOutput {
  const format = o?.format ?? 'parquet';
  if (format === 'fhir' && kind !== 'patients') throw bad('output.format', 'fhir is for patients jobs');
  const compression = o?.compression ?? (format === 'parquet' ? 'zstd' : 'none');
  if (format === 'parquet' && compression === 'gzip') {
    // supported by the Parquet spec; allowed
  } else if (format !== 'parquet' && (compression === 'zstd' || compression === 'snappy')) {
    throw bad('output.compression', `${format} files can be gzip or none`);
  }
  if (o?.postgres && kind !== 'relational') {
    throw unprocessable('output.postgres', `a Postgres load is not available for ${kind} jobs`);
  }
  return { format: format as JobOutput['format'], compression, ...(o?.postgres ? { postgres: o.postgres } : {}) };
}

export async function normalizeJob(body: CreateJobBody, tenant: Tenant, models: ModelStore): Promise<NormalizedJob> {
  if (body.kind !== 'trial') {
    throw unprocessable('kind', `${body.kind} jobs are not available on this server yet`);
  }
  const spec = body.spec;
  const errors: FieldError[] = [];
  let names: { visits: string[]; arms: string[] } | undefined;
  if (spec.method !== 'rules') {
    names = await models.groups(tenant.tenantId, spec.model);
    if (!names) throw bad('spec.model', `unknown model "${spec.model}"; see GET /v1/models`);
    spec.visits?.forEach((v, i) => {
      if (!names!.visits.includes(v)) errors.push({ path: `spec.visits.${i}`, message: `"${v}" is not a visit of model ${spec.model} (${names!.visits.join(', ')})` });
    });
    spec.arms?.forEach((a, i) => {
      if (!names!.arms.includes(a)) errors.push({ path: `spec.arms.${i}`, message: `"${a}" is not an arm of model ${spec.model} (${names!.arms.join(', ')})` });
    });
    if (errors.length) throw ProblemError.badRequest('the spec does not fit its model', errors);
  }
  // The seed is always recorded, so the same job can be run again to the same bytes.
  const resolved = resolveTrialSpec({ ...spec, seed: spec.seed ?? randomInt(0, 2 ** 47) }, names);
  // The clinical SBP range bounds the effect a model can show: refuse a target the output would miss.
  const reach = effectReach(resolved, await models.trialModel(tenant.tenantId, resolved));
  if (Math.abs(reach.achieved - resolved.targetEffect) > EFFECT_TOLERANCE) {
    throw unprocessable(
      'spec.targetEffect',
      `${resolved.targetEffect} mmHg cannot be reached: with ${resolved.method === 'rules' ? 'the rules model' : `model ${resolved.model}`} ` +
        `SystolicBP in 95–200 allows an effect between ${reach.min.toFixed(1)} and ${reach.max.toFixed(1)} mmHg at the last visit`,
    );
  }
  const rows = 2 * resolved.nPerArm * resolved.visits.length;
  if (!Number.isSafeInteger(rows)) throw bad('spec.nPerArm', 'too many rows');

  const output = outputFor(body.kind, body.output);
  const shardRows = body.partitioning?.shardRows ?? defaultShardRows(rows);
  if (Math.ceil(rows / shardRows) > MAX_SHARDS) {
    throw bad('partitioning.shardRows', `${rows} rows in shards of ${shardRows} makes more than ${MAX_SHARDS} shards`);
  }
  if (shardRows < SHARD_ROWS_MIN || shardRows > SHARD_ROWS_MAX) throw bad('partitioning.shardRows', 'out of range');
  if (tenant.maxRows !== null && rows > tenant.maxRows) {
    throw unprocessable('spec.nPerArm', `the job has ${rows} rows; this API key allows at most ${tenant.maxRows} per job`);
  }
  return {
    rows,
    input: {
      tenantId: tenant.tenantId,
      kind: body.kind,
      spec: resolved as unknown as Record<string, unknown>,
      output,
      partitioning: { shardRows, maxParallelShards: body.partitioning?.maxParallelShards ?? 4 },
    },
  };
}

function bad(path: string, message: string): ProblemError {
  return ProblemError.badRequest(`invalid ${path}`, [{ path, message }]);
}

function unprocessable(path: string, message: string): ProblemError {
  return ProblemError.unprocessable(message, [{ path, message }]);
}
