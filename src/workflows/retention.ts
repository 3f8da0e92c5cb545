/**
 * Retention: one sweep of finished jobs older than `retentionDays`. Started hourly by the Temporal
 * schedule `shardflow-retention` (created by the API from SHARDFLOW_RETENTION_DAYS:
 * src/api/retention.ts), or by hand with `temporal schedule trigger --schedule-id shardflow-retention`.
 *
 * Deterministic: the cutoff comes from workflow time, so every retry of the activity sweeps up to
 * the same instant. The activity heartbeats its cursor: a retry continues where the last attempt
 * stopped (src/engine/retention.ts).
 */
import { proxyActivities } from '@temporalio/workflow';
import type { ExpireJobsResult, RetentionActivities } from '../engine/retention.js';

export interface RetentionInput {
  /** Jobs that finished more than this many days ago go (fractions allowed). */
  retentionDays: number;
  /** Jobs read per query (default: the activity's). */
  batchSize?: number;
}

const DAY_MS = 24 * 3600 * 1000;

const { expireJobs } = proxyActivities<RetentionActivities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10 },
});

export async function retentionWorkflow(input: RetentionInput): Promise<ExpireJobsResult> {
  const cutoff = new Date(Date.now() - input.retentionDays * DAY_MS).toISOString();
  return expireJobs({ cutoff, ...(input.batchSize !== undefined ? { batchSize: input.batchSize } : {}) });
}
