/** What the commands share: output, the API client from the global options, --json, the exit code. */
import type { Command } from 'commander';
import type { ShardflowClient } from '../../client/index.js';
import { clientFor } from '../client.js';
import type { CliIo } from '../io.js';
import type { WatchResult } from '../watch.js';
import { describeJob } from '../describe.js';

export interface Ctx {
  io: CliIo;
  env: NodeJS.ProcessEnv;
  /** Ctrl-C while watching asks or detaches (the real terminal), rather than killing the process. */
  handleSigint: boolean;
  /** The code the process exits with, when a command sets one (watch: the job's end). */
  exitCode: number;
  client(cmd: Command): ShardflowClient;
  json(cmd: Command): boolean;
  finishWatch(cmd: Command, r: WatchResult): void;
}

export function createCtx(io: CliIo, env: NodeJS.ProcessEnv, handleSigint: boolean): Ctx {
  const ctx: Ctx = {
    io,
    env,
    handleSigint,
    exitCode: 0,
    client: (cmd) => clientFor(cmd.optsWithGlobals() as { url?: string; key?: string }, env),
    json: (cmd) => Boolean(cmd.optsWithGlobals().json),
    finishWatch(cmd, r) {
      ctx.exitCode = r.code;
      if (ctx.json(cmd)) io.out(JSON.stringify({ event: r.detached ? 'detached' : 'end', job: r.job }));
      else if (r.detached) io.out(`detached from ${r.job.id} (${r.job.status}); it keeps running: shardflow jobs watch ${r.job.id}`);
      else io.out(describeJob(r.job));
    },
  };
  return ctx;
}
