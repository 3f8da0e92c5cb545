/**
 * The demo job `npm run dev` starts once the stack is ready (skip with SHARDFLOW_DEMO=off).
 */
import type { Config } from '../config.js';

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
};

export async function runDemo(ctx: DemoContext): Promise<void> {
  const headers = { 'Content-Type': 'application/json', ...ctx.apiHeaders };
  const res = await fetch(`${ctx.apiUrl}/v1/jobs`, { method: 'POST', headers, body: JSON.stringify(DEMO_JOB), signal: ctx.signal });
  const job = (await res.json()) as { id: string; status: string; detail?: string };
  if (res.status !== 202) throw new Error(`POST /v1/jobs answered ${res.status}: ${job.detail ?? JSON.stringify(job)}`);
  ctx.log(`demo job ${job.id} started (10,000 trial rows); follow it at ${ctx.apiUrl}/v1/jobs/${job.id}`);
  const started = Date.now();
  for (;;) {
    ctx.signal.throwIfAborted();
    const r = await fetch(`${ctx.apiUrl}/v1/jobs/${job.id}`, { headers, signal: ctx.signal });
    const view = (await r.json()) as { status: string; result?: { rows: number; digest?: string }; error?: { message: string } };
    if (view.status === 'completed') {
      ctx.log(
        `demo job ${job.id} completed in ${((Date.now() - started) / 1000).toFixed(1)} s: ${view.result?.rows} rows in ${ctx.dataDir}/jobs/${job.id}/ ` +
          `(manifest.json beside vitals/part-*.parquet; also ${ctx.apiUrl}/v1/jobs/${job.id}/files)`,
      );
      return;
    }
    if (view.status === 'failed' || view.status === 'cancelled') throw new Error(`demo job ${job.id} ${view.status}: ${view.error?.message ?? ''}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
