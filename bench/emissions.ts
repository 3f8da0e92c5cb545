/**
 * Benchmark of the `emissions` kind: N pending activities (default 1,000,000; a mix of 40 %
 * electricity, 30 % goods_services, 30 % air_travel with valid keys), calculated by an emissions
 * job, against Postgres doing the same arithmetic in one set-based pass; and the event-driven
 * latency (ingest one activity → its result exists). Every ratio is measured in the same run.
 *
 *     npm run bench -- emissions [--activities N] [--only job,latency] [--batch-size N] [--latency-runs 100] [--json out.json] [--verbose]
 *
 * Setup as bench/relational.ts: a private stack (src/dev/stack.ts via test/support/stack.ts:
 * Temporal dev server + embedded Postgres, fsync off), the API in this process, a real worker child
 * process on a private task queue.
 *
 *   insert   (not the measured figure; printed) the N activities by ONE set-based statement,
 *            INSERT … SELECT … FROM generate_series into `activities` (tenant `local`, 50 orgs, 2025):
 *            electricity in 8 countries (a quarter with a region no factor has: the country fallback),
 *            spend in 3 currencies over the default set's NAICS codes (1 in 50 of all rows an unknown code: unmatched),
 *            flights over 12 airport pairs (domestic, short, long haul, international; the great-circle
 *            distance and the countries computed by reference.ts as the ingest does). Then ANALYZE.
 *   floor    the kind's own batch SQL (calculate.ts calculateBatch) over the WHOLE id range as one
 *            batch: one INSERT … SELECT … JOIN factors per type, one transaction, no checkpoints,
 *            into a scratch `emission_results` (schema bench_em_floor, LIKE the real one INCLUDING
 *            ALL: the same columns, defaults and indexes) found first on the connection's search_path.
 *   job      POST /v1/jobs {kind:'emissions', spec:{}} → completed (default partitioning and batch
 *            size). Checked: one result per matched activity, totals = the floor's.
 *            ratio = job seconds / floor seconds (target ≤ 1.5).
 *   latency  with SHARDFLOW_EMISSIONS_AUTO on (the default): POST /v1/activities with one activity,
 *            then the time until its row exists in emission_results (polled every 10 ms); median of
 *            --latency-runs (default 100; target ≤ 3 s).
 *
 * Exit code 0 even when a target is missed; 1 when a job fails or a check does not hold.
 */
import fs from 'node:fs';
import os from 'node:os';
import postgres from 'postgres';
import { loadConfig } from '../src/config.js';
import { createDb } from '../src/db/client.js';
import { createLogger } from '../src/log.js';
import { startApiServer } from '../src/api/server.js';
import { connectTemporal } from '../src/api/temporal.js';
import { delay } from '../src/dev/process.js';
import { builtInKinds } from '../src/kinds/index.js';
import { calculateBatch } from '../src/kinds/emissions/calculate.js';
import { ensureDefaultFactorSet } from '../src/kinds/emissions/factors.js';
import { DEFAULT_BATCH_SIZE } from '../src/kinds/emissions/spec.js';
import { airportIndex, DEFAULT_FACTOR_SET, greatCircleKm } from '../src/kinds/emissions/reference.js';
import { startTestStack, uniqueTaskQueue } from '../test/support/stack.js';
import { printMarkdownTable, runJob, startWorker, type WorkerProc } from './trial.js';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
function opt(name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}
const SCENARIOS = ['job', 'latency'] as const;
const N = Number(opt('activities') ?? 1_000_000);
const only = (opt('only')?.split(',').map((s) => s.trim()).filter(Boolean) ?? [...SCENARIOS]) as Array<(typeof SCENARIOS)[number]>;
const latencyRuns = Number(opt('latency-runs') ?? 100);
/** The job's spec.batchSize (default: the kind's, DEFAULT_BATCH_SIZE). */
const batchSize = opt('batch-size') === undefined ? undefined : Number(opt('batch-size'));
const jsonOut = opt('json');
if (!Number.isInteger(N) || N < 100 || !Number.isInteger(latencyRuns) || latencyRuns < 1 || only.some((s) => !SCENARIOS.includes(s))) {
  process.stderr.write('usage: npm run bench -- emissions [--activities N ≥ 100] [--only job,latency] [--batch-size N] [--latency-runs N] [--json out.json] [--verbose]\n');
  process.exit(2);
}

const TENANT = 'local'; // the API's tenant with auth off
const FLOOR_SCHEMA = 'bench_em_floor';
const JOB_TARGET = 1.5;
const LATENCY_TARGET_S = 3;
const log = (l: string) => process.stderr.write(`[bench] ${l}\n`);
const f2 = (n: number) => n.toFixed(2);

const COUNTRIES = ['DEU', 'FRA', 'GBR', 'USA', 'CHN', 'IND', 'BRA', 'JPN'];
const PAIRS = [
  ['LHR', 'JFK'], ['LHR', 'CDG'], ['LHR', 'EDI'], ['MAN', 'AMS'], ['LHR', 'SIN'], ['LHR', 'DXB'],
  ['JFK', 'LAX'], ['CDG', 'FRA'], ['SYD', 'MEL'], ['EDI', 'LGW'], ['FRA', 'NRT'], ['GLA', 'BHD'],
];
const CABINS = ['economy', 'premium_economy', 'business', 'first', 'average'];

/** One INSERT … SELECT … FROM generate_series: `n` activities of `tenant`, ids in one run of the sequence. */
async function insertActivities(sql: postgres.Sql, n: number): Promise<void> {
  const ap = airportIndex();
  const pairs = PAIRS.map(([o, d]) => {
    const a = ap.get(o!)!;
    const b = ap.get(d!)!;
    return { o, d, km: greatCircleKm(a, b), oc: a.country, dc: b.country };
  });
  const [cats] = await sql<{ keys: string[] }[]>`
    select array_agg(key order by key) as keys from emission_factors where factor_set = ${DEFAULT_FACTOR_SET} and type = 'goods_services'`;
  const categories = [...cats!.keys];
  await sql`
    with p as (select (row_number() over ()) - 1 as k, * from jsonb_to_recordset(${JSON.stringify(pairs)}::text::jsonb)
      as x(o text, d text, km float8, oc text, dc text))
    insert into activities (tenant_id, org_id, type, period, kwh, country, region, contract_factor, amount, currency, category,
      activity_date, origin, destination, cabin_class, passengers, round_trip, distance_km, gc_distance_km, origin_country, destination_country)
    select ${TENANT}, 'bench-org-' || (i % 50), t.type, '2025-' || lpad((1 + i % 12)::text, 2, '0'),
      case when t.type = 'electricity' then 100 + (i * 7919 % 100000) end,
      case when t.type = 'electricity' then (${COUNTRIES}::text[])[1 + i % ${COUNTRIES.length}] end,
      case when t.type = 'electricity' and i % 4 = 0 then 'R' || (i % 3) end,
      case when t.type = 'electricity' and i % 5 = 0 then 0.1 + (i % 7) * 0.05 end,
      case when t.type = 'goods_services' then round(((i * 104729 % 1000000) / 100.0)::numeric, 2)::float8 end,
      case when t.type = 'goods_services' then (array['USD', 'EUR', 'GBP'])[1 + i % 3] end,
      case when t.type = 'goods_services' then case when i % 50 = 5 then '999999' else (${categories}::text[])[1 + i % ${categories.length}] end end,
      case when t.type = 'air_travel' then make_date(2025, (1 + i % 12)::int, (1 + i % 28)::int) end,
      p.o, p.d,
      case when t.type = 'air_travel' then (${CABINS}::text[])[1 + i % ${CABINS.length}] end,
      case when t.type = 'air_travel' then (1 + i % 3)::int end,
      case when t.type = 'air_travel' then i % 2 = 0 end,
      case when t.type = 'air_travel' and i % 20 = 7 then 500 + i % 5000 end,
      p.km, p.oc, p.dc
    from generate_series(1::bigint, ${n}::bigint) i
    cross join lateral (select case when i % 10 < 4 then 'electricity' when i % 10 < 7 then 'goods_services' else 'air_travel' end as type) t
    left join p on t.type = 'air_travel' and p.k = i % ${pairs.length}`;
  await sql`analyze activities`;
}

interface Totals {
  results: number;
  kg: number;
}

async function resultTotals(sql: postgres.Sql, table: string, lo: number, hi: number): Promise<Totals> {
  const [r] = await sql<{ n: number; kg: number }[]>`
    select count(*)::int as n, coalesce(sum(kg_co2e), 0)::float8 as kg from ${sql(table)}
    where tenant_id = ${TENANT} and factor_set = ${DEFAULT_FACTOR_SET} and activity_id >= ${lo} and activity_id < ${hi}`;
  return { results: r!.n, kg: r!.kg };
}

async function main(): Promise<void> {
  const testStack = await startTestStack({ log });
  const common = { ...testStack.env, TEMPORAL_TASK_QUEUE: uniqueTaskQueue('bench-em') };
  const config = loadConfig({ ...process.env, ...common, HOST: '127.0.0.1', PORT: '0', SHARDFLOW_AUTH: 'off', LOG_LEVEL: 'silent' });
  const logger = createLogger(config, 'bench-api');
  const db = createDb(config.database.url!, { max: 4, applicationName: 'shardflow-bench-api' });
  const temporal = await connectTemporal(config, logger, 30_000);
  const server = await startApiServer(config, { config, db, kinds: builtInKinds, temporal, logger }, { handleSignals: false, gracePeriodMs: 1000 });
  const sql = postgres(config.database.url!, { max: 1, onnotice: () => {} });
  const workerEnv: NodeJS.ProcessEnv = { ...process.env, ...common, WORKER_METRICS_PORT: '0', LOG_LEVEL: process.env.LOG_LEVEL || 'info' };
  const workerConfig = loadConfig(workerEnv);

  let worker: WorkerProc | undefined;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await worker?.stop().catch(() => undefined);
    await sql.unsafe(`drop schema if exists ${FLOOR_SCHEMA} cascade`).catch(() => undefined);
    await sql.end({ timeout: 5 }).catch(() => undefined);
    await db.close().catch(() => undefined);
    await server.close().catch(() => undefined);
    await testStack.stop().catch(() => undefined);
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void cleanup().then(() => process.exit(130)));

  const cpu = os.cpus();
  const [{ load1 }] = [{ load1: os.loadavg()[0]! }];
  const header =
    `# ${cpu.length} CPUs (${cpu[0]?.model ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; ` +
    `worker threads ${workerConfig.worker.threads}, max concurrent activities ${workerConfig.worker.maxConcurrentActivities}; ` +
    `embedded Postgres (fsync off)${process.env.DATABASE_URL ? ' — or DATABASE_URL' : ''}; ${N.toLocaleString('en-US')} activities; load average at start ${load1.toFixed(2)}`;
  log(header);
  const out: Record<string, unknown> = { header, activities: N };
  const table: string[][] = [];
  let failures = 0;

  try {
    await ensureDefaultFactorSet(sql);
    worker = await startWorker(workerEnv);

    if (only.includes('job')) {
      // Warm-up (not timed): 1,000 activities through a job, so the worker has its shard threads and code loaded.
      await insertActivities(sql, 1000);
      await runJob(server.url, { kind: 'emissions', spec: {} }, 300_000);

      const [{ before }] = await sql<{ before: string }[]>`select coalesce(max(id), 0)::text as before from activities`;
      let t = performance.now();
      await insertActivities(sql, N);
      const insertS = (performance.now() - t) / 1000;
      const [{ hi }] = await sql<{ hi: string }[]>`select (max(id) + 1)::text as hi from activities`;
      const lo = Number(before) + 1;
      const range = { lo, hi: Number(hi) };
      log(`inserted ${N} activities in ${f2(insertS)} s (ids ${range.lo}…${range.hi - 1})`);
      await sql`checkpoint`;

      // The floor: the kind's batch SQL over the whole range at once, into a scratch emission_results.
      await sql.unsafe(`drop schema if exists ${FLOOR_SCHEMA} cascade; create schema ${FLOOR_SCHEMA};
        create table ${FLOOR_SCHEMA}.emission_results (like public.emission_results including all)`);
      const floorSql = postgres(config.database.url!, { max: 1, onnotice: () => {}, connection: { search_path: `${FLOOR_SCHEMA}, public` } });
      t = performance.now();
      try {
        await calculateBatch(floorSql, { tenantId: TENANT, factorSet: DEFAULT_FACTOR_SET }, 'bench-floor', range.lo, range.hi);
      } finally {
        await floorSql.end({ timeout: 5 });
      }
      const floorS = (performance.now() - t) / 1000;
      const floorTotals = await resultTotals(sql, `${FLOOR_SCHEMA}.emission_results`, range.lo, range.hi);
      log(`floor: ${f2(floorS)} s, ${floorTotals.results} results`);
      await sql`checkpoint`;

      const load0 = os.loadavg()[0]!;
      const job = await runJob(server.url, { kind: 'emissions', spec: batchSize ? { batchSize } : {} }, 3_600_000);
      const jobS = job.seconds;
      const jobTotals = await resultTotals(sql, 'emission_results', range.lo, range.hi);
      const [dup] = await sql<{ n: number }[]>`
        select count(*)::int as n from (select activity_id from emission_results where activity_id >= ${range.lo} and activity_id < ${range.hi}
        group by activity_id, factor_set having count(*) > 1) d`;
      const problems: string[] = [];
      if (jobTotals.results !== floorTotals.results) problems.push(`job ${jobTotals.results} results, floor ${floorTotals.results}`);
      if (Math.abs(jobTotals.kg - floorTotals.kg) > 1e-6 * Math.max(1, floorTotals.kg)) problems.push(`job ${jobTotals.kg} kg, floor ${floorTotals.kg} kg`);
      if (dup!.n) problems.push(`${dup!.n} activities with more than one result`);
      if (problems.length) {
        failures++;
        log(`CHECK FAILED: ${problems.join('; ')}`);
      }
      const ratio = jobS / floorS;
      const summary = (job.view as any).result?.summary;
      log(`job ${job.id}: ${f2(jobS)} s, ${jobTotals.results} results, ${summary?.totalTonnesCo2e} t CO2e; ratio ${f2(ratio)}`);
      table.push(['insert (generate_series, not measured)', f2(insertS), `${Math.round(N / insertS).toLocaleString('en-US')}/s`, '', '']);
      table.push(['floor: kind SQL, one batch, no checkpoints', f2(floorS), `${Math.round(N / floorS).toLocaleString('en-US')}/s`, '', '']);
      table.push(['emissions job: POST → completed', f2(jobS), `${Math.round(N / jobS).toLocaleString('en-US')}/s`, f2(ratio), `≤ ${JOB_TARGET}`]);
      out.job = {
        batchSize: batchSize ?? DEFAULT_BATCH_SIZE,
        insertSeconds: insertS, floorSeconds: floorS, jobSeconds: jobS, ratio, target: JOB_TARGET, results: jobTotals.results,
        unmatched: N - jobTotals.results, kgCo2e: jobTotals.kg, loadAverageBefore: load0, loadAverageAfter: os.loadavg()[0], check: problems.length ? problems : 'ok',
      };
      await sql.unsafe(`drop schema if exists ${FLOOR_SCHEMA} cascade`);
    }

    if (only.includes('latency')) {
      const act = { type: 'electricity', orgId: 'bench-latency', period: '2025-06', kwh: 1000, country: 'DEU' };
      const times: number[] = [];
      for (let k = 0; k < latencyRuns + 1; k++) {
        const t0 = performance.now();
        const res = await fetch(`${server.url}/v1/activities`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(act) });
        if (res.status !== 201) throw new Error(`POST /v1/activities → ${res.status}: ${await res.text()}`);
        await res.arrayBuffer();
        const [{ id }] = await sql<{ id: string }[]>`select max(id)::text as id from activities where tenant_id = ${TENANT} and org_id = 'bench-latency'`;
        for (;;) {
          const [r] = await sql`select 1 from emission_results where activity_id = ${id}`;
          if (r) break;
          if (performance.now() - t0 > 60_000) throw new Error(`activity ${id}: no result after 60 s (is SHARDFLOW_EMISSIONS_AUTO on?)`);
          await delay(10);
        }
        if (k > 0) times.push((performance.now() - t0) / 1000); // the first one starts the tenant's workflow: a warm-up
      }
      times.sort((a, b) => a - b);
      const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!;
      const median = times.length % 2 ? times[(times.length - 1) / 2]! : (times[times.length / 2 - 1]! + times[times.length / 2]!) / 2;
      log(`latency: median ${f2(median)} s, p90 ${f2(q(0.9))} s, max ${f2(times[times.length - 1]!)} s over ${times.length}`);
      table.push([`event-driven: ingest 1 → result, median of ${times.length}`, f2(median), `p90 ${f2(q(0.9))} s`, '', `≤ ${LATENCY_TARGET_S} s`]);
      out.latency = { runs: times.length, medianSeconds: median, p90Seconds: q(0.9), maxSeconds: times[times.length - 1], target: LATENCY_TARGET_S };
    }
  } catch (err) {
    failures++;
    log(`FAILED: ${(err as Error).stack ?? err}`);
    if (worker) log(`worker output:\n${worker.tail.text()}`);
  } finally {
    await cleanup();
  }
  console.log(header);
  printMarkdownTable(['scenario', 'seconds', 'rate', 'ratio', 'target'], table);
  if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(out, null, 2) + '\n');
  process.exit(failures ? 1 : 0);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
