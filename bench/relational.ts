/**
 * End-to-end benchmark of a `relational` job: ~10M rows in FK-linked tables, generated, loaded into
 * Postgres and constrained, against Postgres' own floor; and the same spec to Parquet only, against
 * DuckDB. Every ratio is measured in the same run (this machine's speed varies 2× between sessions).
 *
 *     npm run bench -- relational [--rows N] [--quick] [--only load,parquet] [--floor-client psql|postgres]
 *                                 [--no-duckdb] [--ref-runs N] [--runs N] [--duck-level L] [--warm-rows N] [--json out.json] [--verbose] [--worker-cpu-prof DIR] [--poll]
 *
 * The spec (benchSpec): products 10,000 (id, unique sku pattern, 2–4 word name, price) ←
 * customers rows/10 (id, first/last name, unique email, date, choice) ← orders perParent customers
 * poisson 3 (id, ref, timestamp, lognormal amount 2 decimals, choice status with nullRate) ←
 * order_items perParent orders poisson 2 (id, ref order, zipf ref product, int quantity, float
 * price). About 10 × customers rows; --rows N sets customers = N / 10 (default 10M; --quick = 1M).
 *
 * Setup as bench/trial.ts: Temporal dev server + embedded Postgres (fsync off; or TEMPORAL_ADDRESS /
 * DATABASE_URL), the API in this process, a FRESH worker child process per scenario on a private
 * task queue; per scenario a warm-up job (not timed), the worker's peak RSS reset, then POST and poll.
 *
 *   load      POST {kind:'relational', spec, output:{format:'parquet', postgres:{schema:'bench_rel'}}}
 *             → completed. Checked after: every table's row count in Postgres equals the manifest's,
 *             the primary keys, unique constraints, foreign keys and FK indexes exist, ANALYZE ran.
 *             The schema is dropped afterwards.
 *   floor     (worker stopped) the same rows written first as one CSV per table by the repo's CSV
 *             encoder (not timed), then timed, over ONE connection (psql \copy, else postgres.js):
 *             CREATE TABLEs of the same column types, COPY … FROM each CSV, the same PK / UNIQUE /
 *             FK constraints and FK indexes, ANALYZE. ratio = load seconds / floor seconds (≤ 1.5).
 *   parquet   the same spec, output Parquet only (zstd), POST → completed.
 *   duckdb    (worker stopped) DuckDB writes the same row count per table with the same column types
 *             to zstd Parquet, one COPY per table (duckdbSql), at its default level (3; ours is 1, as
 *             pyarrow's; --duck-level 1 for the same level). ratio = parquet seconds / DuckDB (≤ 0.6).
 *             --runs N: N rounds of (parquet job with a fresh worker, DuckDB), the fastest of each.
 *
 * The warm-up job is --warm-rows rows (default 1M, or rows/10): at 20,000 rows, as before 2026-12-02,
 * the shard threads' hot code was not yet optimized and TurboFan compiled during the timed job.
 *
 * Exit code 0 even when a target is missed; 1 when a job fails or a check does not hold.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { loadConfig } from '../src/config.js';
import { createDb } from '../src/db/client.js';
import { createLogger } from '../src/log.js';
import { startApiServer } from '../src/api/server.js';
import { connectTemporal } from '../src/api/temporal.js';
import { delay, exitOf } from '../src/dev/process.js';
import { builtInKinds } from '../src/kinds/index.js';
import { LOAD_SCHEMA as BOOKKEEPING_SCHEMA, openPart } from '../src/destinations/index.js';
import { createTableSql, keySteps, qualified } from '../src/engine/load-ddl.js';
import type { TablePlan } from '../src/engine/types.js';
import { computeLayouts, createRelationalTables, DEFAULT_LIMITS, normalizeRelational, relationalTables, type RelationalSpec, type RelationalSpecBody } from '../src/kinds/relational/lib.js';
import { RelationalSpecSchema } from '../src/kinds/relational/schema.js';
import { FIRST_NAMES, LAST_NAMES, WORDS } from '../src/kinds/relational/words.js';
import { startTestStack, uniqueTaskQueue } from '../test/support/stack.js';
import { benchSpec } from './relational-spec.js';
import { printMarkdownTable, procStatus, resetPeak, runJob, startWorker, type WorkerProc } from './trial.js';

/* ------------------------------------------------------------------ args */

const SCENARIOS = ['load', 'parquet'] as const;
type ScenarioName = (typeof SCENARIOS)[number];

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
function opt(name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}
const rowsArg = Number(opt('rows') ?? (flag('quick') ? 1_000_000 : 10_000_000));
const only = (opt('only')?.split(',').map((s) => s.trim()).filter(Boolean) ?? [...SCENARIOS]) as ScenarioName[];
const floorClient = opt('floor-client') ?? 'psql';
const useDuck = !flag('no-duckdb');
const refRuns = Math.max(1, Number(opt('ref-runs') ?? 1));
/** Parquet scenario: this many rounds of (job, DuckDB), each with a fresh worker; the fastest of each side is the ratio (this VM's speed drifts by ±20 % within minutes). */
const rounds = Math.max(1, Number(opt('runs') ?? 1));
/** DuckDB's zstd level (its default, 3, when not given; ours is 1, as pyarrow's). */
const duckLevel = opt('duck-level') === undefined ? undefined : Number(opt('duck-level'));
/** Rows of the warm-up job (not timed): enough for the shard threads' hot code to be optimized before the timed job (at 20,000 it was not: TurboFan still compiled during it). */
const warmRows = Math.max(2_000, Number(opt('warm-rows') ?? Math.min(1_000_000, rowsArg / 10)));
const jsonOut = opt('json');
/** Poll GET /v1/jobs/{id} every 50 ms for the end (as the trial bench) instead of awaiting the workflow's result. */
const pollOnly = flag('poll');
if (!Number.isInteger(rowsArg) || rowsArg < 1000 || only.some((s) => !SCENARIOS.includes(s)) || !['psql', 'postgres'].includes(floorClient)) {
  process.stderr.write(
    'usage: npm run bench -- relational [--rows N ≥ 1000] [--quick] [--only load,parquet] [--floor-client psql|postgres]\n' +
      '                                   [--no-duckdb] [--ref-runs N] [--runs N] [--duck-level L] [--warm-rows N] [--json out.json] [--verbose] [--worker-cpu-prof DIR] [--poll]\n',
  );
  process.exit(2);
}

const LOAD_SCHEMA = 'bench_rel';
const FLOOR_SCHEMA = 'bench_rel_floor';
/** The load's bookkeeping schema (src/engine/load.ts). */
const LOAD_SCHEMA_BOOK = BOOKKEEPING_SCHEMA;
const LOAD_TARGET = 1.5;
const PARQUET_TARGET = 0.6;
const RSS_TARGET_MB = 1024;

function resolve(body: RelationalSpecBody): RelationalSpec {
  return normalizeRelational(RelationalSpecSchema.parse(body) as RelationalSpecBody, DEFAULT_LIMITS).resolved;
}

/* ------------------------------------------------------------------ DDL (the floor's) */

const q = (id: string) => `"${id.replace(/"/g, '""')}"`;

interface Step {
  name: string;
  sql: string;
}

/**
 * The floor's statements, from the load's own DDL module (src/engine/load-ddl.ts): the same column
 * types, NOT NULLs, keys, foreign keys and FK indexes, in the order the load adds them; then ANALYZE
 * per table.
 */
export function floorDdl(schema: string, tables: readonly TablePlan[]): { create: Step[]; keys: Step[]; analyze: Step[]; source: string } {
  const bare = (sql: string) => sql.replace(/;\s*$/, '');
  return {
    create: tables.map((t) => ({ name: `create ${t.name}`, sql: bare(createTableSql(schema, t)) })),
    keys: keySteps(schema, tables).map((k) => ({ name: `${k.kind} ${k.name}`, sql: bare(k.sql) })),
    analyze: tables.map((t) => ({ name: `analyze ${t.name}`, sql: `ANALYZE ${qualified(schema, t.name)}` })),
    source: 'src/engine/load-ddl.ts',
  };
}

/* ------------------------------------------------------------------ CPU from /proc */

const TICK = 100;
function statFields(pid: number): string[] | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
/** utime + stime of a process (all its threads), seconds. */
const cpuOf = (pid: number) => {
  const f = statFields(pid);
  return f ? (Number(f[11]) + Number(f[12])) / TICK : 0;
};
/** Machine-wide busy CPU seconds (all cores), from /proc/stat. */
function machineBusy(): number {
  const v = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return (v.reduce((a, b) => a + b, 0) - (v[3] ?? 0) - (v[4] ?? 0)) / TICK;
}

/** Postgres: the postmaster, its exited children (cutime/cstime) and its live children (backends, walwriter, …). */
function postgresCpu(postmaster: number | undefined): number {
  if (!postmaster) return 0;
  const f = statFields(postmaster);
  if (!f) return 0;
  let total = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICK;
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const c = statFields(Number(d));
    if (c && Number(c[1]) === postmaster) total += (Number(c[11]) + Number(c[12])) / TICK;
  }
  return total;
}

/* ------------------------------------------------------------------ Temporal history: time per activity type */

const num = (v: unknown): number => (v == null ? 0 : typeof v === 'number' ? v : Number(String(v)));
const ms = (t: any): number => (t ? num(t.seconds) * 1000 + num(t.nanos) / 1e6 : 0);

interface Phase {
  type: string;
  count: number;
  /** From the workflow start, seconds: first start, last completion. */
  from: number;
  to: number;
  /** Sum of started → completed, seconds. */
  busy: number;
}

async function phases(client: any, id: string): Promise<Phase[]> {
  const out = new Map<string, Phase>();
  try {
    // Each continue-as-new run has its own history; the job's first run is enough for a short job, so follow the chain.
    let runId: string | undefined;
    for (let k = 0; k < 20; k++) {
      const history = await client.workflow.getHandle(id, runId).fetchHistory();
      const events: any[] = history.events ?? [];
      const t0 = ms(events[0]?.eventTime);
      const sched = new Map<number, string>();
      const started = new Map<number, number>();
      let next: string | undefined;
      for (const e of events) {
        const at = (ms(e.eventTime) - t0) / 1000;
        if (e.activityTaskScheduledEventAttributes) sched.set(num(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
        else if (e.activityTaskStartedEventAttributes) started.set(num(e.activityTaskStartedEventAttributes.scheduledEventId), at);
        else if (e.activityTaskCompletedEventAttributes) {
          const sid = num(e.activityTaskCompletedEventAttributes.scheduledEventId);
          const type = sched.get(sid) ?? '?';
          const st = started.get(sid) ?? at;
          const p = out.get(type) ?? { type, count: 0, from: Infinity, to: 0, busy: 0 };
          p.count++;
          p.from = Math.min(p.from, st);
          p.to = Math.max(p.to, at);
          p.busy += at - st;
          out.set(type, p);
        } else if (e.workflowExecutionContinuedAsNewEventAttributes) next = e.workflowExecutionContinuedAsNewEventAttributes.newExecutionRunId;
      }
      if (!next) break;
      runId = next;
    }
  } catch {
    /* no breakdown */
  }
  return [...out.values()];
}

/* ------------------------------------------------------------------ what Postgres runs during the load */

interface SqlSpan {
  /** The statement, shortened: `COPY "bench_rel"."orders" …`, `ALTER TABLE … ADD CONSTRAINT "orders_pkey" …`. */
  what: string;
  /** Seconds from the sampler's start: first and last seen active; the most backends seen running it at once. */
  from: number;
  to: number;
  maxBackends: number;
}

/**
 * Samples pg_stat_activity every `everyMs` (its own connection): which statements of the job's
 * schema are active, since when, on how many backends. Coarse (±everyMs), engine-agnostic.
 */
function sampleActivity(url: string, schema: string, everyMs = 100): { stop(): Promise<SqlSpan[]> } {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const spans = new Map<string, SqlSpan>();
  const t0 = performance.now();
  let running = true;
  const shorten = (query: string) => {
    const x = query.replace(/\s+/g, ' ').trim();
    const m = /^(COPY \S+|ALTER TABLE \S+ ADD CONSTRAINT \S+ \S+ \S+|CREATE (?:UNIQUE )?INDEX \S+ ON \S+|ANALYZE \S+|CREATE TABLE \S+|INSERT INTO \S+|VACUUM \S+)/i.exec(x);
    return m ? m[1]! : x.slice(0, 80);
  };
  const loop = (async () => {
    while (running) {
      try {
        const rows = await sql`SELECT query FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND query ILIKE ${`%${schema}%`}`;
        const at = (performance.now() - t0) / 1000;
        const counts = new Map<string, number>();
        for (const r of rows) counts.set(shorten(r.query), (counts.get(shorten(r.query)) ?? 0) + 1);
        for (const [what, n] of counts) {
          const sp = spans.get(what) ?? { what, from: at, to: at, maxBackends: 0 };
          sp.to = at;
          sp.maxBackends = Math.max(sp.maxBackends, n);
          spans.set(what, sp);
        }
      } catch {
        /* keep sampling */
      }
      await delay(everyMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await sql.end({ timeout: 5 });
      return [...spans.values()].sort((a, b) => a.from - b.from);
    },
  };
}

/* ------------------------------------------------------------------ the floor */

interface FloorResult {
  seconds: number;
  steps: Array<{ name: string; seconds: number }>;
  client: string;
}

type Floor = FloorResult & { postgresCpuS: number; load1: number; otherCpuS: number };

/** Timed: create, COPY each CSV, keys, ANALYZE, over one psql session (\timing per statement). */
async function floorPsql(url: string, schema: string, tables: TablePlan[], csv: Map<string, string>): Promise<FloorResult> {
  const ddl = floorDdl(schema, tables);
  const steps: Step[] = [
    ...ddl.create,
    ...tables.map((t) => ({ name: `copy ${t.name}`, sql: `\\copy ${q(schema)}.${q(t.name)} FROM '${csv.get(t.name)!.replace(/'/g, "''")}' WITH (FORMAT csv, HEADER true)` })),
    ...ddl.keys,
    ...ddl.analyze,
  ];
  const script = ['\\set ON_ERROR_STOP on', '\\timing on', ...steps.flatMap((s) => [`\\echo 'step:${s.name}'`, s.sql.startsWith('\\') ? s.sql : `${s.sql};`])].join('\n') + '\n';
  const t0 = performance.now();
  const child = spawn('psql', ['-X', '-q', '-d', url, '-f', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  child.stdin.end(script);
  const e = await exitOf(child);
  const seconds = (performance.now() - t0) / 1000;
  if (e.code !== 0) throw new Error(`psql exited ${e.code}: ${err.trim() || out.trim()}`);
  const times: Array<{ name: string; seconds: number }> = [];
  let current: string | undefined;
  for (const line of out.split('\n')) {
    const s = /^step:(.*)$/.exec(line);
    if (s) current = s[1];
    const t = /^Time: ([\d.]+) ms/.exec(line);
    if (t && current) {
      times.push({ name: current, seconds: Number(t[1]) / 1000 });
      current = undefined;
    }
  }
  return { seconds, steps: times, client: `psql \\copy (one session), DDL of ${ddl.source}` };
}

/** The same over one postgres.js connection: COPY … FROM STDIN fed by the file. */
async function floorPostgresJs(url: string, schema: string, tables: TablePlan[], csv: Map<string, string>): Promise<FloorResult> {
  const ddl = floorDdl(schema, tables);
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const times: Array<{ name: string; seconds: number }> = [];
  const timed = async (name: string, f: () => Promise<unknown>) => {
    const t = performance.now();
    await f();
    times.push({ name, seconds: (performance.now() - t) / 1000 });
  };
  try {
    await sql`SELECT 1`; // connect outside the timing
    const t0 = performance.now();
    for (const s of ddl.create) await timed(s.name, () => sql.unsafe(s.sql));
    for (const t of tables) {
      await timed(`copy ${t.name}`, async () => {
        const w = await sql.unsafe(`COPY ${q(schema)}.${q(t.name)} FROM STDIN WITH (FORMAT csv, HEADER true)`).writable();
        const { pipeline } = await import('node:stream/promises');
        await pipeline(fs.createReadStream(csv.get(t.name)!, { highWaterMark: 1 << 20 }), w);
      });
    }
    for (const s of [...ddl.keys, ...ddl.analyze]) await timed(s.name, () => sql.unsafe(s.sql));
    return { seconds: (performance.now() - t0) / 1000, steps: times, client: `postgres.js COPY FROM STDIN (one connection), DDL of ${ddl.source}` };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** The rows of the spec as one CSV per table, by the repo's CSV encoder (not timed). */
async function writeCsvs(spec: RelationalSpec, dir: string): Promise<Map<string, string>> {
  const { tables } = createRelationalTables(spec);
  const out = new Map<string, string>();
  const BATCH = 65_536;
  for (const g of tables) {
    const file = path.join(dir, `${g.table}.csv`);
    const part = await openPart({ path: file, format: 'csv', compression: 'none', schema: g.schema });
    for (let s = 0; s < g.rows; s += BATCH) await part.write(g.batch(s, Math.min(g.rows, s + BATCH)));
    await part.finish();
    out.set(g.table, file);
  }
  return out;
}

/* ------------------------------------------------------------------ DuckDB reference */

const sqlList = (xs: readonly string[]) => `[${xs.map((x) => `'${x.replace(/'/g, "''")}'`).join(', ')}]`;

/**
 * One COPY per table: the same row counts and column types (BIGINT ids and refs, INTEGER quantity,
 * DOUBLE 2-decimal prices and amounts, DATE, TIMESTAMPTZ, VARCHAR), strings of about the same
 * lengths and cardinalities: names picked from the same lists, unique emails built from them plus
 * a number, the same choice values (status 2 % NULL), skus 'SKU-#####-??', 2–4 lorem words;
 * order refs sorted like the generated ones (each parent's children together).
 */
export function duckdbSql(rows: Record<string, number>, dir: string): Array<{ table: string; sql: string }> {
  const file = (t: string) => `'${path.join(dir, `${t}.parquet`).replace(/'/g, "''")}'`;
  const level = duckLevel === undefined ? '' : `, COMPRESSION_LEVEL ${duckLevel}`;
  const copy = (t: string, select: string) => ({ table: t, sql: `COPY (${select}) TO ${file(t)} (FORMAT parquet, COMPRESSION zstd${level})` });
  const words = sqlList(WORDS());
  const pick = (list: string, n: number) => `${list}[1 + CAST(floor(random() * ${n}) AS INTEGER)]`;
  const first = FIRST_NAMES().values;
  const last = LAST_NAMES().values;
  const w = WORDS().length;
  const normal = 'sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())';
  const c = rows.customers!;
  const o = rows.orders!;
  return [
    copy(
      'products',
      `SELECT CAST(i + 1 AS BIGINT) AS id,
        'SKU-' || lpad(CAST((i * 7919) % 100000 AS VARCHAR), 5, '0') || '-' || chr(65 + CAST(floor(random() * 26) AS INTEGER)) || chr(65 + CAST(floor(random() * 26) AS INTEGER)) AS sku,
        ${pick(words, w)} || ' ' || ${pick(words, w)} || CASE WHEN random() < 0.67 THEN ' ' || ${pick(words, w)} ELSE '' END || CASE WHEN random() < 0.33 THEN ' ' || ${pick(words, w)} ELSE '' END AS name,
        round(1 + random() * 499, 2) AS list_price
      FROM range(${rows.products}) t(i)`,
    ),
    copy(
      'customers',
      `SELECT id, first_name, last_name,
        lower(first_name) || '.' || lower(last_name) || CAST((id * 7919) % ${10 ** Math.ceil(Math.log10(c) + 1)} AS VARCHAR) || '@' || ['example.com', 'example.org', 'example.net'][1 + CAST(id % 3 AS INTEGER)] AS email,
        signed_up, segment
      FROM (SELECT CAST(i + 1 AS BIGINT) AS id, ${pick(sqlList(first), first.length)} AS first_name, ${pick(sqlList(last), last.length)} AS last_name,
        DATE '2015-01-01' + CAST(floor(random() * 4018) AS INTEGER) AS signed_up,
        ${pick("['retail', 'business', 'public']", 3)} AS segment
        FROM range(${c}) t(i))`,
    ),
    copy(
      'orders',
      `SELECT CAST(i + 1 AS BIGINT) AS id,
        CAST(i * ${c} // ${o} + 1 AS BIGINT) AS customer_id,
        to_timestamp(1704067200 + floor(random() * 63158400)) AS ordered_at,
        round(exp(3.5 + 0.9 * ${normal}), 2) AS amount,
        CASE WHEN random() < 0.02 THEN NULL ELSE ${pick("['pending', 'paid', 'shipped', 'delivered', 'returned']", 5)} END AS status
      FROM range(${o}) t(i)`,
    ),
    copy(
      'order_items',
      `SELECT CAST(i + 1 AS BIGINT) AS id,
        CAST(i * ${o} // ${rows.order_items} + 1 AS BIGINT) AS order_id,
        CAST(floor(pow(${rows.products}, random())) AS BIGINT) AS product_id,
        CAST(1 + floor(random() * 10) AS INTEGER) AS quantity,
        round(1 + random() * 499, 2) AS unit_price
      FROM range(${rows.order_items}) t(i)`,
    ),
  ];
}

async function duckRun(rows: Record<string, number>, dir: string): Promise<{ engine: string; seconds: number; cpuSeconds: number; perTable: Record<string, number>; bytes: number } | undefined> {
  let DuckDBInstance: any;
  try {
    ({ DuckDBInstance } = await import('@duckdb/node-api'));
  } catch (err) {
    log(`@duckdb/node-api not usable (${(err as Error).message}): no Parquet reference`);
    return undefined;
  }
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  try {
    const info = (await con.runAndReadAll("SELECT version() AS v, current_setting('threads') AS t")).getRowObjects()[0]!;
    // warm-up, as for the worker
    for (const s of duckdbSql({ products: 100, customers: 100, orders: 300, order_items: 600 }, dir)) await con.run(s.sql);
    let best: { seconds: number; cpuSeconds: number; perTable: Record<string, number>; bytes: number } | undefined;
    for (let k = 0; k < refRuns; k++) {
      const perTable: Record<string, number> = {};
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (const s of duckdbSql(rows, dir)) {
        const t = performance.now();
        await con.run(s.sql);
        perTable[s.table] = (performance.now() - t) / 1000;
      }
      const seconds = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      let bytes = 0;
      for (const t of Object.keys(rows)) {
        const f = path.join(dir, `${t}.parquet`);
        bytes += fs.statSync(f).size;
        fs.rmSync(f, { force: true });
      }
      const run = { seconds, cpuSeconds: (c.user + c.system) / 1e6, perTable, bytes };
      if (!best || run.seconds < best.seconds) best = run;
    }
    return { engine: `DuckDB ${info.v} (@duckdb/node-api), ${info.t} threads${refRuns > 1 ? `, fastest of ${refRuns}` : ''}`, ...best! };
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}

/* ------------------------------------------------------------------ checks of the load */

async function checkLoad(sql: postgres.Sql, schema: string, tables: TablePlan[], manifest: any): Promise<string> {
  const problems: string[] = [];
  for (const t of tables) {
    const m = manifest.tables.find((x: any) => x.name === t.name);
    const exists = await sql`SELECT to_regclass(${`${schema}.${t.name}`}) AS r`;
    if (!exists[0]!.r) {
      problems.push(`table ${schema}.${t.name} does not exist`);
      continue;
    }
    const [{ n }] = (await sql.unsafe(`SELECT count(*)::bigint AS n FROM ${q(schema)}.${q(t.name)}`)) as any;
    if (Number(n) !== m?.rows) problems.push(`${t.name}: ${n} rows in Postgres, manifest ${m?.rows}`);
  }
  const cons = await sql`
    SELECT c.relname AS table, k.contype AS type, array_to_string(array(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, o) JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.o), ',') AS cols
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace s ON s.oid = c.relnamespace
    WHERE s.nspname = ${schema} AND k.contype IN ('p', 'u', 'f')`;
  const has = (table: string, type: string, cols: string[]) => cons.some((c) => c.table === table && c.type === type && c.cols === cols.join(','));
  const idx = await sql`
    SELECT t.relname AS table, array_to_string(array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY u(n, o) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = u.n ORDER BY u.o), ',') AS cols
    FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace s ON s.oid = t.relnamespace WHERE s.nspname = ${schema}`;
  let expected = 0;
  for (const t of tables) {
    if (t.primaryKey && (expected++, !has(t.name, 'p', t.primaryKey))) problems.push(`${t.name}: no primary key (${t.primaryKey})`);
    for (const u of t.unique ?? []) if ((expected++, !has(t.name, 'u', u))) problems.push(`${t.name}: no unique constraint (${u})`);
    for (const fk of t.foreignKeys ?? []) {
      expected += 2;
      if (!has(t.name, 'f', fk.columns)) problems.push(`${t.name}: no foreign key (${fk.columns}) → ${fk.table}`);
      if (!idx.some((i) => i.table === t.name && i.cols === fk.columns.join(','))) problems.push(`${t.name}: no index on (${fk.columns})`);
    }
  }
  const analyzed = await sql`SELECT relname, last_analyze, last_autoanalyze FROM pg_stat_user_tables WHERE schemaname = ${schema}`;
  const notAnalyzed = tables.filter((t) => !analyzed.some((a) => a.relname === t.name && (a.last_analyze || a.last_autoanalyze)));
  if (notAnalyzed.length) problems.push(`not analyzed: ${notAnalyzed.map((t) => t.name).join(', ')}`);
  if (problems.length) throw new Error(`load check failed:\n  ${problems.join('\n  ')}`);
  return `row counts = manifest; ${expected} keys/FK indexes present; analyzed`;
}

/* ------------------------------------------------------------------ cleanup in Postgres */

/**
 * Drops a schema the bench made and the load's bookkeeping about it (src/engine/load.ts: claims and
 * part markers in shardflow_load; that schema too once it holds nothing else), so that a run against a
 * long-lived DATABASE_URL leaves nothing behind.
 */
async function dropSchema(sql: postgres.Sql, schema: string): Promise<void> {
  await sql.unsafe(`DROP SCHEMA IF EXISTS ${q(schema)} CASCADE`);
  const [book] = await sql`SELECT to_regclass(${`${LOAD_SCHEMA_BOOK}.claims`}) IS NOT NULL AS claims, to_regclass(${`${LOAD_SCHEMA_BOOK}.parts`}) IS NOT NULL AS parts`;
  if (!book?.claims) return;
  const jobs = (await sql`SELECT DISTINCT job_id FROM ${sql(LOAD_SCHEMA_BOOK)}.claims WHERE schema_name = ${schema}`).map((r) => r.job_id as string);
  if (book.parts && jobs.length) await sql`DELETE FROM ${sql(LOAD_SCHEMA_BOOK)}.parts WHERE job_id = ANY(${jobs})`;
  await sql`DELETE FROM ${sql(LOAD_SCHEMA_BOOK)}.claims WHERE schema_name = ${schema}`;
  const [left] = await sql`SELECT (SELECT count(*) FROM ${sql(LOAD_SCHEMA_BOOK)}.claims)::int AS n`;
  const [parts] = book.parts ? await sql`SELECT count(*)::int AS n FROM ${sql(LOAD_SCHEMA_BOOK)}.parts` : [{ n: 0 }];
  if (left?.n === 0 && parts?.n === 0) await sql.unsafe(`DROP SCHEMA IF EXISTS ${q(LOAD_SCHEMA_BOOK)} CASCADE`);
}

/* ------------------------------------------------------------------ main */

const log = (l: string) => process.stderr.write(`[bench] ${l}\n`);
const f2 = (n: number) => n.toFixed(2);
const fmtRate = (r: number) => (r >= 1e6 ? `${(r / 1e6).toFixed(2)}M` : `${(r / 1e3).toFixed(0)}K`);

interface JobRun {
  scenario: ScenarioName;
  seconds: number;
  rows: number;
  peakRssMb: number;
  rssAfterWarmMb: number;
  workerCpuS: number;
  postgresCpuS: number;
  selfCpuS: number;
  temporalCpuS: number;
  /** CPU seconds of every other process during the job (other work on the machine: noise). */
  otherCpuS: number;
  load1: number;
  mb: number;
  shards: number;
  shardRows: number;
  phases: Phase[];
  /** The load's statements seen in pg_stat_activity (load scenario). */
  sqlSpans?: SqlSpan[];
  check?: string;
}

async function main(): Promise<void> {
  const body = benchSpec(rowsArg);
  const spec = resolve(body);
  const layouts = computeLayouts(spec);
  const tables = relationalTables(spec, layouts);
  const rowsOf: Record<string, number> = Object.fromEntries(tables.map((t) => [t.name, t.rows]));
  const totalRows = tables.reduce((n, t) => n + t.rows, 0);
  log(`spec: ${tables.map((t) => `${t.name} ${t.rows.toLocaleString('en-US')}`).join(', ')} = ${totalRows.toLocaleString('en-US')} rows`);

  const testStack = await startTestStack({ log });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-bench-rel-'));
  const dataDir = testStack.env.SHARDFLOW_DATA_DIR!;
  const common = { ...testStack.env, TEMPORAL_TASK_QUEUE: uniqueTaskQueue('bench-rel') };
  const config = loadConfig({ ...process.env, ...common, HOST: '127.0.0.1', PORT: '0', SHARDFLOW_AUTH: 'off', LOG_LEVEL: 'silent' });
  const logger = createLogger(config, 'bench-api');
  const db = createDb(config.database.url!, { max: 4, applicationName: 'shardflow-bench-api' });
  const temporal = await connectTemporal(config, logger, 30_000);
  const server = await startApiServer(config, { config, db, kinds: builtInKinds, temporal, logger }, { handleSignals: false, gracePeriodMs: 1000 });
  const sql = postgres(config.database.url!, { max: 1, onnotice: () => {} });
  const workerEnv: NodeJS.ProcessEnv = { ...process.env, ...common, WORKER_METRICS_PORT: '0', LOG_LEVEL: process.env.LOG_LEVEL || 'info' };
  const workerConfig = loadConfig(workerEnv);
  const pgPid = testStack.stack.postgres?.pid;
  const temporalPid = testStack.stack.temporal?.pid;

  let current: WorkerProc | undefined;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await current?.stop().catch(() => undefined);
    for (const s of [LOAD_SCHEMA, `${LOAD_SCHEMA}_warm`, FLOOR_SCHEMA]) await dropSchema(sql, s).catch(() => undefined);
    await sql.end({ timeout: 5 }).catch(() => undefined);
    await db.close().catch(() => undefined);
    await server.close().catch(() => undefined);
    await testStack.stop().catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void cleanup().then(() => process.exit(130)));

  const cpu = os.cpus();
  const header =
    `# ${cpu.length} CPUs (${cpu[0]?.model ?? '?'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; ` +
    `worker threads ${workerConfig.worker.threads}, part rows ${workerConfig.worker.partRows}, max concurrent activities ${workerConfig.worker.maxConcurrentActivities}; ` +
    `embedded Postgres (fsync off)${process.env.DATABASE_URL ? ' — or DATABASE_URL' : ''}; spec ${tables.map((t) => `${t.name} ${t.rows}`).join(' / ')}`;
  log(header);

  const runs: JobRun[] = [];
  let floor: Floor | undefined;
  let duck: Awaited<ReturnType<typeof duckRun>>;
  let failures = 0;

  async function runScenario(scenario: ScenarioName): Promise<JobRun | undefined> {
    const output = scenario === 'load' ? { format: 'parquet', postgres: { schema: LOAD_SCHEMA } } : { format: 'parquet' };
    const warmOutput = scenario === 'load' ? { format: 'parquet', postgres: { schema: `${LOAD_SCHEMA}_warm` } } : { format: 'parquet' };
    for (const s of [LOAD_SCHEMA, `${LOAD_SCHEMA}_warm`]) await dropSchema(sql, s);
    const worker = await startWorker(workerEnv);
    current = worker;
    try {
      // Warm-up (not timed): the same spec at --warm-rows (1M: 100,000 customers), in 8 shards per table or so.
      const warm = await runJob(server.url, { kind: 'relational', spec: benchSpec(warmRows), output: warmOutput, partitioning: { shardRows: Math.max(2_000, Math.round(warmRows / 16)) } }, 300_000);
      fs.rmSync(path.join(dataDir, 'jobs', warm.id), { recursive: true, force: true });
      await dropSchema(sql, `${LOAD_SCHEMA}_warm`);
      await sql`CHECKPOINT`;
      await delay(300);
      const reset = resetPeak(worker.pid);
      const rssAfterWarmMb = procStatus(worker.pid)?.rssMb ?? 0;
      let sampled = 0;
      const sampler = setInterval(() => (sampled = Math.max(sampled, procStatus(worker.pid)?.rssMb ?? 0)), 100);
      const w0 = cpuOf(worker.pid);
      const pg0 = postgresCpu(pgPid);
      const t0 = temporalPid ? cpuOf(temporalPid) : 0;
      const self0 = process.cpuUsage();
      const m0 = machineBusy();
      const load1 = os.loadavg()[0]!;
      log(`${scenario}: ${totalRows} rows, output ${JSON.stringify(output)} — load ${f2(load1)}`);
      let run: Awaited<ReturnType<typeof runJob>>;
      const activity = scenario === 'load' ? sampleActivity(config.database.url!, LOAD_SCHEMA) : undefined;
      let spans: SqlSpan[] | undefined;
      try {
        const died = exitOf(worker.child).then((e) => {
          throw new Error(`the worker exited during the job (code ${e.code}, signal ${e.signal})`);
        });
        died.catch(() => undefined);
        // The job's end is the workflow's result (awaited through the Temporal client), then one GET:
        // no 20-per-second polling competing with the job for the 2 cores (--poll to poll instead).
        const settled = pollOnly ? undefined : (id: string) => temporal.client.workflow.getHandle(id).result();
        run = await Promise.race([runJob(server.url, { kind: 'relational', spec: body, output }, 60 * 60_000, settled), died]);
      } finally {
        clearInterval(sampler);
        spans = await activity?.stop();
      }
      const self = process.cpuUsage(self0);
      const busy = machineBusy() - m0;
      const r: JobRun = {
        scenario,
        seconds: run.seconds,
        rows: totalRows,
        peakRssMb: Math.max(reset ? (procStatus(worker.pid)?.hwmMb ?? 0) : 0, sampled),
        rssAfterWarmMb,
        workerCpuS: cpuOf(worker.pid) - w0,
        postgresCpuS: postgresCpu(pgPid) - pg0,
        selfCpuS: (self.user + self.system) / 1e6,
        temporalCpuS: temporalPid ? cpuOf(temporalPid) - t0 : 0,
        otherCpuS: 0,
        load1,
        mb: 0,
        shards: 0,
        shardRows: 0,
        phases: await phases(temporal.client, run.id),
        ...(spans ? { sqlSpans: spans } : {}),
      };
      r.otherCpuS = Math.max(0, busy - r.workerCpuS - r.postgresCpuS - r.selfCpuS - r.temporalCpuS);
      const jobDir = path.join(dataDir, 'jobs', run.id);
      try {
        const manifest = JSON.parse(fs.readFileSync(path.join(jobDir, 'manifest.json'), 'utf8'));
        if (run.view.result?.rows !== totalRows || manifest.rows !== totalRows) throw new Error(`${scenario}: result.rows ${run.view.result?.rows}, manifest ${manifest.rows}, expected ${totalRows}`);
        for (const t of tables) {
          const m = manifest.tables.find((x: any) => x.name === t.name);
          if (m?.rows !== t.rows) throw new Error(`${scenario}: manifest ${t.name} rows ${m?.rows}, expected ${t.rows}`);
        }
        r.mb = (manifest.bytes ?? 0) / 1e6;
        r.shards = manifest.shards ?? 0;
        r.shardRows = manifest.partitioning?.shardRows ?? 0;
        if (scenario === 'load') r.check = await checkLoad(sql, LOAD_SCHEMA, tables, manifest);
      } finally {
        fs.rmSync(jobDir, { recursive: true, force: true });
        if (scenario === 'load') await dropSchema(sql, LOAD_SCHEMA);
      }
      log(
        `${scenario}: ${f2(r.seconds)} s, ${fmtRate(r.rows / r.seconds)} rows/s, ${r.mb.toFixed(0)} MB of Parquet, peak RSS ${r.peakRssMb.toFixed(0)} MB; CPU s: worker ${r.workerCpuS.toFixed(1)}, ` +
          `Postgres ${r.postgresCpuS.toFixed(1)}, bench+API ${r.selfCpuS.toFixed(1)}, Temporal ${r.temporalCpuS.toFixed(1)}, other processes ${r.otherCpuS.toFixed(1)}${r.check ? `; ${r.check}` : ''}`,
      );
      if (r.sqlSpans?.length) {
        log(`    Postgres statements of the load (pg_stat_activity every 100 ms; seconds from POST): ${r.sqlSpans.length}`);
        for (const sp of r.sqlSpans) log(`      ${f2(sp.from)}–${f2(sp.to)} s ×${sp.maxBackends}  ${sp.what}`);
      }
      for (const p of r.phases) log(`    ${p.type}: ${p.count}×, ${f2(p.from)}–${f2(p.to)} s after the (last run's) workflow start, ${f2(p.busy)} s of activity time in all`);
      return r;
    } catch (err) {
      failures++;
      log(`${scenario}: FAILED: ${(err as Error).message}\n--- worker output (tail) ---\n${worker.tail.text()}`);
      for (const d of fs.existsSync(path.join(dataDir, 'jobs')) ? fs.readdirSync(path.join(dataDir, 'jobs')) : []) fs.rmSync(path.join(dataDir, 'jobs', d), { recursive: true, force: true });
      return undefined;
    } finally {
      await worker.stop();
      current = undefined;
    }
  }

  try {
    if (only.includes('load')) {
      const r = await runScenario('load');
      if (r) runs.push(r);
      // The floor, worker stopped: CSVs first (not timed), then Postgres alone.
      const csvDir = path.join(tmp, 'csv');
      fs.mkdirSync(csvDir, { recursive: true });
      fs.chmodSync(tmp, 0o755);
      fs.chmodSync(csvDir, 0o755);
      const c0 = performance.now();
      const csv = await writeCsvs(spec, csvDir);
      const csvBytes = [...csv.values()].reduce((n, f) => n + fs.statSync(f).size, 0);
      log(`floor: wrote ${(csvBytes / 1e6).toFixed(0)} MB of CSV in ${((performance.now() - c0) / 1000).toFixed(1)} s (not timed)`);
      await sql.unsafe(`DROP SCHEMA IF EXISTS ${q(FLOOR_SCHEMA)} CASCADE`);
      await sql.unsafe(`CREATE SCHEMA ${q(FLOOR_SCHEMA)}`);
      await sql`CHECKPOINT`;
      const pg0 = postgresCpu(pgPid);
      const m0 = machineBusy();
      const floorLoad1 = os.loadavg()[0]!;
      const viaPsql = floorClient === 'psql' && (await exitOf(spawn('psql', ['--version'], { stdio: 'ignore' })).then((e) => e.code === 0).catch(() => false));
      const url = config.database.url!;
      const fr = viaPsql ? await floorPsql(url, FLOOR_SCHEMA, tables, csv) : await floorPostgresJs(url, FLOOR_SCHEMA, tables, csv);
      await delay(300); // the psql session's backend has exited: let the postmaster reap it (its CPU moves to cutime)
      const postgresCpuS = postgresCpu(pgPid) - pg0;
      floor = { ...fr, postgresCpuS, load1: floorLoad1, otherCpuS: Math.max(0, machineBusy() - m0 - postgresCpuS) };
      const check = await checkLoad(sql, FLOOR_SCHEMA, tables, { tables: tables.map((t) => ({ name: t.name, rows: t.rows })) }).catch((e) => `CHECK FAILED ${(e as Error).message}`);
      log(`floor (${fr.client}): ${f2(fr.seconds)} s, Postgres CPU ${floor.postgresCpuS.toFixed(1)} s, other processes (psql included) ${floor.otherCpuS.toFixed(1)} s, load ${f2(floorLoad1)}; ${check}`);
      for (const s of fr.steps) log(`    ${s.name}: ${f2(s.seconds)} s`);
      await sql.unsafe(`DROP SCHEMA IF EXISTS ${q(FLOOR_SCHEMA)} CASCADE`);
      fs.rmSync(csvDir, { recursive: true, force: true });
    }
    if (only.includes('parquet')) {
      let fastest: JobRun | undefined;
      for (let k = 0; k < rounds; k++) {
        const r = await runScenario('parquet');
        if (r && (!fastest || r.seconds < fastest.seconds)) fastest = r;
        if (useDuck) {
          const duckDir = path.join(tmp, 'duckdb');
          fs.mkdirSync(duckDir, { recursive: true });
          const d = await duckRun(rowsOf, duckDir);
          if (d) {
            log(`duckdb (${d.engine}${duckLevel === undefined ? '' : `, zstd level ${duckLevel}`}): ${f2(d.seconds)} s, ${d.cpuSeconds.toFixed(1)} CPU-s, ${(d.bytes / 1e6).toFixed(0)} MB; ${Object.entries(d.perTable).map(([t, s]) => `${t} ${f2(s)} s`).join(', ')}`);
            if (r) log(`round ${k + 1} of ${rounds}: ${f2(r.seconds)} s / ${f2(d.seconds)} s = ${f2(r.seconds / d.seconds)}`);
            if (!duck || d.seconds < duck.seconds) duck = d;
          }
        }
      }
      if (fastest) runs.push(fastest);
      if (duck && rounds > 1) duck = { ...duck, engine: `${duck.engine}, fastest of ${rounds} rounds` };
      if (duck && duckLevel !== undefined) duck = { ...duck, engine: `${duck.engine}, zstd level ${duckLevel}` };
    }
  } finally {
    printResults(header, runs, floor, duck);
    if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify({ date: new Date().toISOString(), header, tables: rowsOf, runs, floor, duck }, null, 2));
    await cleanup();
  }
  if (failures) {
    console.error(`${failures} scenario(s) failed`);
    process.exitCode = 1;
  }
}

function printResults(header: string, runs: JobRun[], floor: Floor | undefined, duck: { engine: string; seconds: number; cpuSeconds: number } | undefined): void {
  if (!runs.length && !floor) return;
  const rows: string[][] = [];
  for (const r of runs) {
    const ref = r.scenario === 'load' ? floor?.seconds : duck?.seconds;
    const target = r.scenario === 'load' ? LOAD_TARGET : PARQUET_TARGET;
    const ratio = ref === undefined ? undefined : r.seconds / ref;
    rows.push([
      r.scenario === 'load' ? 'load (Parquet + Postgres, keys)' : 'parquet only',
      r.rows.toLocaleString('en-US'),
      f2(r.seconds),
      ref === undefined ? '—' : f2(ref),
      ratio === undefined ? '—' : f2(ratio),
      `≤ ${target}`,
      ratio === undefined ? '—' : ratio <= target ? '✓' : '✗',
      fmtRate(r.rows / r.seconds),
      `${r.peakRssMb.toFixed(0)} ${r.peakRssMb <= RSS_TARGET_MB ? '✓' : '✗'}`,
      r.workerCpuS.toFixed(1),
      r.postgresCpuS.toFixed(1),
      r.mb.toFixed(0),
      `${r.shards}×${r.shardRows >= 1e6 ? `${r.shardRows / 1e6}M` : `${Math.round(r.shardRows / 1e3)}K`}`,
      `${f2(r.load1)}/${r.otherCpuS.toFixed(1)}`,
    ]);
  }
  console.log(`\n${header}`);
  printMarkdownTable(['scenario', 'rows', 'seconds', 'reference s', 'ratio', 'target', '', 'rows/s', 'worker peak RSS MB', 'worker CPU s', 'Postgres CPU s', 'Parquet MB', 'shards', 'load1/other CPU s'], rows);
  console.log(
    `\nreference: load → ${floor ? `Postgres alone, ${floor.client}: CREATE TABLE, COPY FROM the CSVs, PK/UNIQUE/FK + FK indexes, ANALYZE = ${f2(floor.seconds)} s (Postgres CPU ${floor.postgresCpuS.toFixed(1)} s; load1/other CPU s ${f2(floor.load1)}/${floor.otherCpuS.toFixed(1)})` : 'not run'}; ` +
      `parquet → ${duck ? `${duck.engine}, one COPY … TO zstd Parquet per table = ${f2(duck.seconds)} s (${duck.cpuSeconds.toFixed(1)} CPU-s)` : 'not run'}. ` +
      `Times: POST /v1/jobs → ${pollOnly ? 'polling every 50 ms' : "the workflow's result (Temporal client, no polling)"} → first GET answering "completed"; worker start and a warm-up job not timed. Worker peak RSS target ≤ ${RSS_TARGET_MB} MB. ` +
      'load1/other CPU s: 1-min load average before the job / CPU seconds other processes used during it (noise; rerun when not ≈ 0).',
  );
  if (floor?.steps.length) {
    printMarkdownTable(['floor step', 'seconds'], floor.steps.map((s) => [s.name, f2(s.seconds)]));
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
