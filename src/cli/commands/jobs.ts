/** `shardflow jobs list|show|watch|pause|resume|cancel|delete|files|download`. */
import path from 'node:path';
import type { Command } from 'commander';
import type { Job } from '../../client/index.js';
import { describeJob } from '../describe.js';
import { downloadJob } from '../download.js';
import { bytes, duration, int, table } from '../format.js';
import { UsageError } from '../io.js';
import { watchJob } from '../watch.js';
import type { Ctx } from './context.js';


export function registerJobs(program: Command, ctx: Ctx): void {
  const jobs = program.command('jobs').description('list, watch, control and download jobs');

  jobs
    .command('list')
    .description('jobs, newest first')
    .option('--kind <kind>', 'only this kind')
    .option('--status <status>', 'only this status (running, paused, cancelling, completed, failed, cancelled)')
    .option('--limit <n>', 'at most this many (default 50; --all for every page)')
    .option('--all', 'every page')
    .action(async (o: { kind?: string; status?: string; limit?: string; all?: boolean }, cmd: Command) => {
      const sf = ctx.client(cmd);
      const limit = o.limit === undefined ? 50 : Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new UsageError('--limit must be an integer from 1 to 500');
      const items: Job[] = [];
      let cursor: string | undefined;
      do {
        const page = await sf.listJobs({ kind: o.kind, status: o.status as Job['status'] | undefined, limit: o.all ? 500 : limit, cursor });
        items.push(...page.items);
        cursor = o.all ? (page.nextCursor ?? undefined) : undefined;
      } while (cursor);
      if (ctx.json(cmd)) return ctx.io.out(JSON.stringify(items));
      if (!items.length) return ctx.io.out('(no jobs)');
      ctx.io.out(
        table([
          ['ID', 'KIND', 'STATUS', 'ROWS', 'CREATED', 'TOOK'],
          ...items.map((j) => [
            j.id,
            j.kind,
            j.status,
            int(j.result?.rows ?? (j.progress?.total || null)),
            j.createdAt,
            j.finishedAt && j.startedAt ? duration((Date.parse(j.finishedAt) - Date.parse(j.startedAt)) / 1000) : '',
          ]),
        ]),
      );
    });

  jobs
    .command('show <id>')
    .description('a job, with its live progress')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const j = await ctx.client(cmd).getJob(id);
      ctx.io.out(ctx.json(cmd) ? JSON.stringify(j) : describeJob(j));
    });

  jobs
    .command('watch <id>')
    .description('follow a job to its end: a progress bar on a terminal, lines otherwise (exit 0 completed, 1 failed, 3 cancelled)')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const sf = ctx.client(cmd);
      const r = await watchJob(sf, id, ctx.io, { json: ctx.json(cmd), handleSigint: ctx.handleSigint });
      ctx.finishWatch(cmd, r);
    });

  for (const [action, verb] of [
    ['pause', 'pause: no new shards start; running shards close their part and stop'],
    ['resume', 'resume a paused job, or start a failed or cancelled one again (completed shards are kept)'],
    ['cancel', 'cancel; running shards stop at their next heartbeat'],
  ] as const) {
    jobs
      .command(`${action} <id>`)
      .description(verb)
      .action(async (id: string, _o: unknown, cmd: Command) => {
        const sf = ctx.client(cmd);
        const j = action === 'pause' ? await sf.pauseJob(id) : action === 'resume' ? await sf.resumeJob(id) : await sf.cancelJob(id);
        ctx.io.out(ctx.json(cmd) ? JSON.stringify(j) : `${j.id} ${j.status}`);
      });
  }

  jobs
    .command('delete <id>')
    .description('delete a job: cancels it if it runs, then removes its files and records')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      await ctx.client(cmd).deleteJob(id);
      ctx.io.out(ctx.json(cmd) ? JSON.stringify({ id, deleted: true }) : `deleted ${id}`);
    });

  jobs
    .command('files <id>')
    .description("the job's files with rows, bytes and sha256")
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const files = await ctx.client(cmd).listFiles(id);
      if (ctx.json(cmd)) return ctx.io.out(JSON.stringify(files));
      if (!files.length) return ctx.io.out('(no files yet)');
      ctx.io.out(table([['NAME', 'ROWS', 'BYTES', 'SHA256'], ...files.map((f) => [f.name, int(f.rows), String(f.bytes), f.sha256 ?? '-'])]));
    });

  jobs
    .command('download <id>')
    .description("download a completed job's files, resuming interrupted ones, each checked against the manifest's sha256")
    .option('--out <dir>', 'where to (default ./<job id>)')
    .option('--file <name...>', 'only these files')
    .action(async (id: string, o: { out?: string; file?: string[] }, cmd: Command) => {
      const dir = path.resolve(o.out ?? id);
      const files = await downloadJob(ctx.client(cmd), id, dir, ctx.io, { json: ctx.json(cmd), only: o.file });
      if (ctx.json(cmd)) return ctx.io.out(JSON.stringify({ id, dir, files }));
      const total = files.reduce((s, f) => s + f.bytes, 0);
      const verified = files.filter((f) => f.verified).length;
      ctx.io.out(`${files.length} files (${bytes(total)}) in ${dir}; ${verified} checked against the manifest's sha256${verified < files.length ? `, ${files.length - verified} without one (manifest.json itself)` : ''}`);
    });
}
