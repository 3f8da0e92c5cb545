/**
 * Watching a job: its event stream (`GET /v1/jobs/{id}/events`) drawn by a renderer, reconnected
 * with `Last-Event-ID` whenever the stream drops before the final `status` event. Ctrl-C asks
 * whether to cancel the job or detach (a terminal), or detaches (anything else). The exit code
 * follows the job: 0 completed, 1 failed, 3 cancelled, 130 detached.
 */
import { createInterface } from 'node:readline/promises';
import { ApiError, type Job, type ShardflowClient } from '../client/index.js';
import { CommandFailed, EXIT, type CliIo } from './io.js';
import { createRenderer } from './progress.js';

/** Reconnects after a dropped stream: 0.5 s doubling to 5 s; give up after this many failures in a row. */
const MAX_RECONNECTS = 30;
const backoff = (n: number) => Math.min(5_000, 500 * 2 ** Math.max(0, n - 1));

export interface WatchResult {
  job: Job;
  code: number;
  detached?: boolean;
}

export const exitCodeOf = (status: string) => (status === 'completed' ? EXIT.ok : status === 'cancelled' ? EXIT.cancelled : EXIT.failed);

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });
}

/** Ctrl-C while watching: on a terminal, a question; otherwise detach. */
async function onInterrupt(io: CliIo, sf: ShardflowClient, id: string): Promise<'detach' | 'cancel' | 'continue'> {
  if (!io.interactive) return 'detach';
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = (await rl.question(`\nCancel job ${id}? [c]ancel it, [d]etach (it keeps running), anything else: keep watching: `)).trim().toLowerCase();
    if (answer.startsWith('c')) {
      await sf.cancelJob(id);
      return 'cancel';
    }
    return answer.startsWith('d') ? 'detach' : 'continue';
  } finally {
    rl.close();
  }
}

export async function watchJob(sf: ShardflowClient, id: string, io: CliIo, opts: { json: boolean; handleSigint?: boolean }): Promise<WatchResult> {
  const render = createRenderer(io, { json: opts.json, label: id });
  let lastId: string | null = null;
  let failures = 0;
  let detached = false;
  let controller = new AbortController();
  let asking = false;
  const sigint = () => {
    if (asking) return;
    asking = true;
    render.hold(true);
    render.clear();
    void onInterrupt(io, sf, id)
      .then((what) => {
        if (what === 'detach') {
          detached = true;
          controller.abort();
        } else if (what === 'cancel') render.note(`cancel requested for ${id}; waiting for it to stop`);
      })
      .catch((err) => render.note(`could not cancel: ${(err as Error).message}`))
      .finally(() => {
        asking = false;
        render.hold(false);
      });
  };
  if (opts.handleSigint) process.on('SIGINT', sigint);
  try {
    for (;;) {
      if (detached) break;
      try {
        for await (const e of sf.events(id, { lastEventId: lastId, signal: controller.signal })) {
          failures = 0;
          if (e.id) lastId = e.id;
          if (e.event === 'progress') render.progress(e.data);
          else if (e.event === 'status') {
            render.clear();
            const job = await sf.getJob(id);
            return { job, code: exitCodeOf(job.status) };
          }
        }
      } catch (err) {
        if (detached) break;
        // The job is not there, or the key is wrong: reconnecting will not help.
        if (err instanceof ApiError && err.status < 500 && err.status !== 429 && err.status !== 408) throw err;
      }
      if (detached) break;
      failures++;
      if (failures > MAX_RECONNECTS) throw new CommandFailed(`lost the event stream of ${id} (${MAX_RECONNECTS} reconnects failed); the job itself is unaffected: shardflow jobs watch ${id}`);
      render.note(`event stream of ${id} dropped; reconnecting${lastId ? ` after event ${lastId}` : ''} (attempt ${failures})`);
      controller = new AbortController();
      await sleep(backoff(failures), controller.signal);
    }
    render.clear();
    const job = await sf.getJob(id);
    return { job, code: EXIT.interrupted, detached: true };
  } finally {
    if (opts.handleSigint) process.off('SIGINT', sigint);
  }
}
