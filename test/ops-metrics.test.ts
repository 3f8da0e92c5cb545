/**
 * Operations: the metrics after a job of every kind (worker and API, names and labels, values
 * that match the jobs), the worker's /metrics and /health port in a real worker process (with the
 * Temporal SDK's metrics beside shardflow's), the memory guard, and the per-key request rate
 * (429 with Retry-After) and storage limits.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { createApiKey } from '../src/db/api-keys.js';
import { createRateLimiter } from '../src/api/middleware/rate-limit.js';
import { createWorkerMetrics, type WorkerMetrics } from '../src/worker/metrics.js';
import { startMetricsServer, type MetricsServer } from '../src/worker/metrics-server.js';
import { stackMissing, startTestApi, type TestApi } from './support/api.js';
import { engineCases } from './support/engine-cases.js';
import { getJob, isDone, postJob, readManifest, tempDataDir, waitForJob } from './support/jobs.js';
import { has, parseProm, valueOf } from './support/prom.js';
import { needsPromtool, runPromtool } from './support/promtool.js';
import { uniqueTaskQueue } from './support/stack.js';
import { spawnWorkerProcess, startTestWorker, type TestWorker } from './support/worker.js';

let api: TestApi;
let worker: TestWorker;
const warnings: Error[] = [];
process.on('warning', (w) => warnings.push(w));
let metrics: WorkerMetrics;
let server: MetricsServer;
let dataDir: string;
let taskQueue: string;

before(async () => {
  if (stackMissing) return;
  taskQueue = uniqueTaskQueue('ops');
  dataDir = await tempDataDir();
  api = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: taskQueue, SHARDFLOW_DATA_DIR: dataDir } });
  metrics = createWorkerMetrics();
  worker = await startTestWorker({ taskQueue, dataDir, observer: metrics.observer, env: { SHARDFLOW_PART_ROWS: '20000', WORKER_THREADS: '2' } });
  metrics.watchSlots(worker.slots);
  server = await startMetricsServer({
    host: '127.0.0.1',
    port: 0,
    registry: metrics.registry,
    health: () => ({ slots: worker.slots.stats(), taskQueue, kinds: ['test'] }),
  });
});
after(async () => {
  for (const c of engineCases) await c.cleanup?.(api);
  await server?.close();
  await worker?.stop();
  await api?.close();
});

/**
 * prom-client's default metrics that promtool's lint rejects: gauges named `…_total` (the library's
 * names, not ours). They are left out of `promtool check metrics`; docs/operations.md says so.
 */
export const LINT_EXCLUDED = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];
const lintable = (text: string, exclude: (family: string) => boolean) =>
  text
    .split('\n')
    .filter((l) => {
      const name = l.match(/^(?:# (?:HELP|TYPE) )?([a-zA-Z_:][a-zA-Z0-9_:]*)/)?.[1];
      return !name || !exclude(name);
    })
    .join('\n');
const libraryFamily = (name: string) => LINT_EXCLUDED.includes(name);

const scrape = async (url: string) => {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  return parseProm(await res.text());
};

const UNITS = 200_000;
const SHARD = 20_000;

describe('metrics after a job of each kind', { skip: stackMissing }, () => {
  const finished: Array<{ kind: string; job: any; format: string }> = [];

  before(async () => {
    for (const c of engineCases) {
      const format = c.kind === 'trial' ? 'csv' : 'parquet';
      const body = { ...(await c.job(api, UNITS, { seed: 5, multipleOf: SHARD, output: { format } })).body, partitioning: { shardRows: SHARD, maxParallelShards: 2 } };
      const posted = await postJob(api, body);
      assert.equal(posted.status, 202, JSON.stringify(posted.body));
      // A case may write another format than the one asked for (patients: ndjson).
      finished.push({ kind: c.kind, job: await waitForJob(api, posted.body.id, isDone), format: (body.output?.format as string | undefined) ?? format });
    }
  });

  test('shards leave no listeners behind on the worker (30 shards, no MaxListenersExceededWarning)', () => {
    assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message), []);
  });

  test('the worker counts every row and byte it committed, each shard, and the status change', async () => {
    const samples = await scrape(`http://127.0.0.1:${server.port}/metrics`);
    for (const { kind, job, format } of finished) {
      assert.equal(job.status, 'completed', `${kind}: ${JSON.stringify(job.error)}`);
      const manifest = await readManifest(dataDir, job.id);
      const partBytes = manifest.tables.flatMap((t: any) => t.files).reduce((n: number, f: any) => n + f.bytes, 0);
      assert.equal(valueOf(samples, 'shardflow_rows_generated_total', { kind, format }), UNITS, `${kind}: rows`);
      assert.equal(valueOf(samples, 'shardflow_bytes_written_total', { kind, format }), partBytes, `${kind}: bytes`);
      assert.equal(valueOf(samples, 'shardflow_shard_duration_seconds_count', { kind }), manifest.shards, `${kind}: shards`);
      assert.equal(valueOf(samples, 'shardflow_job_status_changes_total', { kind, from: 'running', to: 'completed' }), 1, `${kind}: status change`);
      assert.equal(valueOf(samples, 'shardflow_job_duration_seconds_count', { kind }), 1, `${kind}: job duration`);
      assert.ok(has(samples, 'shardflow_job_duration_seconds_bucket', { kind, le: String(48 * 3600) }), `${kind}: buckets up to hours`);
      assert.equal(valueOf(samples, 'shardflow_shard_retries_total', { kind }), 0, `${kind}: no retries`);
    }
    assert.equal(valueOf(samples, 'shardflow_worker_shards_max'), 4);
    assert.equal(valueOf(samples, 'shardflow_worker_shards_running'), 0);
    assert.equal(valueOf(samples, 'shardflow_worker_memory_guard_engaged'), 0);
    assert.ok(valueOf(samples, 'process_resident_memory_bytes') > 0);
  });

  test('the API counts jobs by kind and status as Postgres has them, requests by route, connections and disk', async () => {
    const samples = await scrape(`${api.url}/metrics`);
    const counts = await api.deps.db.sql<{ kind: string; status: string; n: number }[]>`select kind, status, count(*)::int as n from jobs group by 1, 2`;
    for (const { kind } of finished) {
      const expected = counts.find((r) => r.kind === kind && r.status === 'completed')?.n ?? 0;
      assert.ok(expected >= 1);
      assert.equal(valueOf(samples, 'shardflow_jobs', { kind, status: 'completed' }), expected, kind);
      assert.ok(has(samples, 'shardflow_jobs', { kind, status: 'failed' }), `${kind}: every status has a series`);
      assert.ok(valueOf(samples, 'shardflow_job_status_changes_total', { kind, from: 'new', to: 'running' }) >= 1);
    }
    assert.ok(valueOf(samples, 'http_requests_total', { method: 'POST', route: '/v1/jobs', status: '202' }) >= finished.length);
    assert.ok(valueOf(samples, 'http_request_duration_seconds_count', { method: 'GET', route: '/v1/jobs/:id' }) >= 1);
    assert.ok(valueOf(samples, 'shardflow_db_connections', { application: 'shardflow-api-test' }) >= 1);
    assert.equal(valueOf(samples, 'shardflow_db_pool_max'), api.deps.config.database.poolMax);
    assert.ok(valueOf(samples, 'shardflow_data_disk_size_bytes') > valueOf(samples, 'shardflow_data_disk_free_bytes'));
    assert.ok(valueOf(samples, 'shardflow_data_disk_free_bytes') > 0);
  });

  test('promtool check metrics passes for the API and the worker (shardflow, HTTP and process metrics)', needsPromtool, async () => {
    for (const url of [`${api.url}/metrics`, `http://127.0.0.1:${server.port}/metrics`]) {
      const text = lintable(await (await fetch(url)).text(), libraryFamily);
      const { code, out } = await runPromtool(['check', 'metrics'], text);
      assert.equal(code, 0, `${url}:\n${out}`);
      assert.equal(out.trim(), '', `${url}: no lint findings`);
    }
  });

  test('the worker port answers /health with its slots and guard, 404 elsewhere, 405 for other methods', async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/health`);
    assert.equal(res.status, 200);
    const h = (await res.json()) as any;
    assert.equal(h.status, 'ok');
    assert.deepEqual(h.slots, { max: 4, reserved: h.slots.reserved, running: 0, shardsRunning: 0 });
    assert.equal(h.memoryGuard.maxRssBytes, null);
    assert.equal(h.memoryGuard.engaged, false);
    assert.equal((await fetch(`http://127.0.0.1:${server.port}/nope`)).status, 404);
    const post = await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  });
});

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

test('a worker process serves its metrics and the Temporal SDK’s on one port, on loopback, and logs JSON lines', { skip: stackMissing }, async () => {
  const port = await freePort();
  const queue = uniqueTaskQueue('ops-proc');
  const w = await spawnWorkerProcess({ TEMPORAL_TASK_QUEUE: queue, SHARDFLOW_DATA_DIR: dataDir, WORKER_METRICS_PORT: String(port), WORKER_MAX_RSS_MB: '65536' });
  try {
    // The SDK's exporter has its slot gauges once the pollers run: read until they are there.
    let samples = await scrape(`http://127.0.0.1:${port}/metrics`);
    for (let i = 0; i < 100 && !has(samples, 'temporal_worker_task_slots_available'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      samples = await scrape(`http://127.0.0.1:${port}/metrics`);
    }
    assert.ok(has(samples, 'temporal_worker_task_slots_available'), 'the SDK metrics are served');
    assert.equal(valueOf(samples, 'shardflow_worker_memory_limit_bytes'), 65536 * 2 ** 20);
    assert.ok(has(samples, 'process_resident_memory_bytes'));
    // The SDK's own families (temporal_*) are excluded from the lint: their names are the SDK's.
    const own = lintable(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), (f) => f.startsWith('temporal_') || libraryFamily(f));
    if (!needsPromtool.skip) {
      const lint = await runPromtool(['check', 'metrics'], own);
      assert.equal(lint.code, 0, lint.out);
      assert.ok(own.includes('shardflow_worker_memory_limit_bytes'), 'the lint saw shardflow’s metrics');
    }
    const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as any;
    assert.equal(health.status, 'ok');
    assert.equal(health.taskQueue, queue);
    const polling = w
      .output()
      .split('\n')
      .find((l) => l.includes('"worker polling"'));
    assert.ok(polling, w.output().slice(-2000));
    const line = JSON.parse(polling!);
    assert.equal(line.metrics, `127.0.0.1:${port}`);
    assert.equal(line.level, 'info');
  } finally {
    w.kill('SIGTERM');
    assert.equal(await w.exited, 0);
  }
});

test('the memory guard: above the limit a worker takes no activity; below it the job runs', { skip: stackMissing }, async () => {
  const queue = uniqueTaskQueue('ops-guard');
  const guardedApi = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: queue, SHARDFLOW_DATA_DIR: dataDir } });
  // 1 MiB: far below any Node process, so the guard is engaged from the start.
  const guarded = await startTestWorker({ taskQueue: queue, dataDir, env: { WORKER_MAX_RSS_MB: '1', WORKER_THREADS: '1' } });
  try {
    const posted = await postJob(guardedApi, { kind: 'trial', spec: { method: 'mvn', nPerArm: 1000, seed: 1 } });
    assert.equal(posted.status, 202);
    const handle = guardedApi.deps.temporal.client.workflow.getHandle(posted.body.id);
    // The workflow runs (its task slots are not guarded) and schedules its plan; nobody takes it.
    let pending: any[] = [];
    for (let i = 0; i < 300 && !pending.some((a) => a.activityType?.name === 'planJob'); i++) {
      pending = (await handle.describe()).raw.pendingActivities ?? [];
      if (!pending.length) await new Promise((r) => setTimeout(r, 100));
    }
    const plan = pending.find((a) => a.activityType?.name === 'planJob');
    assert.ok(plan, 'planJob is scheduled');
    const stats = guarded.slots.stats();
    assert.equal(stats.memoryGuard.engaged, true);
    assert.ok(stats.memoryGuard.refusals > 0);
    assert.equal(stats.reserved, 0, 'no slot reserved while guarded');
    assert.equal(stats.running, 0);
    assert.equal(plan.lastStartedTime ?? null, null, 'planJob has not started');
    const view = await getJob(guardedApi, posted.body.id);
    assert.equal(view.progress.done, 0);
    // The limit lifted: the worker takes the plan and the shards, and the job completes.
    guarded.slots.setMaxRss(null);
    const done = await waitForJob(guardedApi, posted.body.id, isDone);
    assert.equal(done.status, 'completed');
    assert.equal(done.result.rows, 1000 * 2 * 4);
  } finally {
    await guarded.stop();
    await guardedApi.close();
  }
});

describe('per-key limits', { skip: stackMissing }, () => {
  let authed: TestApi;
  before(async () => {
    authed = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: taskQueue, SHARDFLOW_DATA_DIR: dataDir, SHARDFLOW_AUTH: 'required' } });
  });
  after(async () => authed?.close());

  const as = (secret: string) => (path: string, init: RequestInit = {}) =>
    authed.request(path, { ...init, headers: { ...(init.headers as Record<string, string>), Authorization: `Bearer ${secret}` } });

  test('a key over its request rate gets 429 problem+json with Retry-After; other keys are not affected', async () => {
    const limited = await createApiKey(authed.deps.db.db, { name: 'rate', tenantId: `t-rate-${randomUUID().slice(0, 8)}`, ratePerMinute: 3 });
    const other = await createApiKey(authed.deps.db.db, { name: 'rate-other', tenantId: `t-rate-${randomUUID().slice(0, 8)}` });
    const get = as(limited.secret);
    for (const remaining of [2, 1, 0]) {
      const res = await get('/v1/jobs');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('ratelimit-limit'), '3');
      assert.equal(res.headers.get('ratelimit-remaining'), String(remaining));
    }
    const res = await get('/v1/jobs');
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    const retry = Number(res.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 20, `Retry-After ${retry}: one request every 20 s`);
    const problem = (await res.json()) as any;
    assert.equal(problem.status, 429);
    assert.match(problem.detail, /allows 3 requests a minute/);
    assert.equal((await as(other.secret)('/v1/jobs')).status, 200);
    assert.equal((await as(other.secret)('/v1/jobs')).headers.get('ratelimit-limit'), null, 'an unlimited key gets no RateLimit headers');
  });

  test('the token bucket refills at the rate: one request per 60/rate seconds after the burst', () => {
    let t = 0;
    const limiter = createRateLimiter(() => t);
    for (let i = 0; i < 6; i++) assert.equal(limiter.take('k', 6).retryAfter, 0);
    assert.equal(limiter.take('k', 6).retryAfter, 10);
    t += 9_999;
    assert.equal(limiter.take('k', 6).retryAfter, 1);
    t += 1;
    assert.equal(limiter.take('k', 6).retryAfter, 0);
    assert.equal(limiter.take('k', 6).retryAfter, 10);
    t += 60_000;
    assert.equal(limiter.take('k', 6).remaining, 5, 'full again after a minute, never above the burst');
  });

  test('a key whose jobs hold its storage allowance cannot start another job', async () => {
    const tenantId = `t-store-${randomUUID().slice(0, 8)}`;
    const key = await createApiKey(authed.deps.db.db, { name: 'store', tenantId, maxStorageBytes: 1 });
    const post = (body: unknown) => as(key.secret)('/v1/jobs', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const first = await post({ kind: 'trial', spec: { method: 'mvn', nPerArm: 100, seed: 2 } });
    assert.equal(first.status, 202, 'nothing held yet');
    const { id } = (await first.json()) as any;
    const t0 = Date.now();
    const done = await waitForJob({ ...authed, request: as(key.secret) } as TestApi, id, (j) => {
      if (Date.now() - t0 > 5000) console.log('DEBUG', JSON.stringify(worker.slots.stats()), j.status, JSON.stringify(j.progress));
      return isDone(j);
    });
    assert.equal(done.status, 'completed');
    const held = (await readManifest(dataDir, id)).bytes;
    assert.ok(held > 1, `the job holds ${held} bytes`);
    const second = await post({ kind: 'trial', spec: { method: 'mvn', nPerArm: 100, seed: 3 } });
    assert.equal(second.status, 422);
    const problem = (await second.json()) as any;
    assert.match(problem.detail, /allows 1 bytes of job files; its jobs hold \d+ bytes/);
    const rows = await authed.deps.db.sql`select id from jobs where tenant_id = ${tenantId}`;
    assert.deepEqual(rows.map((r) => r.id), [id], 'the refused job left no row');
    // Deleting the job frees the allowance.
    assert.equal((await as(key.secret)(`/v1/jobs/${id}`, { method: 'DELETE' })).status, 204);
    const third = await post({ kind: 'trial', spec: { method: 'mvn', nPerArm: 100, seed: 4 } });
    assert.equal(third.status, 202);
    const { id: thirdId } = (await third.json()) as any;
    await waitForJob({ ...authed, request: as(key.secret) } as TestApi, thirdId, isDone);
    assert.equal((await as(key.secret)(`/v1/jobs/${thirdId}`, { method: 'DELETE' })).status, 204);
  });
});
