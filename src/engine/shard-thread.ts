/** Worker-thread entry: runs shard work off the main event loop so heartbeats keep flowing. */
import { parentPort } from 'node:worker_threads';
import { runShardWork, type ShardJob } from './shard-work.js';

export type ToThread = { type: 'run'; id: number; job: ShardJob; stop: SharedArrayBuffer };
export type FromThread =
  | { type: 'progress'; id: number; checkpoint: import('./types.js').ShardCheckpoint }
  | { type: 'done'; id: number; outcome: import('./shard-work.js').ShardOutcome }
  | { type: 'error'; id: number; name: string; message: string; stack?: string };

if (!parentPort) throw new Error('shard-thread must run in a worker thread');
const port = parentPort;

port.on('message', async (msg: ToThread) => {
  if (msg.type !== 'run') return;
  const stop = new Int32Array(msg.stop);
  try {
    const outcome = await runShardWork(
      msg.job,
      () => Atomics.load(stop, 0) === 1,
      (checkpoint) => port.postMessage({ type: 'progress', id: msg.id, checkpoint } satisfies FromThread),
    );
    port.postMessage({ type: 'done', id: msg.id, outcome } satisfies FromThread);
  } catch (err: any) {
    port.postMessage({ type: 'error', id: msg.id, name: err?.name ?? 'Error', message: String(err?.message ?? err), stack: err?.stack } satisfies FromThread);
  }
});
