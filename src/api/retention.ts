/**
 * The retention schedule, kept in step with SHARDFLOW_RETENTION_DAYS by the API at start
 * (src/api/main.ts): set, the Temporal schedule `shardflow-retention` is created, or updated when
 * it exists (its spec, action and policies; a pause set by an operator stays); unset, it is
 * deleted, so turning retention off takes effect on the next start. Idempotent, so every API
 * replica may do it (they should all have the same value: the last one to start wins).
 *
 * The schedule starts `retentionWorkflow` (src/workflows/retention.ts) every hour on the workers'
 * task queue; runs never overlap (a run still going when the next is due makes that one skipped)
 * and a run missed while Temporal was down is not caught up on later than a minute after its time.
 *
 *   temporal schedule describe --schedule-id shardflow-retention
 *   temporal schedule trigger  --schedule-id shardflow-retention
 */
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions, type ScheduleOptionsStartWorkflowAction } from '@temporalio/client';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { retentionWorkflow } from '../workflows/retention.js';
import { withTemporalDeadline } from './temporal.js';

export const RETENTION_SCHEDULE_ID = 'shardflow-retention';
/** How often the sweep runs (fixed; trigger it by hand for an extra run). */
export const RETENTION_EVERY = '1 hour';
/** A run more than this late (Temporal was down at its time) is skipped, not caught up on. */
export const RETENTION_CATCHUP_WINDOW = '1 minute';

export type RetentionScheduleChange = 'created' | 'updated' | 'deleted' | 'absent';

type RetentionAction = ScheduleOptionsStartWorkflowAction<typeof retentionWorkflow>;

/** The schedule for `days` of retention on `taskQueue`. */
export function retentionScheduleOptions(days: number, taskQueue: string): ScheduleOptions<RetentionAction> {
  return {
    scheduleId: RETENTION_SCHEDULE_ID,
    spec: { intervals: [{ every: RETENTION_EVERY }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'retentionWorkflow',
      workflowId: RETENTION_SCHEDULE_ID,
      taskQueue,
      args: [{ retentionDays: days }],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: RETENTION_CATCHUP_WINDOW },
  };
}

/** Creates, updates or deletes the schedule as `config.retention.days` says; what it did. */
export async function syncRetentionSchedule(client: Client, config: Pick<Config, 'retention' | 'temporal'>): Promise<RetentionScheduleChange> {
  const handle = client.schedule.getHandle(RETENTION_SCHEDULE_ID);
  const days = config.retention.days;
  if (days === undefined) {
    try {
      await withTemporalDeadline(client, () => handle.delete());
      return 'deleted';
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return 'absent';
      throw err;
    }
  }
  const options = retentionScheduleOptions(days, config.temporal.taskQueue);
  try {
    await withTemporalDeadline(client, () => client.schedule.create(options));
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await withTemporalDeadline(client, () =>
    handle.update<typeof retentionWorkflow>((previous) => ({
      spec: options.spec,
      action: options.action,
      policies: options.policies,
      state: { paused: previous.state.paused, ...(previous.state.note !== undefined ? { note: previous.state.note } : {}) },
    })),
  );
  return 'updated';
}

/**
 * At API start: sync, and log what was done. A failure is logged and does not stop the API (the
 * next start tries again); jobs then stay until it succeeds.
 */
export async function syncRetentionScheduleAtStart(client: Client, config: Pick<Config, 'retention' | 'temporal'>, logger: Logger): Promise<void> {
  try {
    const change = await syncRetentionSchedule(client, config);
    const days = config.retention.days;
    if (days === undefined) {
      if (change === 'deleted') logger.info({ schedule: RETENTION_SCHEDULE_ID }, 'retention off (SHARDFLOW_RETENTION_DAYS unset): schedule deleted; jobs are kept until deleted');
    } else {
      logger.info(
        { schedule: RETENTION_SCHEDULE_ID, change, retentionDays: days, every: RETENTION_EVERY },
        `retention: jobs that finished more than ${days} day(s) ago are removed every hour (schedule ${RETENTION_SCHEDULE_ID} ${change})`,
      );
    }
  } catch (err) {
    logger.error({ err: err instanceof Error ? err.message : String(err), schedule: RETENTION_SCHEDULE_ID }, 'could not create, update or delete the retention schedule (SHARDFLOW_RETENTION_DAYS); the next start tries again');
  }
}
