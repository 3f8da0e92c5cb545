import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { stackMissing, startTestApi, type TestApi } from './support/api.js';
import { readinessReporter, type Readiness } from '../src/api/health.js';

let api: TestApi;
const taskQueue = `health-test-${randomUUID()}`;

before(async () => {
  if (stackMissing) return;
  // A fresh task queue nobody polls: the worker check must fail, the others pass.
  api = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: taskQueue } });
});
after(async () => api?.close());

test('GET /health/live', { skip: stackMissing }, async () => {
  const res = await api.request('/health/live');
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'alive' });
});

test('GET /health/ready is 503 naming worker when nothing polls the task queue', { skip: stackMissing }, async () => {
  const res = await api.request('/health/ready');
  assert.equal(res.status, 503);
  const body = (await res.json()) as { status: string; checks: Record<string, string> };
  assert.equal(body.status, 'unavailable');
  assert.equal(body.checks.postgres, 'ok');
  assert.equal(body.checks.temporal, 'ok');
  assert.match(body.checks.worker!, /^fail: /);
  assert.match(body.checks.worker!, new RegExp(taskQueue));
});

test('GET /health adds pool, disk, memory and versions', { skip: stackMissing }, async () => {
  const res = await api.request('/health');
  assert.equal(res.status, 503);
  const body = (await res.json()) as { checks: unknown; details: Record<string, any> };
  assert.ok(body.checks);
  const d = body.details;
  assert.equal(d.pool.max, 4);
  assert.equal(typeof d.disk.freeBytes, 'number');
  assert.ok(d.memory.rss > 0);
  assert.equal(d.versions.node, process.versions.node);
  assert.match(d.versions.shardflow, /^\d+\.\d+\.\d+/);
  assert.match(d.versions.temporalClient, /^\d+\.\d+\.\d+/);
  assert.equal(typeof d.versions.temporalServer, 'string');
});

test('GET /openapi.json lists the routes and security schemes', { skip: stackMissing }, async () => {
  const res = await api.request('/openapi.json');
  assert.equal(res.status, 200);
  const doc = (await res.json()) as { openapi: string; info: { title: string }; paths: Record<string, unknown>; components: any };
  assert.match(doc.openapi, /^3\.1/);
  assert.equal(doc.info.title, 'shardflow');
  assert.ok(doc.paths['/health/ready']);
  assert.ok(doc.paths['/health/live']);
  assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['apiKey', 'bearer']);
});

test('GET /metrics counts requests by route template', { skip: stackMissing }, async () => {
  await api.request('/health/live');
  const res = await api.request('/metrics');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  const text = await res.text();
  assert.match(text, /http_requests_total\{method="GET",route="\/health\/live",status="200"\} \d+/);
  assert.match(text, /http_request_duration_seconds_bucket/);
  assert.match(text, /process_cpu_user_seconds_total/);
});

test('unknown paths are a 404 problem', { skip: stackMissing }, async () => {
  const res = await api.request('/no/such/thing');
  assert.equal(res.status, 404);
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  const body = (await res.json()) as { status: number; title: string; type: string };
  assert.equal(body.status, 404);
  assert.equal(body.type, 'about:blank');
});

test('readiness is logged when it changes, not at every probe', () => {
  const lines: string[] = [];
  const log = { info: (_o: object, m: string) => lines.push(`INFO ${m}`), warn: (_o: object, m: string) => lines.push(`WARN ${m}`), debug: (_o: object, m: string) => lines.push(`DEBUG ${m}`) };
  let now = 0;
  const report = readinessReporter(log, { graceMs: 60_000, now: () => now });
  const ok = { postgres: 'ok', temporal: 'ok', worker: 'ok' } as const;
  const r = (checks: Partial<Record<keyof typeof ok, string>>): Readiness => ({ ready: Object.values({ ...ok, ...checks }).every((v) => v === 'ok'), checks: { ...ok, ...checks } as Readiness['checks'] });
  const noWorker = r({ worker: 'fail: no activity poller' });
  // Starting: the worker is still bundling; probes are quiet.
  report(noWorker);
  now = 5_000;
  report(noWorker);
  now = 10_000;
  report(r({}));
  report(r({}));
  assert.deepEqual(lines, ['DEBUG not ready: worker: fail: no activity poller', 'DEBUG not ready: worker: fail: no activity poller', 'INFO ready']);
  // An outage: one WARN, a WARN when another check fails too, then quiet, then back.
  lines.length = 0;
  report(r({ postgres: 'fail: ECONNREFUSED' }));
  report(r({ postgres: 'fail: timed out' }));
  report(r({ postgres: 'fail: ECONNREFUSED', temporal: 'fail: UNAVAILABLE' }));
  report(r({}));
  assert.deepEqual(lines, [
    'WARN not ready: postgres: fail: ECONNREFUSED',
    'DEBUG not ready: postgres: fail: timed out',
    'WARN not ready: postgres: fail: ECONNREFUSED; temporal: fail: UNAVAILABLE',
    'INFO ready again',
  ]);
  // Never ready: one WARN once the grace time is over.
  lines.length = 0;
  now = 0;
  const never = readinessReporter(log, { graceMs: 60_000, now: () => now });
  never(noWorker);
  now = 61_000;
  never(noWorker);
  never(noWorker);
  assert.deepEqual(lines, ['DEBUG not ready: worker: fail: no activity poller', 'WARN not ready 61 s after start: worker: fail: no activity poller', 'DEBUG not ready: worker: fail: no activity poller']);
});
