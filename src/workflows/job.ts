/**
 * The job workflow: plan → shards → finalize, the same for every kind of job.
 *
 * Deterministic only: no I/O, no clock, no randomness; activities are imported as types.
 * Control: signals `pause` / `resume`, Temporal's own cancel, query `progress`.
 * History stays bounded: after `plan.shardsPerRun` shards (or when Temporal suggests it) the
 * workflow drains its running shards and continues as new, carrying the compact state.
 *
 * Bookkeeping activities (plan, finalize, status records, cleanup) outlast a Postgres outage:
 * no attempt cap, backoff capped at `maxIntervalSeconds`, bounded by a schedule-to-close of
 * `budgetSeconds` (default 6 h; finalize gets that on top of its own 24 h). The activities
 * themselves give up after BOOKKEEPING_MAX_ATTEMPTS on any error that is not an outage
 * (src/engine/activities.ts). Activity options are not part of Temporal's determinism check:
 * a running workflow schedules its next activities with these options, no patch needed.
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
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  allHandlersFinished,
} from '@temporalio/workflow';
import type { JobActivities } from '../engine/activities.js';
import { shardAt } from '../engine/plan.js';
import { addToRanges, countRanges, inRanges } from '../engine/ranges.js';
import { rowsDoneKey, rowsTotalKey } from '../engine/search-attributes.js';
import type { BookkeepingRetry, CarriedState, JobInput, JobPlan, JobProgress, JobResultSummary, ShardRef } from '../engine/types.js';

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

/** How long bookkeeping retries an unreachable Postgres by default: an operator's working session. */
export const DEFAULT_BOOKKEEPING_RETRY: BookkeepingRetry = { budgetSeconds: 6 * 3600, maxIntervalSeconds: 60 };
/** One attempt of finalize may run this long (keys and indexes on whole tables). */
const FINALIZE_ATTEMPT_SECONDS = 24 * 3600;

/** The bookkeeping proxies of one job (their options come with its input). */
function bookkeeping(retry: BookkeepingRetry = DEFAULT_BOOKKEEPING_RETRY) {
  const policy = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: `${retry.maxIntervalSeconds} seconds` } as const;
  return {
    steps: proxyActivities<Omit<JobActivities, 'runShard' | 'finalizeJob'>>({
      startToCloseTimeout: '10 minutes',
      scheduleToCloseTimeout: `${retry.budgetSeconds} seconds`,
      retry: policy,
    }),
    /**
     * Finalize: a Postgres load adds keys and indexes to whole tables, which may take hours; the
     * activity heartbeats while its statements run, so a dead worker is noticed within a minute.
     */
    finish: proxyActivities<Pick<JobActivities, 'finalizeJob'>>({
      startToCloseTimeout: `${FINALIZE_ATTEMPT_SECONDS} seconds`,
      scheduleToCloseTimeout: `${FINALIZE_ATTEMPT_SECONDS + retry.budgetSeconds} seconds`,
      heartbeatTimeout: '1 minute',
      retry: policy,
    }),
  };
}

/** 1234567 → "1,234,567" (no Intl: the same text on every worker). */
const grouped = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** The Web UI's label of a shard activity: its index and index range. */
export function shardSummary(ref: ShardRef, unit: string): string {
  return `shard ${ref.index}: ${ref.table} ${unit} ${grouped(ref.start)}–${grouped(ref.end - 1)}`;
}

/** The Web UI's "current details" of a job (markdown). */
function currentDetails(p: JobPlan | undefined, phase: JobProgress['phase'], paused: boolean, running: number): string {
  if (!p) return `**${phase}**`;
  const done = countRanges(p.completed);
  return `**${paused ? 'paused' : phase}** · ${grouped(p.completedUnits)} / ${grouped(p.total)} ${p.unit} · shards ${done}/${p.shardCount} done, ${running} running`;
}

export async function jobWorkflow(input: JobInput, carried?: CarriedState): Promise<JobResultSummary> {
  const { steps, finish } = bookkeeping(input.bookkeepingRetry);
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
      ...(plan && Object.keys(plan.totals).length ? { totals: { ...plan.totals } } : {}),
    };
  });
  setHandler(pauseSignal, async () => {
    if (paused || phase === 'finalizing' || phase === 'cancelling' || phase === 'done') return;
    paused = true;
    setCurrentDetails(currentDetails(plan, phase, paused, running.size));
    // Running shards close their current part, checkpoint and stop.
    for (const scope of running.values()) scope.cancel();
    await steps.recordStatus(input.jobId, 'paused');
  });
  setHandler(resumeSignal, async () => {
    if (!paused) return;
    paused = false;
    setCurrentDetails(currentDetails(plan, phase, paused, running.size));
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
    const shard = shardAt(p, shardIndex);
    scope
      .run(() => shards.runShard.executeWithOptions({ summary: shardSummary(shard, p.unit) }, [{ input, shard }]))
      .then((result) => {
        p.completed = addToRanges(p.completed, shardIndex);
        p.completedUnits += result.units;
        for (const [k, v] of Object.entries(result.totals ?? {})) p.totals[k] = (p.totals[k] ?? 0) + v;
        completedThisRun++;
        upsertSearchAttributes([{ key: rowsDoneKey, value: p.completedUnits }]);
        setCurrentDetails(currentDetails(p, phase, paused, running.size - 1));
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
    setCurrentDetails(currentDetails(p, phase, paused, running.size));
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
    setCurrentDetails(currentDetails(p, phase, paused, 0));
    const result = await finish.finalizeJob(input, p);
    // Only encrypted jobs schedule this (older histories, which have none, replay as before). The job
    // is complete either way: a key that could not be deleted within the budget only stays sealed.
    if (input.output.encryption) await steps.forgetJobKey(input.jobId).catch(() => undefined);
    phase = 'done';
    setCurrentDetails(`**completed** · ${grouped(result.rows)} rows · ${result.files} files · ${grouped(result.bytes)} bytes`);
    return result;
  } catch (err) {
    // continue-as-new unwinds by throwing: not a failure
    if (err instanceof ContinueAsNew) throw err;
    const cancelled = isCancellation(err);
    const cause = cancelled ? undefined : describe(err);
    // Same commands as before; only what the workflow fails with changed: when a bookkeeping step
    // here fails too (its budget spent), the job still fails with its own cause, not that step's.
    await CancellationScope.nonCancellable(async () => {
      if (cancelled) {
        phase = 'cancelling';
        await steps.recordStatus(input.jobId, 'cancelling');
      }
      await drain();
      if (cancelled) await steps.cleanupJob(input.jobId);
      // Only jobs with a load schedule this activity (older histories, which have none, replay as before).
      if (input.output.postgres) await steps.releaseLoad(input);
      await steps.recordStatus(input.jobId, cancelled ? 'cancelled' : 'failed', cause);
      await condition(allHandlersFinished);
      phase = 'done';
    }).catch((bookkeepingErr) => {
      if (cancelled) throw bookkeepingErr;
      phase = 'done';
    });
    if (cancelled) throw err;
    throw ApplicationFailure.nonRetryable(cause!.message, cause!.type);
  }
}

function describe(err: unknown): { type: string; message: string } {
  let e: any = err;
  // Activity failures wrap the activity's own ApplicationFailure: report the root cause.
  while (e && e.cause) e = e.cause;
  return { type: String(e?.type ?? e?.name ?? 'Error'), message: String(e?.message ?? err) };
}
