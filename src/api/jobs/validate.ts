/**
 * From a well-formed POST body to the workflow's input, for any kind: the kind's own semantics
 * (`normalize`), then output, the shard grid and the key's quotas. Every refusal names the field;
 * nothing is started.
 */
import { openClient, type PostgresTargets } from '../../destinations/index.js';
import { encoderFor } from '../../encoders/index.js';
import { SpecError, type Kind, type KindContext, type KindRegistry } from '../../engine/kind.js';
import { existingTables, loadClaims, reservedSchemaReason } from '../../engine/load.js';
import type { EncryptionMarker, JobInput, JobOutput } from '../../engine/types.js';
import { ProblemError } from '../middleware/problem.js';
import type { Tenant } from '../types.js';
import { MAX_SHARDS, SHARD_ROWS_MAX, SHARD_ROWS_MIN, type CreateJobBody } from './schema.js';
import type postgres from 'postgres';

export interface NormalizedJob {
  input: Omit<JobInput, 'jobId'>;
  /** The job's size in its kind's unit. */
  units: number;
  /**
   * `output.encryption`'s secret, for create() to derive the job's key from: kept out of `input`
   * (which is stored, answered and given to Temporal), whose `output.encryption` is only a marker.
   */
  secret?: { passphrase: string } | { key: Buffer };
}

export interface NormalizeOptions {
  /** SHARDFLOW_SECRET_KEY: without it, a job asking for encryption is refused. */
  secretKey?: Uint8Array;
}

/** The base64 (standard or URL-safe, padding optional) of exactly 32 bytes, or undefined. */
function rawKeyOf(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) return undefined;
  const key = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return key.length === 32 ? key : undefined;
}

/** `output.encryption`: exactly one of passphrase and key, a server that can seal keys. The marker and the secret. */
function encryptionFor(o: NonNullable<CreateJobBody['output']>['encryption'], opts: NormalizeOptions): { marker?: EncryptionMarker; secret?: NormalizedJob['secret'] } {
  if (!o) return {};
  const given = (['passphrase', 'key'] as const).filter((k) => o[k] !== undefined);
  if (given.length !== 1) throw bad('output.encryption', given.length ? 'give a passphrase or a key, not both' : 'give a passphrase or a key');
  let secret: NonNullable<NormalizedJob['secret']>;
  if (o.key !== undefined) {
    const key = rawKeyOf(o.key);
    if (!key) throw bad('output.encryption.key', 'must be the base64 of exactly 32 bytes (an AES-256 key), e.g. from `openssl rand -base64 32`');
    secret = { key };
  } else secret = { passphrase: o.passphrase! };
  if (!opts.secretKey) throw unprocessable('output.encryption', 'this server cannot encrypt job files: SHARDFLOW_SECRET_KEY is not configured');
  return { marker: { algorithm: 'AES-256-GCM', kdf: 'key' in secret ? 'none' : 'scrypt' }, secret };
}


/**
 * Shards sized to take a few seconds each, and enough of them to keep every thread busy; never so
 * small that Temporal round trips dominate (docs/BENCHMARKS.md). Sized in rows' worth of work: a
 * kind whose unit costs `unitCost` rows gets shards of that many times fewer units.
 */
export function defaultShardRows(units: number, unitCost = 1): number {
  const rows = Math.min(4_000_000, Math.max(500_000, Math.ceil((units * unitCost) / 16)));
  return Math.max(1, Math.ceil(rows / unitCost));
}

function outputFor(kind: Kind, o: CreateJobBody['output'], encryption?: EncryptionMarker): JobOutput {
  const format = o?.format ?? kind.formats[0]!;
  if (!(kind.formats as readonly string[]).includes(format)) throw bad('output.format', `${kind.name} jobs write ${kind.formats.join(', ')}`);
  const allowed = encoderFor(format).compressions;
  const compression = o?.compression ?? allowed[0]!;
  if (!allowed.includes(compression)) throw bad('output.compression', `${format} files can be ${allowed.join(' or ')}`);
  if (o?.postgres && !kind.postgresLoad) throw unprocessable('output.postgres', `a Postgres load is not available for ${kind.name} jobs`);
  return { format: format as JobOutput['format'], compression, ...(o?.postgres ? { postgres: o.postgres } : {}), ...(encryption ? { encryption } : {}) };
}

/** The schemas the service's own tables live in (never a load's schema), read once per process. */
let serviceSchemas: Promise<string[]> | undefined;

/**
 * `output.postgres` against the target: the schema is not reserved, the target is configured and
 * no table of the job is being loaded by another job, nor there already (unless `ifExists: "replace"`).
 * The table names are the kind's `tableNames`, else its plan's. Only reads the target: nothing is created.
 */
async function checkLoad(kind: Kind, input: Omit<JobInput, 'jobId'>, ctx: KindContext & { sql: postgres.Sql }, targets: PostgresTargets): Promise<void> {
  const out = input.output.postgres!;
  serviceSchemas ??= ctx.sql<{ s: string }[]>`select current_schema() as s`.then((r) => r.map((x) => x.s)).catch((err) => {
    serviceSchemas = undefined;
    throw err;
  });
  const reserved = reservedSchemaReason(out.schema, await serviceSchemas);
  if (reserved) throw unprocessable('output.postgres.schema', `${reserved}: choose another schema`);
  if (!targets.has(out.target)) {
    const known = targets.names.length ? `configured: ${targets.names.join(', ')}` : 'none is configured';
    throw unprocessable('output.postgres.target', `no Postgres target named ${JSON.stringify(out.target)} (${known})`);
  }
  let names: string[];
  try {
    names = kind.tableNames ? kind.tableNames(input.spec) : (await kind.plan({ ...input, jobId: 'job-validate' }, ctx)).tables.map((t) => t.name);
  } catch (err) {
    if (err instanceof SpecError) throw new ProblemError({ status: err.status, detail: err.message, errors: err.errors });
    throw err;
  }
  // The default target is the API's own pool; a named one gets a connection for this check only.
  const named = out.target === undefined ? undefined : openClient(targets.url(out.target), 1, 'shardflow-api-check');
  try {
    const sql = named ?? ctx.sql;
    // A table another job is loading is refused even with replace (the plan would refuse it anyway).
    const busy = (await loadClaims(sql, out.schema, names)).filter((c) => c.status === 'loading');
    if (busy.length) {
      const list = busy.map((c) => `${out.schema}.${c.table} (job ${c.jobId})`).join(', ');
      throw unprocessable('output.postgres.schema', `${list} ${busy.length === 1 ? 'is' : 'are'} being loaded by another job; cancel or resume that job first, or choose another schema`);
    }
    if (out.ifExists === 'replace') return;
    const found = await existingTables(sql, out.schema, names);
    if (found.length) {
      const list = found.map((t) => `${out.schema}.${t}`).join(', ');
      throw unprocessable('output.postgres.schema', `${list} already exist${found.length === 1 ? 's' : ''}; set output.postgres.ifExists to "replace" to drop and reload, or choose another schema`);
    }
  } finally {
    await named?.end({ timeout: 5 });
  }
}

export async function normalizeJob(
  body: CreateJobBody,
  tenant: Tenant,
  kinds: KindRegistry,
  sql: postgres.Sql,
  targets?: PostgresTargets,
  opts: NormalizeOptions = {},
): Promise<NormalizedJob> {
  const kind = kinds.get(body.kind);
  const { marker, secret } = encryptionFor(body.output?.encryption, opts);
  const output = outputFor(kind, body.output, marker);
  let normalized;
  try {
    normalized = await kind.normalize(body.spec, { tenantId: tenant.tenantId, sql }, output);
  } catch (err) {
    if (err instanceof SpecError) throw new ProblemError({ status: err.status, detail: err.message, errors: err.errors });
    throw err;
  }
  const { spec, units } = normalized;
  if (!Number.isSafeInteger(units)) throw bad('spec', 'the job is too large');
  const shardRows = body.partitioning?.shardRows ?? defaultShardRows(units, kind.unitCost);
  if (shardRows < SHARD_ROWS_MIN || shardRows > SHARD_ROWS_MAX) throw bad('partitioning.shardRows', 'out of range');
  if (Math.ceil(units / shardRows) > MAX_SHARDS) {
    throw bad('partitioning.shardRows', `${units} ${kind.unit} in shards of ${shardRows} makes more than ${MAX_SHARDS} shards`);
  }
  if (tenant.maxRows !== null && units > tenant.maxRows) {
    throw unprocessable(kind.sizePath, `the job has ${units} ${kind.unit}; this API key allows at most ${tenant.maxRows} per job`);
  }
  const input = {
    tenantId: tenant.tenantId,
    kind: kind.name,
    spec,
    output,
    partitioning: { shardRows, maxParallelShards: body.partitioning?.maxParallelShards ?? 4 },
  };
  if (output.postgres) {
    if (!targets) throw unprocessable('output.postgres.target', 'this server has no Postgres load targets');
    await checkLoad(kind, input, { tenantId: tenant.tenantId, sql }, targets);
  }
  return { units, input, ...(secret ? { secret } : {}) };
}

function bad(path: string, message: string): ProblemError {
  return ProblemError.badRequest(`invalid ${path}`, [{ path, message }]);
}

function unprocessable(path: string, message: string): ProblemError {
  return ProblemError.unprocessable(message, [{ path, message }]);
}
