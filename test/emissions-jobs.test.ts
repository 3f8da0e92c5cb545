/**
 * The emissions kind end to end (real API, Temporal, worker and Postgres), with hand-checked
 * examples whose factor and arithmetic are written out here: a London–New York round trip in
 * business class with RF, 10,000 kWh in Germany, 5,000 USD of custom computer programming.
 * Also: every invalid ingest line reported and nothing written unless `?partial=true`; CSV and
 * NDJSON bodies; Idempotency-Key; a second run writes no duplicates; the summary adds up.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../src/cli/cli.js';
import { createWorkerMetrics } from '../src/worker/metrics.js';
import { calculateBatch } from '../src/kinds/emissions/calculate.js';
import { ensureDefaultFactorSet } from '../src/kinds/emissions/factors.js';
import { airDistance, airKg, cpiTable, cpiYearAverage, DEFAULT_FACTOR_SET, electricityKg, priceRatio, spendKg } from '../src/kinds/emissions/reference.js';
import { stackMissing, startTestApi, type TestApi } from './support/api.js';
import { isDone, postJob, tempDataDir, waitForJob } from './support/jobs.js';
import { parseProm, valueOf } from './support/prom.js';
import { uniqueTaskQueue } from './support/stack.js';
import { startTestWorker, type TestWorker } from './support/worker.js';

let api: TestApi;
let worker: TestWorker;
let sql: postgres.Sql;
const org = `org-${process.pid}-${Date.now().toString(36)}`;
const metrics = createWorkerMetrics();

before(async () => {
  if (stackMissing) return;
  const q = uniqueTaskQueue('emissions');
  const dataDir = await tempDataDir();
  api = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: q, SHARDFLOW_DATA_DIR: dataDir } });
  worker = await startTestWorker({ taskQueue: q, dataDir, env: { WORKER_THREADS: '2' }, observer: metrics.observer });
  sql = postgres(process.env.DATABASE_URL!, { max: 2, onnotice: () => {} });
});

after(async () => {
  await worker?.stop();
  await api?.close();
  await sql?.end({ timeout: 5 });
});

const close = (actual: number, expected: number, what: string, eps = 1e-6) =>
  assert.ok(Math.abs(actual - expected) <= eps * Math.max(1, Math.abs(expected)), `${what}: ${actual} ≠ ${expected}`);

// ---- The three hand-checked examples, as pure arithmetic ----

test('London–New York round trip, business class, with RF (DESNZ 2025)', () => {
  const d = airDistance({ origin: 'LHR', destination: 'JFK', cabinClass: 'business', passengers: 1, roundTrip: true });
  // LHR 51.4706, −0.461941; JFK 40.63980103, −73.77890015 (OpenFlights): haversine, R = 6371.0088 km.
  close(d.distanceKm, 5539.651717, 'great-circle km');
  assert.equal(d.band, 'long_haul'); // one end in the UK, ≥ 3,700 km
  assert.equal(d.uplift, 1.08);
  // DESNZ 2025, Business travel- air, Long-haul to/from UK, Business class, With RF: 0.3394 kg CO2e / passenger.km (ID 21_316_3174_11_1).
  // 5539.651717 km × 1.08 = 5982.823854 km; × 0.3394 = 2030.570416 kg; × 1 passenger × 2 (round trip) = 4061.140832 kg.
  close(airKg(d.distanceKm, d.uplift, 0.3394, 1, true), 4061.140832, 'kg CO2e');
});

test('10,000 kWh in Germany (Ember grid average via @tgwf/co2 0.19.0)', () => {
  // DEU: 342.06 g CO2e/kWh = 0.34206 kg; 10,000 × 0.34206 = 3,420.6 kg.
  close(electricityKg(10_000, 0.34206), 3420.6, 'kg CO2e');
});

test('5,000 USD of custom computer programming in April 2025 (EPA USEEIO v1.2, NAICS 541511; US CPI-U to 2021 USD)', () => {
  // 0.097 kg CO2e per 2021 USD (with margins). US CPI-U (BLS CUUR0000SA0): 2021 average of the 12 months
  // 270.96975, April 2025 320.795 → 5,000 × 270.96975 / 320.795 = 4,223.409810 2021 USD × 0.097 = 409.670752 kg.
  const p = priceRatio('2025-04', 'USD', 2021);
  assert.equal(p.indexMonth, '2025-04');
  close(p.ratio, 270.96975 / 320.795, 'price ratio');
  close(spendKg(5000, 'USD', 'USD', 0.097, p.ratio), 409.670752, 'kg CO2e');
  // In EUR: 5,000 EUR × 1.1827 USD/EUR (2021 rates) = 5,913.5 USD → × the same ratio × 0.097 = 484.517598 kg.
  close(spendKg(5000, 'EUR', 'USD', 0.097, p.ratio), 484.517598, 'kg CO2e from EUR');
  // Without a price ratio (money already of 2021): 5,000 × 0.097 = 485 kg.
  close(spendKg(5000, 'USD', 'USD', 0.097), 485, 'kg CO2e in 2021 USD');
});

test('the price ratio: a month past the table uses its last, before it its first; other currencies and years it lacks are not deflated', () => {
  const t = cpiTable();
  assert.equal(t.first, '2010-01');
  assert.equal(priceRatio('2031-06', 'USD', 2021).indexMonth, t.last);
  assert.equal(priceRatio('1999-01', 'USD', 2021).indexMonth, '2010-01');
  close(priceRatio('2021-07', 'USD', 2021).ratio, 270.96975 / 273.003, 'July 2021 → the 2021 average');
  assert.deepEqual(priceRatio('2025-04', 'EUR', 2021), { ratio: 1, indexMonth: null });
  assert.deepEqual(priceRatio('2025-04', 'USD', null), { ratio: 1, indexMonth: null });
  assert.deepEqual(priceRatio('2025-04', 'USD', 1990), { ratio: 1, indexMonth: null });
  assert.equal(cpiYearAverage(2025), undefined, 'a year the table lacks a month of has no average');
});

// ---- Through the API and a job ----

async function post(path: string, body: string, type: string, headers: Record<string, string> = {}) {
  const res = await api.request(path, { method: 'POST', headers: { 'Content-Type': type, ...headers }, body });
  return { status: res.status, body: (await res.json()) as any };
}

async function runJob(spec: Record<string, unknown>, partitioning?: Record<string, unknown>) {
  const { status, body } = await postJob(api, { kind: 'emissions', spec, ...(partitioning ? { partitioning } : {}) });
  assert.equal(status, 202, JSON.stringify(body));
  const job = await waitForJob(api, body.id, isDone, 180_000);
  assert.equal(job.status, 'completed', JSON.stringify(job).slice(0, 1500));
  return job;
}

test('the three examples through POST /v1/activities and an emissions job', { skip: stackMissing }, async () => {
  const acts = [
    { type: 'air_travel', orgId: org, date: '2025-03-14', origin: 'LHR', destination: 'JFK', cabinClass: 'business', passengers: 1, roundTrip: true },
    { type: 'electricity', orgId: org, period: '2025-03', kwh: 10000, country: 'DEU' },
    { type: 'goods_services', orgId: org, period: '2025-04', amount: 5000, currency: 'USD', category: '541511' },
  ];
  const ins = await post('/v1/activities', JSON.stringify(acts), 'application/json');
  assert.equal(ins.status, 201, JSON.stringify(ins.body));
  assert.deepEqual(ins.body, { inserted: 3, rejected: [] });

  const job = await runJob({ orgId: org, batchSize: 2 });
  assert.equal(job.progress.unit, 'activities');
  assert.equal(job.progress.done, 3);
  const totals = job.result.summary.totals;
  close(job.result.summary.totalTonnesCo2e, (4061.140832 + 3420.6 + 409.670752) / 1000, 'job tonnes');
  close(totals.kgCo2e, 4061.140832 + 3420.6 + 409.670752, 'job total');
  close(totals['kgCo2e.air_travel'], 4061.140832, 'air');
  close(totals['kgCo2e.scope2'], 3420.6, 'scope 2');
  close(totals['kgCo2e.scope3'], 4061.140832 + 409.670752, 'scope 3');

  const rows = await sql`select r.*, a.type as atype from emission_results r join activities a on a.id = r.activity_id where r.org_id = ${org} order by r.type`;
  assert.equal(rows.length, 3);
  const by = Object.fromEntries(rows.map((r) => [r.type, r]));
  close(by.air_travel.kg_co2e, 4061.140832, 'air row');
  assert.equal(by.air_travel.ghg_category, 'scope3.cat6');
  assert.equal(by.air_travel.match_level, 'cabin');
  assert.equal(by.air_travel.distance_method, 'great_circle');
  close(by.air_travel.uplift, 1.08, 'uplift');
  close(by.air_travel.rf_multiplier, 0.3394 / 0.20083, 'RF multiplier (with / without RF)');
  close(by.air_travel.kg_co2, 5539.651717 * 1.08 * 2 * 0.33652, 'air CO2');
  close(by.electricity.kg_co2e, 3420.6, 'electricity row');
  close(by.electricity.kg_co2e_market, 3420.6, 'market-based without a contract = location-based');
  assert.equal(by.electricity.match_level, 'country');
  assert.equal(by.electricity.scope, 'scope2');
  close(by.goods_services.kg_co2e, 409.670752, 'spend row');
  close(by.goods_services.fx_rate, 1, 'USD → USD');
  close(by.goods_services.price_ratio, 270.96975 / 320.795, 'April 2025 USD → 2021 USD');
  assert.equal(by.goods_services.price_index_month, '2025-04');
  assert.equal(by.electricity.price_ratio, null, 'only spend is deflated');
  assert.equal(by.goods_services.ghg_category, 'scope3.cat1');
  assert.equal(by.goods_services.run_id, job.id);

  // The worker counts calculated activities by type.
  const counter = (await metrics.registry.getSingleMetric('shardflow_activities_calculated_total')!.get()).values;
  for (const t of ['electricity', 'goods_services', 'air_travel']) assert.ok((counter.find((v) => v.labels.type === t)?.value ?? 0) >= 1, `${t} counted`);
  // …and has the engine's metrics for this kind as for every other (test/ops-metrics.test.ts).
  const samples = parseProm(await metrics.registry.metrics());
  assert.ok(valueOf(samples, 'shardflow_rows_generated_total', { kind: 'emissions' }) >= 3, 'units committed, by kind');
  assert.ok(valueOf(samples, 'shardflow_shard_duration_seconds_count', { kind: 'emissions' }) >= 1, 'shards, by kind');
  assert.ok(valueOf(samples, 'shardflow_job_status_changes_total', { kind: 'emissions', from: 'running', to: 'completed' }) >= 1, 'status change, by kind');
  assert.ok(valueOf(samples, 'shardflow_job_duration_seconds_count', { kind: 'emissions' }) >= 1, 'job duration, by kind');

  // Summary: the sum of the results.
  const sum = (await (await api.request(`/v1/emissions/summary?orgId=${org}&groupBy=scope`)).json()) as any;
  close(sum.totalTonnesCo2e, (4061.140832 + 3420.6 + 409.670752) / 1000, 'summary total');
  assert.deepEqual(sum.groups.map((g: any) => [g.key, g.activities]), [['scope2', 1], ['scope3', 2]]);
  // The CLI's table: tonnes to the kilogram, activities counted, a total line.
  const printed: string[] = [];
  const cliIo = { out: (t: string) => void printed.push(t), err: (t: string) => void printed.push(t) };
  const cliCode = await runCli(['emissions', 'summary', '--org', org, '--group-by', 'scope'], { ...process.env, SHARDFLOW_URL: api.url, SHARDFLOW_KEY: '', NO_COLOR: '1' }, cliIo);
  assert.equal(cliCode, 0, printed.join('\n'));
  const cells = printed.join('\n').trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
  assert.deepEqual(cells, [['SCOPE', 'TONNES CO2E', 'ACTIVITIES'], ['scope2', '3.421', '1'], ['scope3', '4.471', '2'], ['total', '7.891', '3']]);

  // CSV export: a header and one line per result, with its provenance.
  const csvRes = await api.request(`/v1/emissions/results?orgId=${org}`);
  assert.equal(csvRes.status, 200);
  assert.match(csvRes.headers.get('content-type') ?? '', /text\/csv/);
  const csvLines = (await csvRes.text()).trim().split('\n');
  assert.equal(csvLines.length, 4);
  assert.match(csvLines[0]!, /^activity_id,org_id,type,period,scope,ghg_category,kg_co2e,/);
  assert.ok(csvLines.some((l) => l.includes('long_haul:business:with_rf') && l.includes('great_circle') && l.includes('DESNZ')));

  // A second run finds nothing pending and writes no duplicate.
  const again = await runJob({ orgId: org });
  assert.equal(again.progress.total, 0);
  const [{ n }] = await sql`select count(*)::int as n from emission_results where org_id = ${org}`;
  assert.equal(n, 3);
});

test('region → country → world fallback and a market-based contract factor', { skip: stackMissing }, async () => {
  const o = `${org}-fb`;
  const acts = [
    { type: 'electricity', orgId: o, period: '2025-01', kwh: 1000, country: 'DEU', region: 'Bavaria', contractFactor: 0.1 },
    { type: 'electricity', orgId: o, period: '2025-01', kwh: 1000, country: 'ZZZ' },
    { type: 'air_travel', orgId: o, date: '2025-01-02', origin: 'LHR', destination: 'EDI', cabinClass: 'first', passengers: 2, roundTrip: false, distanceKm: 530 },
  ];
  const body = acts.map((a) => JSON.stringify(a)).join('\n') + '\n';
  assert.equal((await post('/v1/activities', body, 'application/x-ndjson')).status, 201);
  await runJob({ orgId: o });
  const rows = await sql`select * from emission_results where org_id = ${o} order by activity_id`;
  assert.equal(rows[0]!.match_level, 'country'); // no DEU:Bavaria factor
  close(rows[0]!.kg_co2e_market, 100, 'market-based: 1,000 kWh × 0.1');
  assert.equal(rows[1]!.match_level, 'world'); // WORLD: 472.94 g/kWh
  close(rows[1]!.kg_co2e, 472.94, 'world');
  // Domestic (both ends in the UK), no "first" factor for domestic: the band's average passenger, with RF: 0.22928.
  // Reported distance: no uplift. 530 km × 0.22928 × 2 passengers = 243.0368 kg.
  assert.equal(rows[2]!.match_level, 'band_average');
  assert.equal(rows[2]!.distance_method, 'reported');
  close(rows[2]!.kg_co2e, 243.0368, 'domestic');
});

test('every invalid line is reported; nothing is written unless ?partial=true', { skip: stackMissing }, async () => {
  const o = `${org}-bad`;
  const acts = [
    { type: 'air_travel', orgId: o, date: '2025-03-14', origin: 'LHR', destination: 'XQZ', cabinClass: 'economy', passengers: 1, roundTrip: false },
    { type: 'electricity', orgId: o, period: '2025-03', kwh: -5, country: 'DEU' },
    { type: 'goods_services', orgId: o, period: '2025-03', amount: 10, currency: 'XXX', category: '541511' },
    { type: 'electricity', orgId: o, period: '2025-13', kwh: 5, country: 'DEU' },
    { type: 'electricity', orgId: o, period: '2025-02', kwh: 5, country: 'DEU' },
    // More than the integer column holds: a line error, not a failed COPY.
    { type: 'air_travel', orgId: o, date: '2025-03-14', origin: 'LHR', destination: 'CDG', cabinClass: 'economy', passengers: 3_000_000_000, roundTrip: false },
  ];
  const res = await post('/v1/activities', JSON.stringify(acts), 'application/json');
  assert.equal(res.status, 422);
  assert.equal(res.body.inserted, 0);
  assert.deepEqual(res.body.rejected.map((r: any) => r.line), [1, 2, 3, 4, 6]);
  assert.deepEqual(res.body.rejected[4].errors, ['passengers: required, an integer from 1 to 10,000']);
  assert.match(res.body.rejected[0].errors.join(), /unknown IATA code "XQZ"/);
  assert.match(res.body.rejected[1].errors.join(), /kwh: negative/);
  assert.match(res.body.rejected[2].errors.join(), /unknown currency "XXX"/);
  assert.match(res.body.rejected[3].errors.join(), /bad period "2025-13"/);
  const count = async () => (await sql`select count(*)::int as n from activities where org_id = ${o}`)[0]!.n;
  assert.equal(await count(), 0);

  const partial = await post('/v1/activities?partial=true', JSON.stringify(acts), 'application/json');
  assert.equal(partial.status, 201);
  assert.equal(partial.body.inserted, 1);
  assert.equal(partial.body.rejected.length, 5);
  assert.equal(await count(), 1);

  // CSV: line numbers count the header as line 1.
  const csv = 'type,orgId,period,kwh,country\nelectricity,' + o + ',2025-05,7,DEU\nelectricity,' + o + ',2025-05,-1,DEU\n';
  const c1 = await post('/v1/activities', csv, 'text/csv');
  assert.equal(c1.status, 422);
  assert.deepEqual(c1.body.rejected, [{ line: 3, errors: ['kwh: negative (-1)'] }]);
  assert.equal(await count(), 1);

  // A NUL (which Postgres text cannot hold) is a line error, in JSON and CSV alike, not a failed body.
  const nul = await post('/v1/activities', JSON.stringify([{ type: 'electricity', orgId: `${o}\u0000x`, period: '2025-05', kwh: 1, country: 'DEU' }]), 'application/json');
  assert.equal(nul.status, 422);
  assert.deepEqual(nul.body.rejected, [{ line: 1, errors: ['orgId: must not contain NUL (U+0000)'] }]);
  const nulCsv = await post('/v1/activities', `type,orgId,period,kwh,country\nelectricity,${o}\u0000x,2025-05,1,DEU\n`, 'text/csv');
  assert.equal(nulCsv.status, 422);
  assert.deepEqual(nulCsv.body.rejected, [{ line: 2, errors: ['orgId: must not contain NUL (U+0000)'] }]);
  assert.equal(await count(), 1);
  // …and in a query parameter, a 400 naming it.
  const q = await api.request(`/v1/emissions/summary?orgId=${encodeURIComponent(`${o}\u0000`)}`);
  assert.equal(q.status, 400);
  assert.match(JSON.stringify(await q.json()), /orgId/);
});

test('Idempotency-Key: the same request is answered again, another one is a 409', { skip: stackMissing }, async () => {
  const o = `${org}-idem`;
  const body = JSON.stringify({ type: 'electricity', orgId: o, period: '2025-06', kwh: 12, country: 'FRA' });
  const key = { 'Idempotency-Key': `k-${o}` };
  const a = await post('/v1/activities', body, 'application/json', key);
  assert.equal(a.status, 201);
  const b = await post('/v1/activities', body, 'application/json', key);
  assert.equal(b.status, 200);
  assert.deepEqual(b.body, a.body);
  const c = await post('/v1/activities', body.replace('12', '13'), 'application/json', key);
  assert.equal(c.status, 409);
  assert.equal((await sql`select count(*)::int as n from activities where org_id = ${o}`)[0]!.n, 1);
});

test('GET /v1/emission-factors lists the default set with its sources', { skip: stackMissing }, async () => {
  const res = await api.request('/v1/emission-factors?type=air_travel');
  assert.equal(res.status, 200);
  const body = (await res.json()) as any;
  const f = body.data.find((x: any) => x.key === 'long_haul:business:with_rf');
  assert.equal(f.kgCo2e, 0.3394);
  assert.equal(f.kgCo2, 0.33652);
  assert.match(f.source, /DESNZ/);
  assert.equal(f.year, 2025);
  // Every factor of the default set is a number (no header line of a data file taken for a row).
  const all = (await (await api.request('/v1/emission-factors')).json()) as any;
  assert.deepEqual(all.data.filter((x: any) => typeof x.kgCo2e !== 'number').map((x: any) => x.key), []);
});

test('a retried batch neither skips nor duplicates: the same range twice gives the same counts and no new rows', { skip: stackMissing }, async () => {
  const o = `${org}-retry`;
  const acts = Array.from({ length: 50 }, (_, i) => ({ type: 'electricity', orgId: o, period: '2025-07', kwh: i + 1, country: 'FRA' }));
  assert.equal((await post('/v1/activities', JSON.stringify(acts), 'application/json')).status, 201);
  await ensureDefaultFactorSet(sql);
  const [{ lo, hi }] = await sql`select min(id)::int as lo, max(id)::int + 1 as hi from activities where org_id = ${o}`;
  const scope = { tenantId: (await sql`select tenant_id from activities where org_id = ${o} limit 1`)[0]!.tenant_id, factorSet: DEFAULT_FACTOR_SET, orgId: o };
  const first = await calculateBatch(sql, scope, 'run-retry', lo, hi);
  const again = await calculateBatch(sql, scope, 'run-retry', lo, hi); // the attempt after a crash before the checkpoint
  assert.deepEqual(again, first);
  assert.equal(first.units, 50);
  close(first.totals['kgCo2e']!, (50 * 51 / 2) * 0.04418, 'FRA 44.18 g/kWh × 1,275 kWh');
  assert.equal((await sql`select count(*)::int as n from emission_results where org_id = ${o}`)[0]!.n, 50);
});

test('a new factor set loads by the CLI (a command) and the endpoint; a job with it keeps the old results beside the new', { skip: stackMissing }, async () => {
  const o = `${org}-set`;
  const version = `test-${process.pid}-${Date.now().toString(36)}`;
  // A made-up set for the test only (not a published figure): France at 0.05 kg CO2e/kWh.
  const set = { version, description: 'test set', factors: [{ type: 'electricity', key: 'FRA', unit: 'kWh', kgCo2e: 0.05, source: 'test fixture (not a published figure)' }] };
  const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'em-')), 'set.json');
  await fs.writeFile(file, JSON.stringify(set));
  const printed: string[] = [];
  const io = { out: (t: string) => void printed.push(t), err: (t: string) => void printed.push(t) };
  const code = await runCli(['emissions', 'load-factors', file], { ...process.env, SHARDFLOW_URL: api.url, SHARDFLOW_KEY: '', NO_COLOR: '1' }, io);
  assert.equal(code, 0, printed.join('\n'));
  assert.match(printed.join('\n'), new RegExp(`loaded factor set ${version}: 1 factors`));
  // The same version again is a 409: a set is never changed.
  const again = await post('/v1/emission-factors', JSON.stringify(set), 'application/json');
  assert.equal(again.status, 409);

  assert.equal((await post('/v1/activities', JSON.stringify({ type: 'electricity', orgId: o, period: '2025-08', kwh: 100, country: 'FRA' }), 'application/json')).status, 201);
  await runJob({ orgId: o });
  const recalc = await runJob({ orgId: o, factorSet: version, recalculate: true });
  // The diff: per organisation and type, old (default set), new, change, and the factor that moved it.
  const d = recalc.result.summary.diff;
  assert.equal(d.groupCount, 1);
  const g = d.groups[0];
  assert.equal(g.orgId, o);
  assert.equal(g.type, 'electricity');
  close(g.oldKgCo2e, 100 * 0.04418, 'old');
  close(g.newKgCo2e, 100 * 0.05, 'new');
  close(g.changeKgCo2e, 100 * (0.05 - 0.04418), 'change');
  assert.deepEqual(g.oldFactorSets, [DEFAULT_FACTOR_SET]);
  assert.equal(g.factors[0].key, 'FRA');
  const files = (await (await api.request(`/v1/jobs/${recalc.id}/files`)).json()) as any;
  assert.ok(JSON.stringify(files).includes('diff.json'));
  const rows = await sql`select factor_set, kg_co2e from emission_results where org_id = ${o} order by factor_set`;
  assert.deepEqual(rows.map((r) => r.factor_set).sort(), [DEFAULT_FACTOR_SET, version].sort());
  const kg = Object.fromEntries(rows.map((r) => [r.factor_set, r.kg_co2e]));
  close(kg[DEFAULT_FACTOR_SET], 100 * 0.04418, 'default set');
  close(kg[version], 100 * 0.05, 'new set');
  const sum = (await (await api.request(`/v1/emissions/summary?orgId=${o}&factorSet=${version}`)).json()) as any;
  close(sum.totalTonnesCo2e, 0.005, 'summary of the new set');
});

test('GET /v1/activities: pending, then calculated; keyset pages', { skip: stackMissing }, async () => {
  const o = `${org}-list`;
  const acts = Array.from({ length: 5 }, (_, i) => ({ type: 'goods_services', orgId: o, period: '2025-09', amount: 100 + i, currency: 'GBP', category: '541512' }));
  assert.equal((await post('/v1/activities', JSON.stringify(acts), 'application/json')).status, 201);
  const list = async (q: string) => (await (await api.request(`/v1/activities?orgId=${o}${q}`)).json()) as any;
  const pending = await list('&status=pending&limit=2');
  assert.equal(pending.items.length, 2);
  assert.ok(pending.nextCursor);
  assert.equal(pending.items[0].status, 'pending');
  assert.equal(pending.items[0].amount, 104); // newest first
  const rest = await list(`&status=pending&limit=10&cursor=${pending.nextCursor}`);
  assert.deepEqual(rest.items.map((a: any) => a.amount), [102, 101, 100]);
  assert.equal(rest.nextCursor, null);
  await runJob({ orgId: o });
  assert.equal((await list('&status=pending')).items.length, 0);
  const calc = await list('&status=calculated');
  assert.equal(calc.items.length, 5);
  // 100 GBP of September 2025 at 2021 rates: 100 × 1.1827 / 0.8596 USD, × CPI-U 270.96975 (2021) / 324.800 (2025-09)
  // to 2021 USD, × 0.077 kg/USD (NAICS 541512).
  const [r] = await sql`select kg_co2e, fx_rate, price_index_month from emission_results r join activities a on a.id = r.activity_id where a.org_id = ${o} and a.amount = 100`;
  close(r!.kg_co2e, 100 * (1.1827 / 0.8596) * (270.96975 / 324.8) * 0.077, 'GBP spend');
  close(r!.fx_rate, 1.1827 / 0.8596, 'GBP → USD');
  assert.equal(r!.price_index_month, '2025-09');
});

test("the EPA's own CSV loads as a factor set (shardflow emissions load-epa)", { skip: stackMissing }, async () => {
  // Three rows in the EPA file's layout (v1.2, figures as published; see docs/EMISSIONS.md).
  const csv = [
    '"2017 NAICS Code","2017 NAICS Title","GHG","Unit","Supply Chain Emission Factors without Margins","Margins of Supply Chain Emission Factors","Supply Chain Emission Factors with Margins","Reference USEEIO Code"',
    '111110,"Soybean Farming","All GHGs","kg CO2e/2021 USD, purchaser price",1.223,0.103,1.326,"1111A0"',
    '541511,"Custom Computer Programming Services","All GHGs","kg CO2e/2021 USD, purchaser price",0.097,0,0.097,"541511"',
    '237310,"Highway, Street, and Bridge Construction","All GHGs","kg CO2e/2021 USD, purchaser price",0.297,0,0.297,"2332C0"',
  ].join('\r\n');
  const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'epa-')), 'epa.csv');
  await fs.writeFile(file, csv);
  const version = `epa-${process.pid}-${Date.now().toString(36)}`;
  const printed: string[] = [];
  const io = { out: (t: string) => void printed.push(t), err: (t: string) => void printed.push(t) };
  const code = await runCli(['emissions', 'load-epa', file, '--set-version', version], { ...process.env, SHARDFLOW_URL: api.url, SHARDFLOW_KEY: '', NO_COLOR: '1' }, io);
  assert.equal(code, 0, printed.join('\n'));
  const body = (await (await api.request(`/v1/emission-factors?factorSet=${version}`)).json()) as any;
  assert.deepEqual(body.data.map((f: any) => [f.key, f.kgCo2e, f.currency, f.baseYear]), [['111110', 1.326, 'USD', 2021], ['237310', 0.297, 'USD', 2021], ['541511', 0.097, 'USD', 2021]]);
  assert.equal(body.data[1].label, 'Highway, Street, and Bridge Construction');
});
