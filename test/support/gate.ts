/** A shard gate for control tests: shards from `from` on wait until opened (or until cancelled). */
import type { ShardTask } from '../../src/engine/types.js';

export function shardGate(from: number) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const started: number[] = [];
  return {
    started,
    open,
    beforeShard(task: ShardTask, _attempt: number, cancelled: AbortSignal): Promise<void> | void {
      started.push(task.shard.index);
      if (task.shard.index < from) return;
      return new Promise<void>((resolve) => {
        void opened.then(resolve);
        cancelled.addEventListener('abort', () => resolve(), { once: true });
      });
    },
  };
}
