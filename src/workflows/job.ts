/**
 * The job workflow: plan → shards → finalize, the same for every kind of job.
 *
 * Deterministic only: no I/O, no clock, no randomness; activities are imported as types.
 * Control: signals `pause` / `resume`, Temporal's own cancel, query `progress`.
 * History stays bounded: after `plan.shardsPerRun` shards (or when Temporal suggests it) the
 * workflow drains its running shards and continues as new, carrying the compact state.
 */
import {
  ApplicationFailure,
  CancellationScope,
  ActivityCancellationType,
  condition,
  continueAsNew,
  ContinueAsNew,
  defineQuery,
  defineSignal,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  allHandlersFinished,
} from '@temporalio/workflow';
import type { JobActivities } from '../engine/activities.js';
import { shardAt } from '../engine/plan.js';
import { addToRanges, countRanges, inRanges } from '../engine/ranges.js';
import { rowsDoneKey, rowsTotalKey } from '../engine/search-attributes.js';
import type { CarriedState, JobInput, JobPlan, JobProgress, JobResultSummary } from '../engine/types.js';

export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const progressQuery = defineQuery<JobProgress>('progress');


/** Shards: heartbeat within seconds, so a killed worker's shard is retried elsewhere quickly. */
const shards = proxyActivities<Pick<JobActivities, 'runShard'>>({
  startToCloseTimeout: '24 hours',
  heartbeatTimeout: '10 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10 },
});

const steps = proxyActivities<Omit<JobActivities, 'runShard' | 'finalizeJob'>>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10 },
});

/**
 * Finalize: a Postgres load adds keys and indexes to whole tables, which may take hours; the
 * activity heartbeats while its statements run, so a dead worker is noticed within a minute.
 */
const finish = proxyActivities<Pick<JobActivities, 'finalizeJob'>>({
  startToCloseTimeout: '24 hours',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10 },
});

export async function jobWorkflow(input: JobInput, carried?: CarriedState): Promise<JobResultSummary> {
  let plan: JobPlan | undefined = carried?.plan;
  let paused = carried?.paused ?? false;
  const runs = carried?.runs ?? 0;
  let phase: JobProgress['phase'] = plan ? 'running' : 'planning';
  let failure: unknown;
  let completedThisRun = 0;
  const running = new Map<number, CancellationScope>();
  /** Shards stopped by a pause, to start again first. */
  const requeued = new Set<number>();
  let cursor = 0;

  setHandler(progressQuery, (): JobProgress => {
    const total = plan?.total ?? 0;
    const done = plan?.completedUnits ?? 0;
    return {
      unit: plan?.unit ?? 'rows',
      done,
      total,
      fraction: total > 0 ? done / total : 0,
      ratePerSecond: null,
      etaSeconds: null,
      paused,
      phase,
      shards: { total: plan?.shardCount ?? 0, completed: plan ? countRanges(plan.completed) : 0, running: running.size },
      runningShards: [...running.keys()].sort((a, b) => a - b),
      runs,
    };
  });
  setHandler(pauseSignal, async () => {
    if (paused || phase === 'finalizing' || phase === 'cancelling' || phase === 'done') return;
    paused = true;
    // Running shards close their current part, checkpoint and stop.
    for (const scope of running.values()) scope.cancel();
    await steps.recordStatus(input.jobId, 'paused');
  });
  setHandler(resumeSignal, async () => {
    if (!paused) return;
    paused = false;
    await steps.recordStatus(input.jobId, 'running');
  });

  const nextShard = (p: JobPlan): number | undefined => {
    for (const i of requeued) if (!running.has(i)) return i;
    while (cursor < p.shardCount && (running.has(cursor) || inRanges(p.completed, cursor))) cursor++;
    return cursor < p.shardCount ? cursor : undefined;
  };

  const startShard = (p: JobPlan, shardIndex: number): void => {
    requeued.delete(shardIndex);
    const scope = new CancellationScope();
    running.set(shardIndex, scope);
    scope
      .run(() => shards.runShard({ input, shard: shardAt(p, shardIndex) }))
      .then((result) => {
        p.completed = addToRanges(p.completed, shardIndex);
        p.completedUnits += result.units;
        for (const [k, v] of Object.entries(result.totals ?? {})) p.totals[k] = (p.totals[k] ?? 0) + v;
        completedThisRun++;
        upsertSearchAttributes([{ key: rowsDoneKey, value: p.completedUnits }]);
      })
      .catch((err) => {
        if (isCancellation(err)) requeued.add(shardIndex);
        else failure ??= err;
      })
      .finally(() => running.delete(shardIndex));
  };

  const drain = () => condition(() => running.size === 0);

  try {
    if (!plan) {
      plan = await steps.planJob(input);
      upsertSearchAttributes([
        { key: rowsTotalKey, value: plan.total },
        { key: rowsDoneKey, value: plan.completedUnits },
      ]);
      phase = 'running';
    }
    const p = plan;
    const maxParallel = Math.max(1, input.partitioning.maxParallelShards);
    const allDone = () => countRanges(p.completed) >= p.shardCount;
    const wantsNewRun = () => completedThisRun >= p.shardsPerRun || workflowInfo().continueAsNewSuggested;

    while (!allDone()) {
      if (failure !== undefined) {
        for (const scope of running.values()) scope.cancel();
        await drain();
        throw failure;
      }
      if (wantsNewRun()) {
        await drain();
        await condition(allHandlersFinished);
        if (failure === undefined && !allDone()) {
          return await continueAsNew<typeof jobWorkflow>(input, { plan: p, paused, runs: runs + 1 });
        }
        continue;
      }
      const next = paused || running.size >= maxParallel ? undefined : nextShard(p);
      if (next === undefined) {
        await condition(
          () =>
            failure !== undefined ||
            allDone() ||
            (wantsNewRun() && running.size === 0) ||
            (!paused && running.size < maxParallel && nextShard(p) !== undefined),
        );
        continue;
      }
      startShard(p, next);
    }
    await drain();
    phase = 'finalizing';
    const result = await finish.finalizeJob(input, p);
    phase = 'done';
    return result;
  } catch (err) {
    // continue-as-new unwinds by throwing: not a failure
    if (err instanceof ContinueAsNew) throw err;
    const cancelled = isCancellation(err);
    await CancellationScope.nonCancellable(async () => {
      if (cancelled) {
        phase = 'cancelling';
        await steps.recordStatus(input.jobId, 'cancelling');
      }
      await drain();
      if (cancelled) await steps.cleanupJob(input.jobId);
      // Only jobs with a load schedule this activity (older histories, which have none, replay as before).
      if (input.output.postgres) await steps.releaseLoad(input);
      await steps.recordStatus(input.jobId, cancelled ? 'cancelled' : 'failed', cancelled ? undefined : describe(err));
      await condition(allHandlersFinished);
      phase = 'done';
    });
    if (cancelled) throw err;
    throw ApplicationFailure.nonRetryable(describe(err).message, describe(err).type);
  }
}

function describe(err: unknown): { type: string; message: string } {
  let e: any = err;
  // Activity failures wrap the activity's own ApplicationFailure: report the root cause.
  while (e && e.cause) e = e.cause;
  return { type: String(e?.type ?? e?.name ?? 'Error'), message: String(e?.message ?? err) };
}
