/**
 * `shardflow seed emissions --activities N [--orgs K] [--seed S] [--chunk-rows R] [--org-prefix p]`:
 * a realistic test set (src/kinds/emissions/seed.ts) POSTed to `/v1/activities` as NDJSON, chunk by
 * chunk, each body streamed as it is generated (never a whole chunk in memory). Each chunk carries an
 * Idempotency-Key made of (seed, N, orgs, org prefix, chunk index), so running the same command again
 * inserts nothing new: the API answers each chunk's first answer (200).
 */
import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import type { ShardflowClient } from '../../client/index.js';
import type { ActivityType } from '../../kinds/emissions/reference.js';
import { seedGenerator, zeroCounts } from '../../kinds/emissions/seed.js';
import { compact, int } from '../format.js';
import { CommandFailed, UsageError } from '../io.js';

export const DEFAULT_CHUNK_ROWS = 100_000;

export interface SeedRun {
  seed: number;
  activities: number;
  orgs: number;
  orgPrefix: string;
  chunkRows: number;
}

export interface SeedChunk {
  index: number;
  chunks: number;
  from: number;
  to: number;
  /** 201: inserted now; 200: this chunk's Idempotency-Key was answered before (nothing new). */
  status: 200 | 201;
  inserted: number;
  counts: Record<ActivityType, number>;
  seconds: number;
}

export interface SeedSummary extends SeedRun {
  chunks: number;
  /** Activities inserted by this run. */
  inserted: number;
  /** Activities of chunks that an earlier identical run had inserted already. */
  alreadyThere: number;
  insertedByType: Record<ActivityType, number>;
  seconds: number;
  rowsPerSecond: number;
}

/** A chunk's Idempotency-Key: the run's parameters (not the chunk size: another chunking of the same set is a 409, not a duplicate). */
export function seedIdempotencyKey(run: Omit<SeedRun, 'chunkRows'>, chunk: number): string {
  const h = createHash('sha256').update(JSON.stringify(['emissions', 1, run.seed, run.activities, run.orgs, run.orgPrefix])).digest('hex').slice(0, 16);
  return `seed-emissions-${h}-s${run.seed}-n${run.activities}-o${run.orgs}-c${chunk}`;
}

/** Seeds `run` chunk by chunk through `client`; `onChunk` after each answered chunk. */
export async function seedEmissions(client: ShardflowClient, run: SeedRun, onChunk: (c: SeedChunk) => void = () => {}): Promise<SeedSummary> {
  const gen = seedGenerator(run.seed, { orgs: run.orgs, orgPrefix: run.orgPrefix });
  const chunks = Math.ceil(run.activities / run.chunkRows);
  const insertedByType = zeroCounts();
  let inserted = 0;
  let alreadyThere = 0;
  const t0 = performance.now();
  const encoder = new TextEncoder();
  for (let k = 0; k < chunks; k++) {
    const from = k * run.chunkRows;
    const to = Math.min(run.activities, from + run.chunkRows);
    const counts = zeroCounts();
    const pieces = gen.ndjson(from, to);
    // Pulled as fetch sends: one piece (~64 KiB of lines) at a time.
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = pieces.next();
        if (next.done) return controller.close();
        for (const t of Object.keys(counts) as ActivityType[]) counts[t] += next.value.counts[t];
        controller.enqueue(encoder.encode(next.value.text));
      },
    });
    const t = performance.now();
    const out = await client.ingestActivities(body, { contentType: 'application/x-ndjson', idempotencyKey: seedIdempotencyKey(run, k) });
    if (out.status === 422) {
      const first = out.rejected.slice(0, 3).map((r) => `line ${r.line}: ${r.errors.join('; ')}`).join(' | ');
      throw new CommandFailed(`chunk ${k + 1}/${chunks} (activities ${from}–${to - 1}) was refused, nothing of it inserted: ${out.rejected.length} invalid lines (${first})`);
    }
    if (out.inserted !== to - from) {
      throw new CommandFailed(`chunk ${k + 1}/${chunks}: the API answered ${out.inserted} inserted for ${to - from} activities`);
    }
    if (out.status === 201) {
      inserted += out.inserted;
      for (const ty of Object.keys(counts) as ActivityType[]) insertedByType[ty] += counts[ty];
    } else alreadyThere += out.inserted;
    onChunk({ index: k, chunks, from, to, status: out.status, inserted: out.inserted, counts, seconds: (performance.now() - t) / 1000 });
  }
  const seconds = (performance.now() - t0) / 1000;
  return { ...run, chunks, inserted, alreadyThere, insertedByType, seconds, rowsPerSecond: run.activities / seconds };
}

function intFlag(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const s = v.replace(/_/g, '');
  const n = /^\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${name}: an integer from ${int(min)} to ${int(max)} (got ${JSON.stringify(v)})`);
  return n;
}

export function registerSeed(program: Command, ctx: import('./context.js').Ctx): void {
  const seed = program.command('seed').description('realistic test data on demand, through the API');

  seed
    .command('emissions')
    .description('POST a realistic, deterministic set of activities (40 % electricity, 30 % goods_services, 30 % air_travel) to /v1/activities')
    .requiredOption('--activities <n>', 'how many activities')
    .option('--orgs <k>', 'spread over this many organisations', '20')
    .option('--org-prefix <p>', 'organisation ids are <p>-1 … <p>-<k>', 'seed-org')
    .option('--seed <s>', 'the same seed gives the same activities', '1')
    .option('--chunk-rows <r>', 'activities per request (each its own transaction and Idempotency-Key)', String(DEFAULT_CHUNK_ROWS))
    .action(async (o: { activities: string; orgs: string; orgPrefix: string; seed: string; chunkRows: string }, cmd: Command) => {
      const run: SeedRun = {
        activities: intFlag('activities', o.activities, 1, 1e9)!,
        orgs: intFlag('orgs', o.orgs, 1, 1_000_000)!,
        orgPrefix: o.orgPrefix,
        seed: intFlag('seed', o.seed, 0, Number.MAX_SAFE_INTEGER)!,
        chunkRows: intFlag('chunk-rows', o.chunkRows, 1, 10_000_000)!,
      };
      if (!/^[\x21-\x7e]{1,100}$/.test(run.orgPrefix)) throw new UsageError('--org-prefix: 1–100 printable ASCII characters, no spaces');
      const client = ctx.client(cmd);
      const json = ctx.json(cmd);
      const total = { done: 0 };
      const s = await seedEmissions(client, run, (c) => {
        total.done += c.to - c.from;
        if (json) return;
        const rows = c.to - c.from;
        ctx.io.out(
          c.status === 201
            ? `chunk ${c.index + 1}/${c.chunks}: ${int(rows)} activities inserted (${int(c.from)}–${int(c.to - 1)}) in ${c.seconds.toFixed(2)} s, ${compact(rows / c.seconds)} rows/s; ${int(total.done)}/${int(run.activities)}`
            : `chunk ${c.index + 1}/${c.chunks}: already seeded (Idempotency-Key answered before), nothing inserted; ${int(total.done)}/${int(run.activities)}`,
        );
      });
      if (json) return ctx.io.out(JSON.stringify(s));
      const byType = Object.entries(s.insertedByType).map(([t, n]) => `${t} ${int(n)}`).join(', ');
      ctx.io.out(
        `seeded ${int(s.activities)} activities (seed ${s.seed}) for ${s.orgPrefix}-1…${s.orgPrefix}-${s.orgs} in ${s.seconds.toFixed(2)} s, ${compact(s.rowsPerSecond)} rows/s: ` +
          `${int(s.inserted)} inserted (${byType}), ${int(s.alreadyThere)} already there`,
      );
    });
}
