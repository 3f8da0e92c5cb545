/**
 * Benchmark of the `emissions` kind: N pending activities (default 1,000,000; a mix of 40 %
 * electricity, 30 % goods_services, 30 % air_travel with valid keys), calculated by an emissions
 * job, against Postgres doing the same arithmetic in one set-based pass; and the event-driven
 * latency (ingest one activity → its result exists). Every ratio is measured in the same run.
 *
 *     npm run bench -- emissions [--activities N] [--only job,latency,ingest] [--batch-size N] [--latency-runs 100] [--chunk-rows 100000] [--json out.json] [--verbose]
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
 *   ingest   N activities of src/kinds/emissions/seed.ts (seed 1) POSTed through the real endpoint by
 *            the CLI itself (`bin/shardflow.mjs seed emissions`, a child process: streamed NDJSON
 *            chunks of --chunk-rows, default 100,000) to a second in-process API with the event-driven
 *            mode off (nothing calculates meanwhile); timed by the CLI (first request → last answer).
 *            Reference, the same run: Postgres's own `COPY activities (…) FROM STDIN` (text) of the
 *            same rows — validateActivity + copyLine of each, written to a file first, not timed — over
 *            one connection in one transaction into a scratch `activities` (LIKE the real one INCLUDING
 *            ALL: the same columns, defaults, indexes). ratio = endpoint seconds / COPY seconds.
 *            Memory: this process's RSS (it holds the API; otherwise idle) and the CLI's, sampled every
 *            50 ms and at each chunk's answer: at N/10, at N, the peak, and the growth N/10 → N.
 *
 * Exit code 0 even when a target is missed; 1 when a job fails or a check does not hold.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { loadConfig } from '../src/config.js';
import { createDb } from '../src/db/client.js';
import { createLogger } from '../src/log.js';
import { startApiServer } from '../src/api/server.js';
import { delay } from '../src/dev/process.js';
import { builtInKinds } from '../src/kinds/index.js';
import { COPY_COLUMNS, copyLine, validateActivity } from '../src/kinds/emissions/activities.js';
import { calculateBatch } from '../src/kinds/emissions/calculate.js';
import { seedCounts, seedGenerator } from '../src/kinds/emissions/seed.js';
import { ensureDefaultFactorSet } from '../src/kinds/emissions/factors.js';
import { DEFAULT_BATCH_SIZE } from '../src/kinds/emissions/spec.js';
import { airportIndex, DEFAULT_FACTOR_SET, greatCircleKm } from '../src/kinds/emissions/reference.js';
import { startBenchStack } from './bench-stack.js';
import { printMarkdownTable, runJob, startWorker, type WorkerProc } from './trial.js';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
function opt(name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}
const SCENARIOS = ['job', 'latency', 'ingest'] as const;
const N = Number(opt('activities') ?? 1_000_000);
const only = (opt('only')?.split(',').map((s) => s.trim()).filter(Boolean) ?? [...SCENARIOS]) as Array<(typeof SCENARIOS)[number]>;
const latencyRuns = Number(opt('latency-runs') ?? 100);
/** The job's spec.batchSize (default: the kind's, DEFAULT_BATCH_SIZE). */
const batchSize = opt('batch-size') === undefined ? undefined : Number(opt('batch-size'));
const jsonOut = opt('json');
const chunkRows = Number(opt('chunk-rows') ?? 100_000);
const gcCheck = flag('gc-check');
if (gcCheck && !(globalThis as { gc?: unknown }).gc) {
  process.stderr.write('--gc-check needs node --expose-gc: node --expose-gc --import tsx bench/emissions.ts --only ingest --gc-check\n');
  process.exit(2);
}
if (!Number.isInteger(N) || N < 100 || !Number.isInteger(latencyRuns) || latencyRuns < 1 || !Number.isInteger(chunkRows) || chunkRows < 1 || only.some((s) => !SCENARIOS.includes(s))) {
  process.stderr.write('usage: npm run bench -- emissions [--activities N ≥ 100] [--only job,latency,ingest] [--batch-size N] [--latency-runs N] [--chunk-rows N] [--json out.json] [--verbose]\n');
  process.exit(2);
}

const TENANT = 'local'; // the API's tenant with auth off
const FLOOR_SCHEMA = 'bench_em_floor';
const INGEST_SCHEMA = 'bench_em_ingest';
const INGEST_ORGS = { orgs: 50, orgPrefix: 'bench-ingest' };
const bin = fileURLToPath(new URL('../bin/shardflow.mjs', import.meta.url));
const MB = 2 ** 20;
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

/** VmRSS of a process in bytes (Linux), or null. */
function rssOf(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

interface RssPoint {
  rows: number;
  api: number;
  heap: number;
  cli: number | null;
}

/** The CLI's `seed emissions` as a child process against `url`; RSS of this process (the API) and of the CLI sampled meanwhile. */
async function seedThroughCli(url: string, n: number, seed: number, orgPrefix = INGEST_ORGS.orgPrefix): Promise<{ seconds: number; wallSeconds: number; points: RssPoint[]; peakApi: number; peakCli: number; summary: string }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [bin, '--url', url, 'seed', 'emissions', '--activities', String(n), '--seed', String(seed), '--orgs', String(INGEST_ORGS.orgs), '--org-prefix', orgPrefix, '--chunk-rows', String(chunkRows)], {
    env: { ...process.env, SHARDFLOW_KEY: '', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let peakApi = 0;
  let peakCli = 0;
  const sample = () => {
    peakApi = Math.max(peakApi, process.memoryUsage.rss());
    peakCli = Math.max(peakCli, rssOf(child.pid!) ?? 0);
  };
  const timer = setInterval(sample, 50);
  const points: RssPoint[] = [];
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d;
    pending += d;
    let i: number;
    while ((i = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, i);
      pending = pending.slice(i + 1);
      const m = /; ([\d,]+)\/[\d,]+$/.exec(line);
      if (m) {
        sample();
        // --gc-check (node --expose-gc): a full GC before each point, to tell garbage not yet collected from memory kept.
        if (gcCheck) (globalThis as { gc?: () => void }).gc?.();
        points.push({ rows: Number(m[1]!.replace(/,/g, '')), api: process.memoryUsage.rss(), heap: process.memoryUsage().heapUsed, cli: rssOf(child.pid!) });
      }
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? -1));
  });
  clearInterval(timer);
  const wallSeconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`shardflow seed emissions exited ${code}: ${stderr}${stdout.slice(-2000)}`);
  const summary = stdout.trim().split('\n').pop()!;
  const m = / in ([\d.]+) s, /.exec(summary);
  if (!m) throw new Error(`no summary line: ${summary}`);
  return { seconds: Number(m[1]), wallSeconds, points, peakApi, peakCli, summary };
}

/** The same N activities as COPY text (the kind's validateActivity + copyLine), into `file`. */
async function writeCopyFile(file: string, n: number, seed: number): Promise<void> {
  const gen = seedGenerator(seed, INGEST_ORGS);
  const out = fs.createWriteStream(file);
  let buf = '';
  for (let i = 0; i < n; i++) {
    const v = validateActivity(gen.activity(i), TENANT);
    if (!('row' in v)) throw new Error(`activity ${i} invalid: ${v.errors.join('; ')}`);
    buf += copyLine(v.row);
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
      buf = '';
    }
  }
  out.end(buf);
  await new Promise<void>((r, j) => (out.on('finish', () => r()), out.on('error', j)));
}

async function main(): Promise<void> {
  const stack = await startBenchStack('bench-em', log);
  const { common, config, logger, temporal, server, workerEnv, workerConfig } = stack;
  const sql = postgres(config.database.url!, { max: 1, onnotice: () => {} });

  let worker: WorkerProc | undefined;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await worker?.stop().catch(() => undefined);
    await sql.unsafe(`drop schema if exists ${FLOOR_SCHEMA} cascade; drop schema if exists ${INGEST_SCHEMA} cascade`).catch(() => undefined);
    await sql.end({ timeout: 5 }).catch(() => undefined);
    await stack.stop();
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
    // The job and latency need a worker; the ingest does not (and an idle one would only add noise).
    if (only.some((x) => x !== 'ingest')) worker = await startWorker(workerEnv);

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
    if (only.includes('ingest')) {
      // A second API in this process with the event-driven mode off: no calculator works during the ingest.
      const ingestConfig = loadConfig({ ...process.env, ...common, HOST: '127.0.0.1', PORT: '0', SHARDFLOW_AUTH: 'off', LOG_LEVEL: 'silent', SHARDFLOW_EMISSIONS_AUTO: 'off' });
      const ingestDb = createDb(ingestConfig.database.url!, { max: 4, applicationName: 'shardflow-bench-ingest-api' });
      const ingestApi = await startApiServer(ingestConfig, { config: ingestConfig, db: ingestDb, kinds: builtInKinds, temporal, logger }, { handleSignals: false, gracePeriodMs: 1000 });
      try {
        // Warm-up (not timed): 1,000 activities of another seed through the same path.
        await seedThroughCli(ingestApi.url, 1000, 999, 'bench-warmup');
        await sql`checkpoint`;
        const rssBefore = process.memoryUsage.rss();
        const r = await seedThroughCli(ingestApi.url, N, 1);
        const [{ after }] = await sql<{ after: string }[]>`select count(*)::text as after from activities where tenant_id = ${TENANT} and org_id like 'bench-ingest-%'`;
        const problems: string[] = [];
        if (Number(after) !== N) problems.push(`${after} activities inserted, not ${N}`);
        log(`endpoint: ${f2(r.seconds)} s (wall with CLI start ${f2(r.wallSeconds)} s); ${r.summary}`);

        // The reference: the same rows as COPY text, COPYed by Postgres itself into a scratch activities.
        const file = path.join(stack.tmpRoot, 'ingest-reference.copy');
        await writeCopyFile(file, N, 1);
        await sql.unsafe(`drop schema if exists ${INGEST_SCHEMA} cascade; create schema ${INGEST_SCHEMA};
          create table ${INGEST_SCHEMA}.activities (like public.activities including all)`);
        await sql`checkpoint`;
        const refSql = postgres(config.database.url!, { max: 1, onnotice: () => {} });
        let t = performance.now();
        try {
          await refSql.begin(async (tx) => {
            const w = await tx.unsafe(`copy ${INGEST_SCHEMA}.activities (${COPY_COLUMNS.join(', ')}) from stdin`).writable();
            await pipeline(fs.createReadStream(file, { highWaterMark: 1 << 16 }), w);
          });
        } finally {
          await refSql.end({ timeout: 5 });
        }
        const copyS = (performance.now() - t) / 1000;
        const [{ n: refN }] = await sql<{ n: string }[]>`select count(*)::text as n from ${sql(INGEST_SCHEMA)}.activities`;
        if (Number(refN) !== N) problems.push(`reference COPY has ${refN} rows`);
        // The same rows on both sides: per type, the endpoint's and the reference's equal the generator's.
        const typesOf = async (table: string) =>
          Object.fromEntries((await sql.unsafe<{ type: string; n: number }[]>(`select type, count(*)::int as n from ${table} where tenant_id = '${TENANT}' and org_id like 'bench-ingest-%' group by type`)).map((x) => [x.type, x.n]));
        const expected = seedCounts(1, 0, N);
        const [ours, ref] = [await typesOf('public.activities'), await typesOf(`${INGEST_SCHEMA}.activities`)];
        for (const [ty, k] of Object.entries(expected)) {
          if (ours[ty] !== k) problems.push(`endpoint ${ty} ${ours[ty]} ≠ generator ${k}`);
          if (ref[ty] !== k) problems.push(`reference ${ty} ${ref[ty]} ≠ generator ${k}`);
        }
        fs.rmSync(file, { force: true });
        await sql.unsafe(`drop schema if exists ${INGEST_SCHEMA} cascade`);
        if (problems.length) {
          failures++;
          log(`CHECK FAILED: ${problems.join('; ')}`);
        }
        const ratio = r.seconds / copyS;
        const tenth = r.points.find((p) => p.rows >= N / 10) ?? r.points[0]!;
        const last = r.points[r.points.length - 1]!;
        // The CLI may have exited before its last line was read: its RSS at N is the last one sampled.
        last.cli ??= [...r.points].reverse().find((p) => p.cli !== null)?.cli ?? null;
        const mb = (b: number | null) => (b === null ? '?' : (b / MB).toFixed(0));
        log(`reference COPY: ${f2(copyS)} s; ratio ${f2(ratio)}`);
        log(`API process RSS: before ${mb(rssBefore)} MB, at ${tenth.rows} ${mb(tenth.api)} MB, at ${last.rows} ${mb(last.api)} MB, peak ${mb(r.peakApi)} MB, growth ${mb(last.api - tenth.api)} MB; heap ${mb(tenth.heap)} → ${mb(last.heap)} MB`);
        log(`CLI RSS: at ${tenth.rows} ${mb(tenth.cli)} MB, at ${last.rows} ${mb(last.cli)} MB, peak ${mb(r.peakCli)} MB`);
        for (const p of r.points) log(`  ${p.rows}: API RSS ${mb(p.api)} MB, heap ${mb(p.heap)} MB, CLI RSS ${mb(p.cli)} MB`);
        table.push([`reference: COPY activities FROM STDIN (text), one transaction`, f2(copyS), `${Math.round(N / copyS).toLocaleString('en-US')}/s`, '', '']);
        table.push([
          `ingest: POST /v1/activities, NDJSON, ${Math.ceil(N / chunkRows)} chunks (shardflow seed emissions)`,
          f2(r.seconds),
          `${Math.round(N / r.seconds).toLocaleString('en-US')}/s`,
          f2(ratio),
          `API RSS ${mb(tenth.api)} → ${mb(last.api)} MB (peak ${mb(r.peakApi)}), CLI ${mb(tenth.cli)} → ${mb(last.cli)} MB`,
        ]);
        out.ingest = {
          chunkRows, endpointSeconds: r.seconds, endpointWallSeconds: r.wallSeconds, copySeconds: copyS, ratio, rowsPerSecond: N / r.seconds,
          apiRssBefore: rssBefore, apiRssAtTenth: tenth.api, apiRssAtEnd: last.api, apiRssPeak: r.peakApi, apiRssGrowth: last.api - tenth.api,
          cliRssAtTenth: tenth.cli, cliRssAtEnd: last.cli, cliRssPeak: r.peakCli, points: r.points, check: problems.length ? problems : 'ok',
        };
      } finally {
        await ingestApi.close().catch(() => undefined);
        await ingestDb.close().catch(() => undefined);
      }
    }
  } catch (err) {
    failures++;
    log(`FAILED: ${(err as Error).stack ?? err}`);
    if (worker) log(`worker output:\n${worker.tail.text()}`);
  } finally {
    await cleanup();
  }
  console.log(header);
  printMarkdownTable(['scenario', 'seconds', 'rate', 'ratio', 'target / memory'], table);
  if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(out, null, 2) + '\n');
  process.exit(failures ? 1 : 0);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
