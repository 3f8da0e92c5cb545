import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from '../src/config.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected loadConfig to throw');
}

test('PORT=abc is a ConfigError naming PORT', () => {
  const err = configError({ PORT: 'abc' });
  assert.equal(err.variable, 'PORT');
  assert.match(err.message, /PORT/);
  assert.match(err.message, /"abc"/);
});

test('SHARDFLOW_AUTH=off is refused unless HOST is loopback', () => {
  const err = configError({ SHARDFLOW_AUTH: 'off', HOST: '0.0.0.0' });
  assert.equal(err.variable, 'SHARDFLOW_AUTH');
  assert.equal(loadConfig({ SHARDFLOW_AUTH: 'off', HOST: '127.0.0.1' }).auth, 'off');
});

test('auth defaults: off on loopback, required elsewhere', () => {
  assert.equal(loadConfig({}).auth, 'off');
  assert.equal(loadConfig({ HOST: '0.0.0.0' }).auth, 'required');
  assert.equal(loadConfig({ HOST: '::1' }).auth, 'off');
});

test('defaults', () => {
  const c = loadConfig({});
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.port, 8080);
  assert.equal(c.logLevel, 'info');
  assert.deepEqual(
    { address: c.temporal.address, namespace: c.temporal.namespace, taskQueue: c.temporal.taskQueue, uiPort: c.temporal.uiPort },
    { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'shardflow', uiPort: 8233 },
  );
  assert.equal(c.database.url, undefined);
  assert.equal(c.database.poolMax, 10);
  assert.ok(path.isAbsolute(c.dataDir));
  assert.equal(path.basename(c.dataDir), '.shardflow');
  assert.equal(c.demo, true);
  assert.equal(c.worker.metricsPort, 9464);
  assert.equal(c.worker.metricsHost, '127.0.0.1', 'worker metrics listen on loopback, like the API');
  assert.equal(c.readyWorkerMaxAgeSeconds, 75);
});

test('empty strings count as unset', () => {
  assert.equal(loadConfig({ PORT: '', DATABASE_URL: '' }).port, 8080);
});

test('DATABASE_URL must be a postgres URL; TEMPORAL_ADDRESS host:port', () => {
  assert.equal(configError({ DATABASE_URL: 'mysql://x' }).variable, 'DATABASE_URL');
  assert.equal(configError({ TEMPORAL_ADDRESS: 'localhost' }).variable, 'TEMPORAL_ADDRESS');
});

function runApi(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/api/main.ts'], {
      cwd: root,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

test('the API exits 2 with one line naming PORT when PORT=abc', async () => {
  const { code, stderr } = await runApi({ ...process.env, PORT: 'abc' });
  assert.equal(code, 2);
  assert.match(stderr, /PORT/);
  assert.equal(stderr.trim().split('\n').length, 1, stderr);
});

test('the API exits 2 naming DATABASE_URL when it is not set', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0' };
  delete env.DATABASE_URL;
  const { code, stderr } = await runApi(env);
  assert.equal(code, 2);
  assert.match(stderr, /DATABASE_URL/);
});

test('SHARDFLOW_POSTGRES_TARGETS: a JSON object of name → postgres URL; errors never repeat a URL', () => {
  assert.deepEqual(loadConfig({}).postgresTargets, {});
  const url = 'postgres://u:s3cret@db.example:5432/warehouse';
  assert.deepEqual(loadConfig({ SHARDFLOW_POSTGRES_TARGETS: JSON.stringify({ warehouse: url }) }).postgresTargets, { warehouse: url });
  for (const bad of ['{not json s3cret', JSON.stringify([url]), JSON.stringify({ warehouse: 'mysql://u:s3cret@x/y' }), JSON.stringify({ 'Bad Name': url })]) {
    const err = configError({ SHARDFLOW_POSTGRES_TARGETS: bad });
    assert.equal(err.variable, 'SHARDFLOW_POSTGRES_TARGETS');
    assert.doesNotMatch(err.message, /s3cret/);
  }
  assert.doesNotMatch(configError({ DATABASE_URL: 'mysql://u:s3cret@x/y' }).message, /s3cret/);
});

test('WORKER_METRICS_HOST: the worker metrics address, loopback unless set', () => {
  assert.equal(loadConfig({ WORKER_METRICS_HOST: '0.0.0.0' }).worker.metricsHost, '0.0.0.0');
  assert.equal(loadConfig({ WORKER_METRICS_HOST: '' }).worker.metricsHost, '127.0.0.1');
});

test('every variable loadConfig reads is in README.md\'s table and in .env.example', () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const example = readFileSync(path.join(root, '.env.example'), 'utf8');
  assert.ok(CONFIG_VARIABLES.length > 20);
  for (const v of CONFIG_VARIABLES) {
    assert.match(readme, new RegExp(`^\\| \`${v}\` \\|`, 'm'), `README.md's configuration table lists ${v}`);
    assert.match(example, new RegExp(`^(# )?${v}=`, 'm'), `.env.example lists ${v}`);
  }
});
