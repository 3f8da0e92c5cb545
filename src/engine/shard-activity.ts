/**
 * The `runShard` activity: runs one shard on a worker thread, heartbeating its checkpoint at
 * least every second. A retry resumes from the last heartbeat's checkpoint; a shard started
 * again after a pause or a job resume resumes from the shard record on disk.
 */
import { activityInfo, Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import type { ShardCheckpoint, ShardResult, ShardTask, PartRecord } from './types.js';
import { shardRowRange } from './types.js';
import type { ThreadPool } from './thread-pool.js';
import { jobDir, readShardRecord, verifiedParts } from './job-files.js';
import { kindPlugin, type KindDeps, type ShardPayload } from '../kinds/index.js';

export interface ShardDeps extends KindDeps {
  dataDir: string;
  pool: ThreadPool;
  /** Test and chaos hook: called before a shard starts work; may throw to fail it. */
  faults?: { beforeShard?(task: ShardTask, attempt: number, cancelled: AbortSignal): void | Promise<void> };
}

const HEARTBEAT_EVERY_MS = 1000;

export function createRunShard(deps: ShardDeps) {
  const payloads = new Map<string, Promise<ShardPayload>>();
  const payloadFor = (task: ShardTask) => {
    let p = payloads.get(task.input.jobId);
    if (!p) {
      p = kindPlugin(task.input.kind).prepare(task.input, deps);
      p.catch(() => payloads.delete(task.input.jobId));
      payloads.set(task.input.jobId, p);
      if (payloads.size > 64) payloads.delete(payloads.keys().next().value!);
    }
    return p;
  };

  return async function runShard(task: ShardTask): Promise<ShardResult> {
    const ctx = Context.current();
    const info = activityInfo();
    const { jobId } = task.input;
    const dir = jobDir(deps.dataDir, jobId);
    const [rowStart, rowEnd] = shardRowRange(task.plan, task.shardIndex);

    // Where to resume from: the newest of the heartbeat checkpoint and the shard record on disk.
    const record = await readShardRecord(deps.dataDir, jobId, task.shardIndex);
    const fromHeartbeat = (info.heartbeatDetails as ShardCheckpoint | undefined)?.parts ?? [];
    const candidate: PartRecord[] = record && record.parts.length > fromHeartbeat.length ? record.parts : fromHeartbeat;
    const resume = await verifiedParts(dir, candidate);
    const rowsIn = (parts: PartRecord[]) => parts.reduce((n, p) => n + p.rows, 0);
    const summary = (parts: PartRecord[]): ShardResult => ({
      shardIndex: task.shardIndex,
      rows: rowsIn(parts),
      bytes: parts.reduce((n, p) => n + p.bytes, 0),
      parts: parts.length,
      resumedParts: resume.length,
    });
    if (record?.complete && resume.length === record.parts.length) return { ...summary(resume), resumedParts: resume.length };

    let last: ShardCheckpoint = {
      shardIndex: task.shardIndex,
      rowsCommitted: rowsIn(resume),
      rowsWritten: rowsIn(resume),
      parts: resume,
    };
    ctx.heartbeat(last);
    const beat = setInterval(() => ctx.heartbeat(last), HEARTBEAT_EVERY_MS);
    try {
      await deps.faults?.beforeShard?.(task, info.attempt, ctx.cancellationSignal);
      const payload = await payloadFor(task);
      const handle = await deps.pool.run(
        {
          dataDir: deps.dataDir,
          jobId,
          format: task.input.output.format,
          compression: task.input.output.compression,
          payload,
          shardIndex: task.shardIndex,
          rowStart,
          rowEnd,
          partRows: task.plan.partRows,
          partsPerShard: Math.ceil(task.plan.shardRows / task.plan.partRows),
          resume,
        },
        (cp) => {
          last = cp;
          ctx.heartbeat(cp);
        },
        ctx.cancellationSignal,
      );
      ctx.cancellationSignal.addEventListener('abort', () => handle.stop(), { once: true });
      if (ctx.cancellationSignal.aborted) handle.stop();
      const outcome = await handle.result;
      last = outcome.checkpoint;
      ctx.heartbeat(last);
      if (outcome.stopped) throw new CancelledFailure(`shard ${task.shardIndex} stopped after ${outcome.checkpoint.parts.length} parts`);
      return summary(outcome.checkpoint.parts);
    } catch (err) {
      if (ctx.cancellationSignal.aborted && !(err instanceof CancelledFailure)) {
        throw new CancelledFailure(String(ctx.cancellationSignal.reason ?? 'cancelled'));
      }
      throw err;
    } finally {
      clearInterval(beat);
    }
  };
}
