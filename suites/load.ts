/**
 * `npm run load [-- --connections 100 --duration 60 --burst 200]`: the API under load, with
 * autocannon, on a stack of its own.
 *
 *   1. reads: `--connections` connections on GET /v1/jobs/{id} for `--duration` seconds while a
 *      trial job keeps the worker busy (sized from a calibration job to outlast the reads);
 *   2. a burst: `--burst` POST /v1/jobs sent at once (small jobs), then all of them awaited.
 *
 * Prints p50 / p95 / p99 latency, requests per second, errors and non-2xx answers, and the target
 * (reads p95 ≤ 100 ms); exits non-zero on a 5xx, a connection error, or a burst job that does not
 * complete.
 */
import autocannon from 'autocannon';
import { arg, http, say, secs, startApi, startSuiteStack, startWorkerProc, waitJob } from './support.js';

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Run {
  latencies: number[];
  statuses: Map<number, number>;
  errors: number;
  seconds: number;
}

function cannon(opts: autocannon.Options): Promise<Run> {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const instance = autocannon(opts, (err, result) => {
      if (err) return reject(err);
      resolve({ latencies: latencies.sort((a, b) => a - b), statuses, errors: result.errors + result.timeouts, seconds: (Date.now() - t0) / 1000 });
    });
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      latencies.push(ms);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    });
  });
}

const fmt = (r: Run) => {
  const codes = [...r.statuses.entries()].sort().map(([s, n]) => `${s}×${n}`).join(' ');
  return `${r.latencies.length} requests in ${r.seconds.toFixed(1)} s (${Math.round(r.latencies.length / r.seconds)}/s): p50 ${percentile(r.latencies, 50).toFixed(1)} ms, p95 ${percentile(r.latencies, 95).toFixed(1)} ms, p99 ${percentile(r.latencies, 99).toFixed(1)} ms, max ${r.latencies.at(-1)?.toFixed(0)} ms; statuses ${codes}; errors ${r.errors}`;
};

async function main(): Promise<number> {
  const connections = Number(arg('connections', '100'));
  const duration = Number(arg('duration', '60'));
  const burst = Number(arg('burst', '200'));
  const stack = await startSuiteStack();
  const worker = await startWorkerProc(stack.env);
  const api = await startApi(stack.env);
  let failed = false;
  try {
    // Calibration: how fast this machine writes trial rows right now.
    const calib = 2_000_000;
    const t0 = Date.now();
    const c = await http(api.url, 'POST', '/v1/jobs', { kind: 'trial', spec: { method: 'mvn', nPerArm: calib / 8, seed: 1 }, output: { format: 'csv', compression: 'gzip' } });
    await waitJob(api.url, c.json.id, (j) => j.status === 'completed');
    const rate = calib / ((Date.now() - t0) / 1000);
    // A small job runs slower than a big one (fixed costs): twice the reads' time, so it is still running at their end.
    const rows = Math.ceil((rate * (duration + 20) * 2) / 8_000_000) * 8_000_000;
    say(`calibration: ${Math.round(rate).toLocaleString('en-US')} rows/s (csv gzip); the busy job: ${rows.toLocaleString('en-US')} rows`);

    const job = await http(api.url, 'POST', '/v1/jobs', { kind: 'trial', spec: { method: 'mvn', nPerArm: rows / 8, seed: 2 }, output: { format: 'csv', compression: 'gzip' } });
    if (job.status !== 202) throw new Error(`could not start the busy job: ${JSON.stringify(job.json)}`);
    await waitJob(api.url, job.json.id, (j) => j.progress?.shards?.running > 0);
    say(`reads: ${connections} connections on GET /v1/jobs/${job.json.id} for ${duration} s while it runs`);
    const reads = await cannon({ url: `${api.url}/v1/jobs/${job.json.id}`, connections, duration });
    const during = await http(api.url, 'GET', `/v1/jobs/${job.json.id}`);
    say(`  ${fmt(reads)}`);
    const p95 = percentile(reads.latencies, 95);
    say(`  target p95 ≤ 100 ms: ${p95 <= 100 ? '✓' : '✗'} (${p95.toFixed(1)} ms; the job was ${during.json.status} at the end, ${Math.round((during.json.progress?.fraction ?? 0) * 100)} % done)`);
    if (reads.errors || [...reads.statuses.keys()].some((s) => s !== 200)) failed = true;
    await http(api.url, 'POST', `/v1/jobs/${job.json.id}/cancel`);

    say(`burst: ${burst} POST /v1/jobs at once`);
    const submitted: string[] = [];
    const b0 = Date.now();
    const answers = await Promise.all(
      Array.from({ length: burst }, (_, i) =>
        fetch(`${api.url}/v1/jobs`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ kind: 'trial', spec: { method: 'rules', nPerArm: 50, seed: i } }),
        }).then(async (r) => ({ status: r.status, ms: Date.now() - b0, id: ((await r.json()) as any).id as string | undefined })),
      ),
    );
    const byStatus = new Map<number, number>();
    for (const a of answers) {
      byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
      if (a.id) submitted.push(a.id);
    }
    const ms = answers.map((a) => a.ms).sort((x, y) => x - y);
    say(`  answered in ${secs(ms.at(-1)!)}: p50 ${percentile(ms, 50)} ms, p95 ${percentile(ms, 95)} ms, p99 ${percentile(ms, 99)} ms; statuses ${[...byStatus.entries()].map(([s, n]) => `${s}×${n}`).join(' ')}`);
    if (answers.some((a) => a.status !== 202)) failed = true;
    const w0 = Date.now();
    let completed = 0;
    for (const id of submitted) {
      const j = await waitJob(api.url, id, (x) => ['completed', 'failed', 'cancelled'].includes(x.status));
      if (j.status === 'completed') completed++;
    }
    say(`  ${completed} of ${submitted.length} burst jobs completed (${secs(Date.now() - w0)} after the burst was answered)`);
    if (completed !== burst) failed = true;
  } finally {
    await api.stop(5_000);
    await worker.stop(10_000);
    await stack.stop();
  }
  say(failed ? 'FAILED' : 'ok');
  return failed ? 1 : 0;
}

process.exitCode = await main();
