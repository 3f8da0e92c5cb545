/**
 * The monitoring files the compose stack ships, checked without Docker:
 *
 *   - deploy/prometheus/alerts.yml: `promtool check rules` (and its rule count), and
 *     `promtool test rules deploy/prometheus/alerts.test.yml`, where every alert fires on synthetic
 *     data and stays quiet on healthy data;
 *   - deploy/prometheus/prometheus.yml: `promtool check config` on the file itself (its rule_files
 *     path is relative, so it resolves here as in the container; nothing is rewritten);
 *   - deploy/grafana: the dashboard JSON parses, every panel and query uses the provisioned
 *     datasource uid, every query parses as PromQL (promtool, as recording rules), and the
 *     dashboard provider reads the folder docker-compose.yml mounts;
 *   - every metric name in an alert or a panel is one shardflow exposes (METRICS below, the
 *     names the API and the worker register), one the Temporal SDK defines (read from the installed
 *     @temporalio/core-bridge sources), one of prom-client's default metrics (read from the
 *     installed prom-client) or one Prometheus makes itself (`up`, `ALERTS`): a renamed metric fails;
 *   - docker-compose.yml: a healthcheck on every long-running service, worker metrics reachable;
 *   - src/dev/promtool-binary.ts: where it looks, and what it says when nothing is there.
 *
 * promtool: PROMTOOL, PATH or Go's bin folder (src/dev/promtool-binary.ts; .ci/run builds it with
 * `go install` and exports PROMTOOL). This file only looks, it never builds. Missing under CI
 * (CI set, not "false"/"0"): the promtool tests fail saying so; elsewhere they are skipped with
 * the reason and the command that installs it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { PROMTOOL_INSTALL, PromtoolNotFoundError, resolvePromtoolBinary } from '../src/dev/promtool-binary.js';
import { needsPromtool, runPromtool } from './support/promtool.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const at = (...p: string[]) => path.join(root, ...p);
const readYaml = (file: string) => YAML.parse(fs.readFileSync(at(file), 'utf8'));

const ALERTS_FILE = 'deploy/prometheus/alerts.yml';
const ALERTS_TEST_FILE = 'deploy/prometheus/alerts.test.yml';
const PROMETHEUS_CONFIG = 'deploy/prometheus/prometheus.yml';
const DASHBOARD = 'deploy/grafana/dashboards/shardflow.json';
const DASHBOARD_PROVIDER = 'deploy/grafana/provisioning/dashboards/shardflow.yml';
const DATASOURCES = 'deploy/grafana/provisioning/datasources/prometheus.yml';

/** Every alert deploy/prometheus/alerts.yml defines (a rule added or dropped changes this list). */
const ALERT_NAMES = [
  'ShardflowJobStuck',
  'ShardflowShardRetriesHigh',
  'ShardflowWorkerDown',
  'ShardflowNoWorkers',
  'ShardflowWorkerNotPolling',
  'ShardflowDataDiskLow',
  'ShardflowDataDiskFillingUp',
];

type MetricType = 'counter' | 'gauge' | 'histogram';
/** What the API (scrape job shardflow-api) and the worker (shardflow-worker) register, besides default process metrics. */
const METRICS: Record<'api' | 'worker', Record<string, MetricType>> = {
  api: {
    http_requests_total: 'counter',
    http_request_duration_seconds: 'histogram',
    shardflow_jobs: 'gauge',
    shardflow_db_connections: 'gauge',
    shardflow_data_disk_free_bytes: 'gauge',
    shardflow_data_disk_size_bytes: 'gauge',
    shardflow_db_pool_max: 'gauge',
    shardflow_job_status_changes_total: 'counter',
  },
  worker: {
    shardflow_rows_generated_total: 'counter',
    shardflow_bytes_written_total: 'counter',
    shardflow_shard_duration_seconds: 'histogram',
    shardflow_shard_retries_total: 'counter',
    shardflow_shard_postgres_waits_total: 'counter',
    shardflow_job_duration_seconds: 'histogram',
    shardflow_job_status_changes_total: 'counter',
    shardflow_worker_shards_running: 'gauge',
    shardflow_worker_shards_max: 'gauge',
    shardflow_worker_memory_guard_engaged: 'gauge',
    shardflow_worker_memory_limit_bytes: 'gauge',
    shardflow_jobs_expired_total: 'counter',
    shardflow_activities_calculated_total: 'counter',
  },
};

/** Series Prometheus writes itself (per scrape target, and for alert state). */
const PROMETHEUS_SYNTHETIC = ['up', 'ALERTS', 'ALERTS_FOR_STATE', 'scrape_duration_seconds', 'scrape_samples_scraped'];

// ---------------------------------------------------------------------------------------------
// promtool

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const alertRules = (): Rule[] => (readYaml(ALERTS_FILE).groups as { rules: Rule[] }[]).flatMap((g) => g.rules);

test('promtool check rules: alerts.yml is valid, with every expected rule', needsPromtool, async () => {
  const { code, out } = await runPromtool(['check', 'rules', ALERTS_FILE]);
  assert.equal(code, 0, out);
  const rules = alertRules();
  assert.deepEqual(rules.map((r) => r.alert).sort(), [...ALERT_NAMES].sort());
  assert.match(out, new RegExp(`SUCCESS: ${ALERT_NAMES.length} rules found`), out);
});

test('promtool check config: prometheus.yml as it is (rule_files relative to it, no rewrite)', needsPromtool, async () => {
  const config = readYaml(PROMETHEUS_CONFIG);
  assert.deepEqual(config.rule_files, ['alerts.yml'], 'a relative path resolves next to the config, here and in /etc/prometheus/');
  const { code, out } = await runPromtool(['check', 'config', PROMETHEUS_CONFIG]);
  assert.equal(code, 0, out);
  assert.match(out, /SUCCESS: 1 rule files found/, out);
  assert.match(out, new RegExp(`SUCCESS: ${ALERT_NAMES.length} rules found`), out);
});

test('promtool test rules: each alert fires on synthetic data and stays quiet on healthy data', needsPromtool, async () => {
  const { code, out } = await runPromtool(['test', 'rules', ALERTS_TEST_FILE]);
  assert.equal(code, 0, out);
  assert.match(out, /SUCCESS/, out);
});

test('alerts.test.yml shows every alert both firing and quiet', () => {
  const doc = readYaml(ALERTS_TEST_FILE) as {
    rule_files: string[];
    tests: { name: string; alert_rule_test: { alertname: string; exp_alerts: unknown[] | null }[] }[];
  };
  assert.deepEqual(doc.rule_files, ['alerts.yml']);
  const fires = new Set<string>();
  const quiet = new Set<string>();
  for (const t of doc.tests) {
    for (const a of t.alert_rule_test) (a.exp_alerts?.length ? fires : quiet).add(a.alertname);
  }
  for (const name of ALERT_NAMES) {
    assert.ok(fires.has(name), `${name}: no case where it fires`);
    assert.ok(quiet.has(name), `${name}: no case where it stays quiet`);
  }
});

test('every alert has a severity, a summary and a description', () => {
  for (const r of alertRules()) {
    assert.ok(['warning', 'critical'].includes(r.labels?.severity ?? ''), `${r.alert}: severity warning|critical`);
    assert.ok(r.annotations?.summary, `${r.alert}: summary`);
    assert.ok(r.annotations?.description, `${r.alert}: description`);
  }
});

// ---------------------------------------------------------------------------------------------
// metric names

/**
 * The metric names a PromQL expression selects. Strings, label matchers, ranges, grouping label
 * lists and function names are taken out first; what is left that looks like a name is a metric.
 */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w:.$])[A-Za-z_:][\w:]*/g)) {
    const rest = stripped.slice(m.index! + m[0].length);
    if (/^\s*\(/.test(rest)) continue; // a function (or an aggregation) call
    if (keywords.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names].sort();
}

test('metricNames reads PromQL the way the checks below need', () => {
  assert.deepEqual(
    metricNames('histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{job="shardflow-api",x=~"a|b"}[$__rate_interval])))'),
    ['http_request_duration_seconds_bucket'],
  );
  assert.deepEqual(
    metricNames('count_over_time((sum by (kind) (shardflow_jobs{status="running"}) > 0)[15m:1m]) >= 15 unless on (kind) sum by (kind) (increase(shardflow_rows_generated_total[15m])) > 0'),
    ['shardflow_jobs', 'shardflow_rows_generated_total'],
  );
  assert.deepEqual(metricNames('predict_linear(a_bytes[1h], 6 * 3600) < 1e9 and on() b offset 5m'), ['a_bytes', 'b']);
});

const require = createRequire(import.meta.url);

/** Metric names the installed Temporal SDK (Core, via @temporalio/core-bridge) defines, with the TS SDK's `temporal_` prefix. */
function temporalSdkMetrics(): Set<string> {
  const bridge = path.dirname(createRequire(require.resolve('@temporalio/worker')).resolve('@temporalio/core-bridge/package.json'));
  const sources = [
    'sdk-core/crates/sdk-core/src/telemetry/metrics.rs',
    'sdk-core/crates/common/src/telemetry/metrics.rs',
    'sdk-core/crates/client/src/metrics.rs',
  ].map((f) => path.join(bridge, f));
  const names = new Set<string>();
  for (const file of sources) {
    assert.ok(fs.existsSync(file), `Temporal SDK metric definitions moved: ${file} is gone (update temporalSdkMetrics)`);
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/name:\s*"([a-z_]+)"\.into\(\)|&str\s*=\s*"([a-z_]+)"/g)) names.add(`temporal_${m[1] ?? m[2]}`);
  }
  return names;
}

/** prom-client's default metrics (collectDefaultMetrics), from the installed package. */
function promClientDefaultMetrics(): Set<string> {
  const dir = path.join(path.dirname(require.resolve('prom-client/package.json')), 'lib', 'metrics');
  const names = new Set<string>();
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.js'))) {
    for (const m of fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/'((?:process|nodejs)_[a-z_]+)'/g)) names.add(m[1]!);
  }
  return names;
}

test('the Temporal SDK and prom-client still define the library metrics the dashboard and alerts use', () => {
  const temporal = temporalSdkMetrics();
  for (const n of ['temporal_worker_task_slots_available', 'temporal_worker_task_slots_used', 'temporal_num_pollers']) {
    assert.ok(temporal.has(n), `${n} is not defined by the installed Temporal SDK`);
  }
  const proc = promClientDefaultMetrics();
  assert.ok(proc.has('process_resident_memory_bytes'), 'prom-client no longer defines process_resident_memory_bytes');
});

function knownMetric(name: string, temporal: Set<string>, proc: Set<string>): boolean {
  const own = { ...METRICS.api, ...METRICS.worker };
  if (own[name] || temporal.has(name) || proc.has(name) || PROMETHEUS_SYNTHETIC.includes(name)) return true;
  const hist = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (!hist) return false;
  // shardflow's histograms by type; the SDK's latencies are histograms in the Prometheus exporter
  return own[hist[1]!] === 'histogram' || temporal.has(hist[1]!) || proc.has(hist[1]!);
}

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: { expr?: string; refId: string; datasource?: { type?: string; uid?: string } }[];
  panels?: Panel[];
  gridPos?: { h: number; w: number; x: number; y: number };
}
const dashboard = () => JSON.parse(fs.readFileSync(at(DASHBOARD), 'utf8')) as { uid: string; title: string; panels: Panel[] };
const allPanels = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
const queryPanels = () => allPanels(dashboard().panels).filter((p) => p.type !== 'row');

test('every metric in an alert or a panel is exposed by shardflow, the Temporal SDK, prom-client or Prometheus', () => {
  const temporal = temporalSdkMetrics();
  const proc = promClientDefaultMetrics();
  const exprs = [
    ...alertRules().map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })),
    ...queryPanels().flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr ?? '' }))),
  ];
  const used = new Set<string>();
  const unknown: string[] = [];
  for (const { where, expr } of exprs) {
    const names = metricNames(expr);
    assert.ok(names.length > 0, `${where}: no metric found in ${expr}`);
    for (const n of names) {
      used.add(n);
      if (!knownMetric(n, temporal, proc)) unknown.push(`${where}: ${n}`);
    }
  }
  assert.deepEqual(unknown, [], `metrics nobody exposes:\n${unknown.join('\n')}`);
  // the dashboard covers what the brief lists: every shardflow metric but none left out silently
  const own = Object.keys({ ...METRICS.api, ...METRICS.worker });
  const shown = own.filter((n) => [...used].some((u) => u === n || u.startsWith(`${n}_`)));
  assert.deepEqual(shown.sort(), own.sort(), 'every shardflow metric is on the dashboard or in an alert');
});

// ---------------------------------------------------------------------------------------------
// Grafana

test('dashboard JSON: every panel and query uses the provisioned Prometheus datasource uid', () => {
  const sources = readYaml(DATASOURCES).datasources as { uid: string; type: string }[];
  assert.equal(sources.length, 1);
  const { uid, type } = sources[0]!;
  assert.equal(type, 'prometheus');
  const dash = dashboard();
  assert.equal(dash.uid, 'shardflow');
  const panels = queryPanels();
  assert.ok(panels.length >= 15, `only ${panels.length} panels`);
  const ids = allPanels(dash.panels).map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  for (const p of panels) {
    assert.deepEqual(p.datasource, { type, uid }, `panel "${p.title}"`);
    assert.ok(p.targets?.length, `panel "${p.title}" has no query`);
    for (const t of p.targets!) assert.deepEqual(t.datasource, { type, uid }, `panel "${p.title}" query ${t.refId}`);
    assert.ok(p.gridPos && p.gridPos.w > 0 && p.gridPos.h > 0 && p.gridPos.x + p.gridPos.w <= 24, `panel "${p.title}" gridPos`);
  }
  const titles = panels.map((p) => p.title);
  for (const want of [
    'Throughput by kind',
    'Bytes written by kind / format',
    'Active jobs by kind / status',
    'Job duration p50 / p95',
    'Shard retries and Postgres waits (30 min)',
    'Shard duration p95',
    'API latency p95 by route',
    'API requests by status',
    'Worker slots',
    'Process memory (RSS)',
    'Memory guard engaged',
    'Postgres connections',
    'Data disk free',
  ]) {
    assert.ok(titles.includes(want), `no panel "${want}"`);
  }
});

test('every panel query parses as PromQL (promtool check rules on them as recording rules)', needsPromtool, async () => {
  const rules = queryPanels().flatMap((p) =>
    (p.targets ?? []).map((t, i) => ({
      record: `dashboard:panel_${p.id}:${i}`,
      // Grafana's own variables, as Grafana would fill them in
      expr: (t.expr ?? '').replaceAll('$__rate_interval', '1m').replaceAll('$__interval', '15s').replaceAll('$__range', '6h'),
    })),
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-promql-'));
  try {
    const file = path.join(dir, 'panels.yml');
    fs.writeFileSync(file, YAML.stringify({ groups: [{ name: 'dashboard', rules }] }));
    const { code, out } = await runPromtool(['check', 'rules', '--lint=none', file]);
    assert.equal(code, 0, out);
    assert.match(out, new RegExp(`SUCCESS: ${rules.length} rules found`), out);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------
// docker-compose.yml

interface Service {
  image?: string;
  command?: string[];
  healthcheck?: { test: string[] };
  environment?: Record<string, string | number>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
}
const compose = () => readYaml('docker-compose.yml') as { services: Record<string, Service> };
const mountsOf = (s: Service) =>
  (s.volumes ?? []).map((v) => {
    const [src, target] = v.split(':');
    return { src: src!, target: target! };
  });

test('docker-compose.yml: a healthcheck on every long-running service', () => {
  const { services } = compose();
  for (const [name, s] of Object.entries(services)) {
    if (s.restart === 'no') continue; // one-shot (temporal-setup): others wait for it to exit 0
    assert.ok(s.healthcheck?.test?.length, `${name} has no healthcheck`);
  }
  assert.match(services.api!.healthcheck!.test.join(' '), /\/health\/ready/);
  assert.match(services.worker!.healthcheck!.test.join(' '), /127\.0\.0\.1:9464\/health\b/);
  assert.match(services.prometheus!.healthcheck!.test.join(' '), /\/-\/healthy/);
  assert.match(services.grafana!.healthcheck!.test.join(' '), /\/api\/health/);
  assert.match(services['temporal-ui']!.healthcheck!.test.join(' '), /\/healthz/);
  // the API is ready only once a worker polls, so a worker waiting for a healthy API would wait forever
  assert.notEqual(services.worker!.depends_on?.api?.condition, 'service_healthy');
});

test('docker-compose.yml: Prometheus reads both files from one folder, Grafana the dashboards the provider names', () => {
  const { services } = compose();
  const prom = services.prometheus!;
  const configFlag = prom.command!.find((c) => c.startsWith('--config.file='))!.split('=')[1]!;
  const mounts = mountsOf(prom);
  const target = (src: string) => mounts.find((m) => m.src === src)?.target;
  assert.equal(target(`./${PROMETHEUS_CONFIG}`), configFlag);
  assert.equal(target(`./${ALERTS_FILE}`), path.posix.join(path.posix.dirname(configFlag), 'alerts.yml'));

  const provider = readYaml(DASHBOARD_PROVIDER).providers[0] as { type: string; options: { path: string } };
  assert.equal(provider.type, 'file');
  const grafana = mountsOf(services.grafana!);
  assert.equal(grafana.find((m) => m.src === './deploy/grafana/dashboards')?.target, provider.options.path);
  assert.equal(grafana.find((m) => m.src === './deploy/grafana/provisioning')?.target, '/etc/grafana/provisioning');
});

test('docker-compose.yml: every worker replica serves metrics where Prometheus looks for them', () => {
  const { services } = compose();
  const env = services.worker!.environment!;
  assert.equal(env.WORKER_METRICS_HOST, '0.0.0.0');
  const workerJob = (readYaml(PROMETHEUS_CONFIG).scrape_configs as { job_name: string; dns_sd_configs?: { names: string[]; port: number }[] }[]).find(
    (j) => j.job_name === 'shardflow-worker',
  )!;
  assert.deepEqual(workerJob.dns_sd_configs?.[0]?.names, ['worker'], 'DNS discovery of the compose service finds every replica');
  assert.equal(workerJob.dns_sd_configs?.[0]?.port, Number(env.WORKER_METRICS_PORT));
});

// ---------------------------------------------------------------------------------------------
// the resolver

test('resolvePromtoolBinary: PROMTOOL, then PATH; a wrong PROMTOOL is an error; nothing found lists every place', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promtool-resolve-'));
  try {
    const fake = path.join(dir, 'bin', 'promtool');
    fs.mkdirSync(path.dirname(fake));
    fs.writeFileSync(fake, '#!/bin/sh\necho fake\n', { mode: 0o755 });
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty);
    const home = path.join(dir, 'home');
    const quiet = { log: () => {}, allowBuild: false };

    assert.equal(await resolvePromtoolBinary({ ...quiet, env: { PROMTOOL: fake, PATH: empty } }), fake);
    assert.equal(await resolvePromtoolBinary({ ...quiet, env: { PATH: `${empty}${path.delimiter}${path.dirname(fake)}`, HOME: home } }), fake);

    const notExec = path.join(dir, 'not-exec');
    fs.writeFileSync(notExec, '', { mode: 0o644 });
    await assert.rejects(resolvePromtoolBinary({ ...quiet, env: { PROMTOOL: notExec, PATH: path.dirname(fake) } }), (err: unknown) => {
      assert.ok(err instanceof PromtoolNotFoundError);
      assert.match(err.message, /PROMTOOL=.*not-exec: not executable/);
      return true;
    });

    await assert.rejects(resolvePromtoolBinary({ ...quiet, env: { PATH: empty, HOME: home } }), (err: unknown) => {
      assert.ok(err instanceof PromtoolNotFoundError);
      assert.deepEqual(
        err.attempts.map((a) => a.place),
        ['PROMTOOL', 'PATH', path.join(home, 'go', 'bin', 'promtool'), `go install ${PROMTOOL_INSTALL}`],
      );
      assert.match(err.message, /go install github\.com\/prometheus\/prometheus\/cmd\/promtool@v0\.316\.0/);
      return true;
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
