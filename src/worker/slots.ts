/**
 * The worker's activity slots: at most `max` activities at once, and — the memory guard — none
 * taken while the process's resident memory (worker threads included) is above `maxRssBytes`.
 * A Temporal custom slot supplier: the worker asks for a slot before it polls, so a guarded
 * worker simply stops taking tasks and the task queue hands them to other workers; the ones it
 * runs carry on. RSS is sampled every RSS_SAMPLE_MS while a reservation waits.
 */
import type { ActivitySlotInfo, CustomSlotSupplier, SlotMarkUsedContext, SlotPermit, SlotReleaseContext, SlotReserveContext } from '@temporalio/worker';

export const RSS_SAMPLE_MS = 500;
/** The activity type of a shard (src/engine/shard-activity.ts). */
const SHARD_ACTIVITY = 'runShard';

export interface SlotStats {
  /** Slots reserved (polling or running). */
  reserved: number;
  max: number;
  /** Activities running, and of those, shards. */
  running: number;
  shardsRunning: number;
  memoryGuard: { maxRssBytes: number | null; rssBytes: number; engaged: boolean; refusals: number };
}

function abortError(signal: AbortSignal): Error {
  const err = new Error(String(signal.reason ?? 'slot reservation aborted'));
  err.name = 'AbortError';
  return err;
}

export class ActivitySlots implements CustomSlotSupplier<ActivitySlotInfo> {
  readonly type = 'custom' as const;
  private reserved = 0;
  private running = 0;
  private shardsRunning = 0;
  /** Reservations that found the guard engaged (each waiting reservation counts once). */
  private refusals = 0;
  private readonly wake = new Set<() => void>();

  constructor(
    readonly max: number,
    private maxRssBytes: number | null,
    private readonly rss: () => number = () => process.memoryUsage.rss(),
  ) {}

  /** Changes the limit (null: no guard) and lets waiting reservations look again. */
  setMaxRss(bytes: number | null): void {
    this.maxRssBytes = bytes;
    this.notify();
  }

  engaged(): boolean {
    return this.maxRssBytes !== null && this.rss() > this.maxRssBytes;
  }

  stats(): SlotStats {
    const rssBytes = this.rss();
    return {
      reserved: this.reserved,
      max: this.max,
      running: this.running,
      shardsRunning: this.shardsRunning,
      memoryGuard: { maxRssBytes: this.maxRssBytes, rssBytes, engaged: this.maxRssBytes !== null && rssBytes > this.maxRssBytes, refusals: this.refusals },
    };
  }

  async reserveSlot(_ctx: SlotReserveContext, abortSignal: AbortSignal): Promise<SlotPermit> {
    let refused = false;
    for (;;) {
      if (abortSignal.aborted) throw abortError(abortSignal);
      if (this.reserved < this.max) {
        if (!this.engaged()) {
          this.reserved++;
          return {};
        }
        if (!refused) (refused = true), this.refusals++;
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.wake.delete(done);
          abortSignal.removeEventListener('abort', done);
          resolve();
        };
        // Memory changes without telling anyone: look again after a while; a released slot or a new limit wakes at once.
        const timer = setTimeout(done, RSS_SAMPLE_MS);
        this.wake.add(done);
        abortSignal.addEventListener('abort', done, { once: true });
      });
    }
  }

  tryReserveSlot(_ctx: SlotReserveContext): SlotPermit | null {
    if (this.reserved >= this.max) return null;
    if (this.engaged()) {
      this.refusals++;
      return null;
    }
    this.reserved++;
    return {};
  }

  markSlotUsed(ctx: SlotMarkUsedContext<ActivitySlotInfo>): void {
    this.running++;
    if (ctx.slotInfo.activityType === SHARD_ACTIVITY) this.shardsRunning++;
  }

  releaseSlot(ctx: SlotReleaseContext<ActivitySlotInfo>): void {
    this.reserved = Math.max(0, this.reserved - 1);
    if (ctx.slotInfo) {
      this.running = Math.max(0, this.running - 1);
      if (ctx.slotInfo.activityType === SHARD_ACTIVITY) this.shardsRunning = Math.max(0, this.shardsRunning - 1);
    }
    this.notify();
  }

  private notify(): void {
    for (const w of [...this.wake]) w();
  }
}
