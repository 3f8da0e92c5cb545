/**
 * The reference the trial bench divides by: DuckDB writing N rows of the same seven column types
 * to Parquet with the scenario's codec (zstd unless it names another), `COPY (SELECT … FROM
 * range(N)) TO '<dir>/ref.parquet' (FORMAT parquet, COMPRESSION <codec>)`, with DuckDB's default
 * threads (= cores).
 *
 * Columns: SubjectID 'S000001'-style, one per 4 rows; TreatmentArm one of 2 strings (first half
 * Active); VisitName one of 4 strings; SystolicBP / DiastolicBP / HeartRate INTEGER, uniform over
 * 60 / 40 / 50 values (about the spread of the generated ones); Temperature DOUBLE, 1 decimal.
 *
 * DuckDB comes from the `@duckdb/node-api` devDependency (prebuilt binary inside the npm package,
 * run in this process); if it cannot be loaded, from Python's `duckdb` package (`python3`).
 * Timed: the COPY statement only (not connecting, not deleting the file); CPU = the process's
 * user + system time over it (all of DuckDB's threads; in this process the idle API adds ~0).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface DuckRef {
  /** e.g. "DuckDB v1.5.6 (@duckdb/node-api), 2 threads". */
  engine: string;
  /** Wall seconds for the COPY of `rows` rows, and the CPU seconds DuckDB's process used meanwhile. */
  run(rows: number, codec?: RefCodec): Promise<{ seconds: number; cpuSeconds: number }>;
  close(): void;
}

export type RefCodec = 'zstd' | 'snappy' | 'gzip' | 'none';
const DUCK_CODEC: Record<RefCodec, string> = { zstd: 'zstd', snappy: 'snappy', gzip: 'gzip', none: 'uncompressed' };

/** The COPY statement for `rows` rows (a multiple of 8: 4 visits, 2 arms). */
export function referenceSql(rows: number, file: string, codec: RefCodec = 'zstd'): string {
  const subjects = rows / 4;
  const width = Math.max(6, String(subjects).length);
  const nPerArm = subjects / 2;
  return `COPY (
  SELECT
    'S' || lpad(CAST(i // 4 + 1 AS VARCHAR), ${width}, '0') AS SubjectID,
    CASE WHEN i // 4 < ${nPerArm} THEN 'Active' ELSE 'Placebo' END AS TreatmentArm,
    ['Baseline', 'Week 4', 'Week 8', 'Week 12'][i % 4 + 1] AS VisitName,
    CAST(100 + floor(random() * 60) AS INTEGER) AS SystolicBP,
    CAST(60 + floor(random() * 40) AS INTEGER) AS DiastolicBP,
    CAST(55 + floor(random() * 50) AS INTEGER) AS HeartRate,
    round(36.0 + random() * 1.5, 1) AS Temperature
  FROM range(${rows}) t(i)
) TO '${file.replace(/'/g, "''")}' (FORMAT parquet, COMPRESSION ${DUCK_CODEC[codec]})`;
}

async function nodeRef(dir: string): Promise<DuckRef> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  const info = (await con.runAndReadAll("SELECT version() AS v, current_setting('threads') AS t")).getRowObjects()[0]!;
  const file = path.join(dir, 'ref.parquet');
  const run = async (rows: number, codec: RefCodec = 'zstd') => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await con.run(referenceSql(rows, file, codec));
    const seconds = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    fs.rmSync(file, { force: true });
    return { seconds, cpuSeconds: (c.user + c.system) / 1e6 };
  };
  await run(8000); // warm-up, like the worker's
  return {
    engine: `DuckDB ${info.v} (@duckdb/node-api), ${info.t} threads`,
    run,
    close: () => {
      con.closeSync();
      instance.closeSync();
    },
  };
}

const PY = `
import sys, time, duckdb, os
rows, file = int(sys.argv[1]), sys.argv[2]
con = duckdb.connect()
sql = sys.stdin.read()
t0, c0 = time.perf_counter(), time.process_time()
con.execute(sql)
print(time.perf_counter() - t0, time.process_time() - c0)
os.remove(file)
`;

function pythonRef(dir: string): DuckRef | undefined {
  const probe = spawnSync('python3', ['-c', "import duckdb; print(duckdb.__version__, duckdb.sql(\"SELECT current_setting('threads')\").fetchone()[0])"], { encoding: 'utf8' });
  if (probe.status !== 0) return undefined;
  const [version, threads] = probe.stdout.trim().split(' ');
  const file = path.join(dir, 'ref.parquet');
  return {
    engine: `DuckDB ${version} (Python duckdb), ${threads} threads`,
    run: async (rows, codec = 'zstd') => {
      const r = spawnSync('python3', ['-c', PY, String(rows), file], { input: referenceSql(rows, file, codec), encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`python duckdb: ${r.stderr.trim()}`);
      const [seconds, cpuSeconds] = r.stdout.trim().split(' ').map(Number);
      return { seconds: seconds!, cpuSeconds: cpuSeconds! };
    },
    close: () => undefined,
  };
}

/** The node binding, else Python's; undefined when neither loads. */
export async function openDuckRef(dir: string, log: (l: string) => void): Promise<DuckRef | undefined> {
  try {
    return await nodeRef(dir);
  } catch (err) {
    log(`@duckdb/node-api not usable (${(err as Error).message}); trying Python's duckdb`);
  }
  const py = pythonRef(dir);
  if (!py) log('no DuckDB found: ratios are not measured');
  return py;
}
