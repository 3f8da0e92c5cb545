/**
 * `npm run chaos [-- --rows 10000000 --kills 20 --kinds trial,relational --seed 1]`: faults during
 * real jobs, checked against an undisturbed run of the same job. For every kind the server runs:
 *
 *   reference   the job with nothing disturbed: its tables' rows and content digests;
 *   kills       the same job again while the worker is SIGKILLed at random moments and restarted
 *               (the kills spread over the kinds; each job takes several);
 *   temporal    the Temporal dev server (a persistent SQLite file) stopped mid-job and restarted;
 *   postgres    the embedded Postgres stopped mid-job and restarted (with a Postgres load, for
 *               kinds that load, so the load itself is disturbed).
 *
 * A round passes when its job completes with the reference's rows and digests (and, with a load,
 * the reference's row counts in Postgres). Prints every round and `N passed, N failed`; exits
 * non-zero on any failure. Its own stack: Temporal and Postgres on free ports, in a temp folder.
 */
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, chmodSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { resolveTemporalBinary } from '../src/dev/temporal-binary.js';
import { startTemporalDevServer, type TemporalDevServer } from '../src/dev/temporal-server.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../src/dev/postgres.js';
import { pickFreePorts } from '../src/dev/process.js';
import { runMigrations } from '../src/db/migrate.js';
import { benchSpec } from '../bench/relational-spec.js';
import { arg, http, say, secs, startApi, startWorkerProc, waitJob, type Proc } from './support.js';

interface KindCase {
  kind: string;
  body(rows: number, seed: number): Record<string, unknown>;
  /** Loads into Postgres in the postgres round. */
  loads: boolean;
}

/** One job per built-in kind, of about `rows` rows; a new kind adds a line here. */
const CASES: KindCase[] = [
  { kind: 'trial', loads: true, body: (rows, seed) => ({ kind: 'trial', spec: { method: 'mvn', nPerArm: Math.round(rows / 8), seed } }) },
  { kind: 'relational', loads: true, body: (rows, seed) => ({ kind: 'relational', spec: { ...benchSpec(rows), seed } }) },
];

interface Outcome {
  tables: Record<string, { rows: number; digest: string }>;
}

const tablesOf = (m: any): Outcome['tables'] => Object.fromEntries(m.tables.map((t: any) => [t.name, { rows: t.rows, digest: t.digest }]));

async function main(): Promise<number> {
  const rows = Number(arg('rows', '10000000'));
  const kills = Number(arg('kills', '20'));
  const kinds = (arg('kinds') ?? CASES.map((c) => c.kind).join(',')).split(',');
  const seed = Number(arg('seed', '1'));
  const cases = CASES.filter((c) => kinds.includes(c.kind));
  if (!cases.length) throw new Error(`no such kinds: ${kinds.join(', ')} (known: ${CASES.map((c) => c.kind).join(', ')})`);

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'shardflow-chaos-'));
  chmodSync(tmp, 0o755);
  const dataDir = path.join(tmp, 'data');
  mkdirSync(dataDir);
  const [tPort, pgPort] = await pickFreePorts(2);
  const binary = await resolveTemporalBinary({ allowBuild: false });
  const startTemporal = () =>
    startTemporalDevServer({ binary, dbFile: path.join(tmp, 'temporal.sqlite'), port: tPort!, uiPort: null, namespace: 'default', logFile: path.join(tmp, 'temporal.log') });
  const startPg = () => startEmbeddedPostgres({ dataDir: path.join(tmp, 'postgres'), port: pgPort!, fast: true, logFile: path.join(tmp, 'postgres.log') });
  let temporal: TemporalDevServer = await startTemporal();
  let pg: EmbeddedPostgres = await startPg();
  await runMigrations(pg.url);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: temporal.address,
    DATABASE_URL: pg.url,
    SHARDFLOW_DATA_DIR: dataDir,
    SHARDFLOW_AUTH: 'off',
    SHARDFLOW_DEMO: 'off',
    LOG_LEVEL: 'warn',
  };
  let worker: Proc = await startWorkerProc(env);
  let api = await startApi(env);
  const results: Array<{ round: string; ok: boolean; detail: string }> = [];
  const record = (round: string, ok: boolean, detail: string) => {
    results.push({ round, ok, detail });
    say(`${ok ? 'PASS' : 'FAIL'}  ${round}: ${detail}`);
  };

  const run = async (body: Record<string, unknown>, during?: (id: string) => Promise<string>): Promise<{ out?: Outcome; job: any; note: string; ms: number }> => {
    const t0 = Date.now();
    const r = await http(api.url, 'POST', '/v1/jobs', body);
    if (r.status !== 202) throw new Error(`POST /v1/jobs ${r.status}: ${JSON.stringify(r.json)}`);
    const note = during ? await during(r.json.id) : '';
    const job = await waitJob(api.url, r.json.id, (j) => ['completed', 'failed', 'cancelled'].includes(j.status), 900_000);
    if (job.status !== 'completed') return { job, note, ms: Date.now() - t0 };
    const manifest = (await http(api.url, 'GET', `/v1/jobs/${job.id}/files/manifest.json`)).json;
    return { out: { tables: tablesOf(manifest) }, job, note, ms: Date.now() - t0 };
  };
  const same = (a: Outcome, b: Outcome) => JSON.stringify(a.tables) === JSON.stringify(b.tables);
  /** Resolves once the job has done at least `fraction` of its rows. */
  const reach = (id: string, fraction: number) => waitJob(api.url, id, (j) => (j.progress?.fraction ?? 0) >= fraction || ['completed', 'failed', 'cancelled'].includes(j.status));

  try {
    const killsPer = cases.map((_, i) => Math.floor(kills / cases.length) + (i < kills % cases.length ? 1 : 0));
    for (const [ci, c] of cases.entries()) {
      const body = c.body(rows, seed);
      const ref = await run(body);
      if (!ref.out) {
        record(`${c.kind} reference`, false, `the undisturbed job ended ${ref.job.status}: ${JSON.stringify(ref.job.error)}`);
        continue;
      }
      const total = Object.values(ref.out.tables).reduce((s, t) => s + t.rows, 0);
      record(`${c.kind} reference`, true, `${total.toLocaleString('en-US')} rows in ${secs(ref.ms)}`);

      // Kills: several per job, at random points of its progress; the worker comes back each time.
      let left = killsPer[ci]!;
      while (left > 0) {
        const here = Math.min(left, 3);
        left -= here;
        const k = await run(body, async (id) => {
          const at: string[] = [];
          for (let i = 0; i < here; i++) {
            const f = (i + randomInt(20, 80) / 100) / (here + 0.5);
            const j = await reach(id, f);
            if (j.status !== 'running' && j.status !== 'paused') break;
            await new Promise((r) => setTimeout(r, randomInt(0, 400)));
            await worker.kill();
            at.push(`${Math.round((j.progress?.fraction ?? 0) * 100)}%`);
            worker = await startWorkerProc(env);
          }
          return `${at.length} SIGKILLs at ${at.join(', ')}`;
        });
        const killed = Number(/^(\d+)/.exec(k.note)?.[1] ?? 0);
        record(`${c.kind} kills`, !!k.out && same(k.out, ref.out), `${k.note}; ${k.job.status} in ${secs(k.ms)}${k.out && !same(k.out, ref.out) ? `; tables differ: ${JSON.stringify(k.out.tables)}` : ''}`);
        left += here - killed; // a job that ended before every kill: the rest go to the next job
        if (killed === 0) break;
      }

      // Temporal restart mid-job (its state is in the SQLite file).
      const t = await run(body, async (id) => {
        await reach(id, 0.3);
        const t0 = Date.now();
        await temporal.stop();
        temporal = await startTemporal();
        return `Temporal down ${secs(Date.now() - t0)}`;
      });
      record(`${c.kind} temporal restart`, !!t.out && same(t.out, ref.out), `${t.note}; ${t.job.status} in ${secs(t.ms)}`);

      // Postgres restart mid-job, with a load into it where the kind loads.
      const schema = `chaos_${c.kind}`;
      const loadBody = c.loads ? { ...body, output: { format: 'parquet', postgres: { schema, ifExists: 'replace' } } } : body;
      const p = await run(loadBody, async (id) => {
        await reach(id, 0.3);
        const t0 = Date.now();
        await pg.stop();
        pg = await startPg();
        return `Postgres down ${secs(Date.now() - t0)}`;
      });
      let loadOk = true;
      let loadNote = '';
      if (p.out && c.loads) {
        const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
        try {
          for (const [name, tbl] of Object.entries(ref.out.tables)) {
            const [{ n }] = await sql.unsafe(`select count(*)::bigint as n from "${schema}"."${name}"`);
            if (Number(n) !== tbl.rows) {
              loadOk = false;
              loadNote += ` ${name}: ${n} rows in Postgres, ${tbl.rows} expected;`;
            }
          }
          await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          if (loadOk) loadNote = ' Postgres row counts equal';
        } finally {
          await sql.end();
        }
      }
      record(`${c.kind} postgres restart`, !!p.out && same(p.out, ref.out) && loadOk, `${p.note}; ${p.job.status}${p.job.error ? ` (${p.job.error.message})` : ''} in ${secs(p.ms)};${loadNote}`);
    }
  } catch (err) {
    record('suite', false, (err as Error).stack ?? String(err));
  } finally {
    await api.stop(5_000).catch(() => {});
    await worker.stop(10_000).catch(() => {});
    await Promise.allSettled([temporal.stop(), pg.stop()]);
    rmSync(tmp, { recursive: true, force: true });
  }
  const passed = results.filter((r) => r.ok).length;
  const killRounds = results.filter((r) => r.round.endsWith('kills'));
  const killed = killRounds.reduce((n, r) => n + Number(/^(\d+) SIGKILLs/.exec(r.detail)?.[1] ?? 0), 0);
  say(`\n${passed} passed, ${results.length - passed} failed (${killed} worker kills in ${killRounds.length} jobs)`);
  return passed === results.length && results.length > 0 ? 0 : 1;
}

process.exitCode = await main();
