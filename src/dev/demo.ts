/**
 * The demo job `npm run dev` starts once the stack is ready (skip with SHARDFLOW_DEMO=off).
 *
 * It is posted with a fixed `Idempotency-Key` (derived from the job body), so starting
 * `npm run dev` again on the same data does not start another one: the API answers the demo job
 * already there (200), which is reported — or followed, when it is still running. The job is
 * followed on its event stream (one request), not by polling.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../config.js';
import { createShardflowClient, type CreateJob, type Job } from '../client/index.js';

export interface DemoContext {
  config: Config;
  /** e.g. http://127.0.0.1:8080 */
  apiUrl: string;
  /** Headers that authenticate against the API (empty while auth is off). */
  apiHeaders: Record<string, string>;
  temporalAddress: string;
  temporalUiUrl?: string;
  namespace: string;
  taskQueue: string;
  databaseUrl: string;
  dataDir: string;
  log: (line: string) => void;
  /** Aborted when the dev stack shuts down. */
  signal: AbortSignal;
}

/** A small trial job: 10,000 rows of vitals to zstd Parquet, fitted to the shipped pilot data. */
export const DEMO_JOB = {
  kind: 'trial',
  spec: { method: 'mvn', nPerArm: 1250, seed: 2024, targetEffect: -5 },
  output: { format: 'parquet', compression: 'zstd' },
} satisfies CreateJob;

/** The demo's Idempotency-Key: another demo body (a new version of this file) is another demo job. */
export const DEMO_IDEMPOTENCY_KEY = `shardflow-dev-demo-${createHash('sha256').update(JSON.stringify(DEMO_JOB)).digest('hex').slice(0, 16)}`;

const TERMINAL = ['completed', 'failed', 'cancelled'];

export interface DemoOutcome {
  job: Job;
  /** false: the demo job was already there (an earlier `npm run dev` on the same data started it). */
  started: boolean;
}

export async function runDemo(ctx: DemoContext): Promise<DemoOutcome> {
  const sf = createShardflowClient({
    url: ctx.apiUrl,
    userAgent: 'shardflow-dev',
    fetch: (input, init) => {
      const req = new Request(input, { ...init, signal: init?.signal ?? ctx.signal });
      for (const [k, v] of Object.entries(ctx.apiHeaders)) req.headers.set(k, v);
      return fetch(req);
    },
  });
  const { data, response } = await sf.api.POST('/v1/jobs', { body: DEMO_JOB, params: { header: { 'idempotency-key': DEMO_IDEMPOTENCY_KEY } } });
  if (!data || (response.status !== 202 && response.status !== 200)) {
    const problem = (await response.json().catch(() => undefined)) as { detail?: string } | undefined;
    throw new Error(`POST /v1/jobs answered ${response.status}: ${problem?.detail ?? response.statusText}`);
  }
  const started = response.status === 202;
  let job = data as Job;
  const where = `${ctx.dataDir}/jobs/${job.id}/`;
  if (started) ctx.log(`demo job ${job.id} started (10,000 trial rows); follow it at ${ctx.apiUrl}/v1/jobs/${job.id}`);
  else if (TERMINAL.includes(job.status)) {
    ctx.log(`demo job ${job.id} is already there (${job.status}${job.result ? `, ${job.result.rows} rows in ${where}` : ''}); not started again`);
    return { job, started };
  } else ctx.log(`demo job ${job.id} from an earlier run is still ${job.status}; following it`);

  const t0 = Date.now();
  let lastEventId: string | null = null;
  // The stream ends after its `status` event; should the connection drop, continue after the last event.
  while (!TERMINAL.includes(job.status)) {
    ctx.signal.throwIfAborted();
    for await (const e of sf.events(job.id, { lastEventId, signal: ctx.signal })) {
      lastEventId = e.id ?? lastEventId;
      if (e.event === 'status') job = { ...job, ...e.data };
    }
    if (!TERMINAL.includes(job.status)) job = await sf.getJob(job.id);
  }
  if (job.status !== 'completed') throw new Error(`demo job ${job.id} ${job.status}: ${job.error?.message ?? ''}`);
  ctx.log(
    `demo job ${job.id} completed in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${job.result?.rows} rows in ${where} ` +
      `(manifest.json beside vitals/part-*.parquet; also ${ctx.apiUrl}/v1/jobs/${job.id}/files)`,
  );
  return { job, started };
}
