/**
 * The `trial` kind: clinical-trial vitals, one table (`vitals`) of 2 × nPerArm × visits rows,
 * sampled from a model fitted to pilot data (mvn, bootstrap) or from population norms (rules).
 */
import { siblingModule, SpecError, type Kind, type KindContext } from '../../engine/kind.js';
import { TRIAL_SCHEMA, trialQuality } from './generate.js';
import { TOTALS_PREFIX, TrialStats } from './quality.js';
import { createModelStore, UnknownModelError } from './models.js';
import { normalizeTrial } from './normalize.js';
import { TrialSpecSchema, type TrialSpecBody } from './schema.js';
import type { TrialPayload } from './shard.js';
import { resolveTrialSpec, TRIAL_TABLE, trialRowCount, type TrialSpec } from './spec.js';

const specOf = (input: { spec: Record<string, unknown> }) => resolveTrialSpec(input.spec as Partial<TrialSpec>);

/** The job's model; a model removed since the job was submitted fails the job (no retries). */
async function payloadOf(input: { tenantId: string; spec: Record<string, unknown> }, ctx: KindContext): Promise<TrialPayload> {
  const spec = specOf(input);
  try {
    return { spec, model: await createModelStore(ctx.sql).trialModel(input.tenantId, spec) };
  } catch (err) {
    if (err instanceof UnknownModelError) throw new SpecError(400, [{ path: 'spec.model', message: err.message }]);
    throw err;
  }
}

export const trial: Kind<TrialPayload> = {
  name: 'trial',
  unit: 'rows',
  spec: TrialSpecSchema,
  formats: ['parquet', 'csv', 'ndjson'],
  // `vitals` has no natural key (a subject has one row per visit and no visit id): loaded without keys.
  postgresLoad: true,
  sizePath: 'spec.nPerArm',
  example: { method: 'mvn', nPerArm: 125000, targetEffect: -5, seed: 123 },
  normalize: (spec, ctx) => normalizeTrial(spec as TrialSpecBody, ctx),
  async plan(input, ctx) {
    await payloadOf(input, ctx); // fail fast on a model that is gone
    const rows = trialRowCount(specOf(input));
    return {
      tables: [{ name: TRIAL_TABLE, rows, columns: TRIAL_SCHEMA.map((c) => ({ ...c })) }],
      segments: [{ table: TRIAL_TABLE, start: 0, end: rows, units: rows }],
    };
  },
  prepare: payloadOf,
  shardModule: siblingModule(import.meta.url, './shard'),
  privateTotalsPrefix: TOTALS_PREFIX,
  /** quality.json beside the data, from the shards' exact sums; its summary is the job result's. */
  async finalize(input, _plan, ctx) {
    const { spec, model } = await payloadOf(input, ctx);
    const stats = TrialStats.fromTotals(spec.visits.length, ctx.totals);
    const report = trialQuality(spec, model, stats);
    // quality.json, or quality.json.enc for an encrypted job.
    const file = await ctx.writeFile('quality.json', Buffer.from(JSON.stringify(report, null, 2) + '\n', 'utf8'));
    return { files: [file], result: { summary: { quality: file.name, ...report.summary } } };
  },
};
