/**
 * The event-driven calculator's activity (docs/EMISSIONS.md, "Event-driven mode"): the pending
 * activities of a tenant (no result for the default factor set) with ids above `fromId`, calculated with the kind's own batch
 * SQL (calculate.ts), keyset batch by batch, each batch one transaction with
 * INSERT … ON CONFLICT (activity_id, factor_set) DO NOTHING. The cursor is heartbeated: a retry
 * resumes after it, and a batch committed but not heartbeated is done again with no effect. A job
 * calculating the same activities at the same time is harmless for the same reason (one row per
 * activity and set, whoever commits first).
 */
import { Context } from '@temporalio/activity';
import type postgres from 'postgres';
import { calculateBatch, nextBatchEnd, refreshStaleStatistics } from './calculate.js';
import { resolveFactorSet } from './factors.js';
import { DEFAULT_BATCH_SIZE } from './spec.js';

export interface CalculatePendingInput {
  tenantId: string;
  /** Written into emission_results.run_id (the calculator's workflow id). */
  runId: string;
  /** Only activities with ids above this (the ingests' `idsAbove`; 0 = all of the tenant's). */
  fromId?: number;
  batchSize?: number;
}

export interface CalculatePendingResult {
  /** Activities this call calculated (the rows it inserted). */
  calculated: number;
  /** Activities of the scanned range no factor matched (they stay pending). */
  unmatched: number;
  kgCo2e: number;
  batches: number;
}

const END = Number.MAX_SAFE_INTEGER;

export function createEmissionsActivities(deps: { sql?: postgres.Sql }) {
  async function calculatePendingEmissions(input: CalculatePendingInput): Promise<CalculatePendingResult> {
    const sql = deps.sql;
    if (!sql) throw new Error('this worker has no database (DATABASE_URL): the emissions calculator cannot run here');
    const ctx = Context.current();
    const factorSet = await resolveFactorSet(sql, input.tenantId, undefined);
    if (!factorSet) throw new Error('no default factor set');
    const scope = { tenantId: input.tenantId, factorSet };
    await refreshStaleStatistics(sql);
    const resumed = ctx.info.heartbeatDetails as (CalculatePendingResult & { cursor: number }) | undefined;
    let cursor = resumed?.cursor ?? (input.fromId ?? 0) + 1;
    const out: CalculatePendingResult = { calculated: resumed?.calculated ?? 0, unmatched: resumed?.unmatched ?? 0, kgCo2e: resumed?.kgCo2e ?? 0, batches: resumed?.batches ?? 0 };
    for (;;) {
      // Only pending ones: nextBatchEnd counts every activity of the tenant after the cursor, so the
      // first pending id is found first (the same NOT EXISTS as the batch's).
      const [first] = await sql<{ id: string | null }[]>`
        select min(a.id)::text as id from activities a where a.tenant_id = ${input.tenantId} and a.id >= ${cursor}
          and not exists (select 1 from emission_results r where r.activity_id = a.id and r.factor_set = ${factorSet})`;
      if (first?.id == null) break;
      const lo = Number(first.id);
      const hi = await nextBatchEnd(sql, scope, lo, END, input.batchSize ?? DEFAULT_BATCH_SIZE);
      if (hi === null) break;
      const b = await calculateBatch(sql, scope, input.runId, lo, hi);
      out.calculated += b.totals.activities ?? 0;
      out.unmatched += b.totals.unmatched ?? 0;
      out.kgCo2e += b.totals.kgCo2e ?? 0;
      out.batches++;
      cursor = hi;
      ctx.heartbeat({ ...out, cursor });
    }
    return out;
  }
  return { calculatePendingEmissions };
}

export type EmissionsActivities = ReturnType<typeof createEmissionsActivities>;
