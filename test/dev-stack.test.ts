import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { resolveTemporalBinary, TemporalBinaryNotFoundError, TEMPORAL_CLI_VERSION } from '../src/dev/temporal-binary.js';
import { probeTemporal, temporalDevServerArgs } from '../src/dev/temporal-server.js';
import { pickFreePorts } from '../src/dev/process.js';
import { portConflictMessage, wantedPorts } from '../src/dev/ports.js';
import { devStackOptions } from '../src/dev/stack.js';
import { loadConfig } from '../src/config.js';
import { stackMissing, testEnv, uniqueTaskQueue } from './support/stack.js';
import { DEMO_IDEMPOTENCY_KEY, DEMO_JOB, runDemo } from '../src/dev/demo.js';
import { devLine, formatChildLine, painter } from '../src/dev/output.js';
import { temporalLogMethod } from '../src/log.js';
import { startTestApi } from './support/api.js';
import { startTestWorker } from './support/worker.js';
import { tempDataDir } from './support/jobs.js';

const quiet = () => {};

function tmp(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `shardflow-${prefix}-`));
}

function fakeExecutable(dir: string, name: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, '#!/bin/sh\necho "temporal version fake"\n', { mode: 0o755 });
  return file;
}

test('resolveTemporalBinary honours TEMPORAL_CLI before PATH', async () => {
  const dir = tmp('cli');
  try {
    const explicit = fakeExecutable(dir, 'my-temporal');
    const pathDir = path.join(dir, 'bin');
    fs.mkdirSync(pathDir);
    fakeExecutable(pathDir, 'temporal');
    const found = await resolveTemporalBinary({ env: { TEMPORAL_CLI: explicit, PATH: pathDir }, log: quiet });
    assert.equal(found, explicit);
    // without TEMPORAL_CLI, PATH wins
    assert.equal(await resolveTemporalBinary({ env: { PATH: pathDir }, log: quiet }), path.join(pathDir, 'temporal'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('resolveTemporalBinary rejects a TEMPORAL_CLI that does not exist, naming it', async () => {
  await assert.rejects(
    resolveTemporalBinary({ env: { TEMPORAL_CLI: '/nonexistent/temporal', PATH: '' }, log: quiet }),
    (err: Error) => err instanceof TemporalBinaryNotFoundError && /TEMPORAL_CLI=\/nonexistent\/temporal: does not exist/.test(err.message),
  );
});

test('resolveTemporalBinary lists every place it looked when nothing is found', async () => {
  const empty = tmp('nothing');
  try {
    // no TEMPORAL_CLI, empty PATH (so no temporal and no go), empty HOME and TMPDIR
    const env = { PATH: '', HOME: empty, TMPDIR: empty };
    await assert.rejects(resolveTemporalBinary({ env, log: quiet }), (err: Error) => {
      assert.ok(err instanceof TemporalBinaryNotFoundError);
      const places = err.attempts.map((a) => a.place);
      assert.deepEqual(places, [
        'TEMPORAL_CLI',
        'PATH',
        path.join(empty, 'go', 'bin', 'temporal'),
        `go install github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`,
        `Temporal SDK download cache (${empty})`,
      ]);
      assert.match(err.message, /TEMPORAL_CLI: not set/);
      assert.match(err.message, /PATH: PATH is empty/);
      assert.match(err.message, /does not exist/);
      assert.match(err.message, /no "go" on PATH/);
      assert.match(err.message, /no temporal-<version>/);
      return true;
    });
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
});

test("resolveTemporalBinary finds the SDK's cached download in the temp dir", async () => {
  const cache = tmp('sdkcache');
  try {
    const cached = fakeExecutable(cache, 'temporal-sdk-typescript-1.24.0');
    const found = await resolveTemporalBinary({ env: { PATH: '', HOME: cache, TMPDIR: cache }, log: quiet });
    assert.equal(found, cached);
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
});

test('dev server arguments carry persistence, search attributes and the long-poll setting', () => {
  const args = temporalDevServerArgs({ binary: 't', dbFile: '/d/t.sqlite', port: 7233, uiPort: 8233, namespace: 'default' });
  const joined = args.join(' ');
  assert.match(joined, /--db-filename \/d\/t\.sqlite/);
  assert.match(joined, /--ui-port 8233/);
  for (const sa of ['ShardflowKind=Keyword', 'ShardflowTenant=Keyword', 'ShardflowRowsTotal=Int', 'ShardflowRowsDone=Int']) {
    assert.ok(args.includes(sa), sa);
  }
  assert.ok(args.includes('matching.longPollExpirationInterval="10s"'));
  assert.ok(temporalDevServerArgs({ binary: 't', dbFile: null, port: 1, uiPort: null, namespace: 'x' }).includes('--headless'));
});

test('npm run dev checks its ports where they bind, and a conflict names the variable that moves each', () => {
  const config = loadConfig({ PORT: '8181', EMBEDDED_TEMPORAL_PORT: '7343', TEMPORAL_UI_PORT: '8343', EMBEDDED_POSTGRES_PORT: '5543', WORKER_METRICS_PORT: '9564' });
  const wanted = wantedPorts(config, devStackOptions(config, {}));
  assert.deepEqual(
    wanted.map((w) => `${w.host}:${w.port}`),
    ['127.0.0.1:8181', '127.0.0.1:9564', '127.0.0.1:7343', '127.0.0.1:8343', '127.0.0.1:5543'],
  );
  const msg = portConflictMessage(wanted);
  const line = (port: number) => msg.split('\n').find((l) => l.includes(`:${port} `)) ?? '';
  assert.match(line(8181), /set PORT to a free port/);
  assert.match(line(9564), /set WORKER_METRICS_PORT/);
  // The embedded server moves with EMBEDDED_TEMPORAL_PORT; TEMPORAL_ADDRESS only means "use another server".
  assert.match(line(7343), /the embedded Temporal server\): set EMBEDDED_TEMPORAL_PORT to a free port \(or TEMPORAL_ADDRESS=host:port to use a Temporal server that is already running instead\)/);
  assert.match(line(8343), /set TEMPORAL_UI_PORT/);
  assert.match(line(5543), /set EMBEDDED_POSTGRES_PORT to a free port \(or DATABASE_URL/);

  // The worker metrics are checked on their configured address; port 0 is not checked.
  const open = loadConfig({ WORKER_METRICS_HOST: '0.0.0.0' });
  assert.equal(wantedPorts(open, devStackOptions(open, {})).find((w) => w.what === 'the worker metrics')?.host, '0.0.0.0');
  const off = loadConfig({ WORKER_METRICS_PORT: '0' });
  assert.equal(wantedPorts(off, devStackOptions(off, {})).find((w) => w.what === 'the worker metrics'), undefined);

  // External Temporal and Postgres: their ports are not ours to check.
  const external = loadConfig({ TEMPORAL_ADDRESS: '10.0.0.5:7233', DATABASE_URL: 'postgres://u@db/x' });
  const ext = wantedPorts(external, devStackOptions(external, { TEMPORAL_ADDRESS: '10.0.0.5:7233' }));
  assert.deepEqual(ext.map((w) => w.what), ['the API', 'the worker metrics']);
});

test('pickFreePorts returns distinct ports', async () => {
  const ports = await pickFreePorts(5);
  assert.equal(new Set(ports).size, 5);
});

test('the session Postgres answers select 1 via DATABASE_URL', { skip: stackMissing }, async () => {
  const sql = postgres(testEnv().databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql`select 1 as one, current_database() as db`;
    assert.equal(row!.one, 1);
  } finally {
    await sql.end({ timeout: 5 });
  }
});

test('the session Temporal is up with the shardflow search attributes', { skip: stackMissing }, async () => {
  const env = testEnv();
  assert.equal(await probeTemporal(env.temporalAddress, env.namespace), null);
});

test('npm run dev prints one line format: its own lines, pino lines and Temporal SDK lines alike', () => {
  const plain = painter(false);
  const shape = /^\d\d:\d\d:\d\d (INFO |WARN |DEBUG|ERROR) \S/;
  const at = new Date('2026-12-01T15:10:54.321Z');
  assert.equal(devLine('info', 'READY', plain, at), '15:10:54 INFO  READY');
  assert.equal(devLine('warn', 'still not ready', plain, at), '15:10:54 WARN  still not ready');
  const pino = formatChildLine(JSON.stringify({ level: 'info', time: '2026-12-01T15:10:54.321Z', name: 'api', pid: 1, msg: 'request', status: 202 }), plain);
  assert.equal(pino, '15:10:54 INFO  request status=202');
  const sdk = formatChildLine("2026-12-01T15:10:58.315Z [INFO] Worker state changed { sdkComponent: 'worker', state: 'RUNNING' }", plain);
  assert.equal(sdk, "15:10:58 INFO  Worker state changed { sdkComponent: 'worker', state: 'RUNNING' }");
  for (const l of [devLine('info', 'x', plain), pino, sdk]) assert.match(l, shape);
  assert.equal(formatChildLine('    at foo (bar.js:1:2)', plain), '    at foo (bar.js:1:2)', 'anything else unchanged');
});

test("the Temporal SDK's webpack report of the workflow bundle is a debug line; bundle errors stay errors", () => {
  const report = 'asset workflow-bundle-43a7e3108a8aef2522cb.js 1.61 MiB [emitted] [immutable] (name: main)\nruntime modules 883 bytes 4 modules\nwebpack 5.112.2 compiled successfully in 1404 ms';
  assert.equal(temporalLogMethod('INFO', report), 'debug');
  assert.equal(temporalLogMethod('INFO', `\x1b[1m${report}\x1b[39m`), 'debug', 'also in colour');
  assert.equal(temporalLogMethod('ERROR', 'asset workflow-bundle-1.js\nwebpack 5.112.2 compiled with 1 error in 900 ms'), 'error');
  assert.equal(temporalLogMethod('INFO', 'Workflow bundle created'), 'info');
  assert.equal(temporalLogMethod('WARN', 'x'), 'warn');
  assert.equal(temporalLogMethod('TRACE', 'x'), 'trace');
});

test('the demo job: started once; npm run dev again on the same data reports it and starts no other', { skip: stackMissing }, async () => {
  const taskQueue = uniqueTaskQueue('demo');
  const dataDir = await tempDataDir('shardflow-demo-');
  const env = { TEMPORAL_TASK_QUEUE: taskQueue, SHARDFLOW_DATA_DIR: dataDir };
  const api = await startTestApi({ env });
  const worker = await startTestWorker({ taskQueue, dataDir });
  // A database kept from an earlier run may hold a demo job: this test starts from none.
  await api.deps.db.sql`delete from jobs where idempotency_key = ${DEMO_IDEMPOTENCY_KEY} and tenant_id = 'local'`;
  try {
    const demo = async () => {
      const lines: string[] = [];
      const out = await runDemo({
        config: api.deps.config,
        apiUrl: api.url,
        apiHeaders: {},
        temporalAddress: testEnv().temporalAddress,
        namespace: api.deps.config.temporal.namespace,
        taskQueue,
        databaseUrl: testEnv().databaseUrl,
        dataDir,
        log: (l) => lines.push(l),
        signal: AbortSignal.timeout(60_000),
      });
      return { ...out, lines };
    };
    const first = await demo();
    assert.equal(first.started, true);
    assert.equal(first.job.status, 'completed');
    assert.equal(first.job.result?.rows, 10_000);
    assert.match(first.lines[0]!, /^demo job job-\S+ started/);
    assert.match(first.lines.at(-1)!, /completed in [\d.]+ s: 10000 rows in /);

    const again = await demo();
    assert.equal(again.started, false);
    assert.equal(again.job.id, first.job.id);
    assert.deepEqual(again.lines, [`demo job ${first.job.id} is already there (completed, 10000 rows in ${dataDir}/jobs/${first.job.id}/); not started again`]);
    // One job with the demo's key, and no other.
    const page = (await (await api.request('/v1/jobs')).json()) as { items: { id: string }[] };
    assert.deepEqual(page.items.map((j) => j.id).filter((id) => id === first.job.id), [first.job.id]);
    const [row] = await api.deps.db.sql<{ n: number }[]>`select count(*)::int as n from jobs where idempotency_key = ${DEMO_IDEMPOTENCY_KEY} and tenant_id = 'local'`;
    assert.equal(row!.n, 1);
    assert.match(DEMO_IDEMPOTENCY_KEY, /^shardflow-dev-demo-[0-9a-f]{16}$/);
    assert.equal(DEMO_JOB.kind, 'trial');
  } finally {
    await worker.stop();
    await api.close();
  }
});
