/**
 * `npm run bench -- <suite> [options]`: one entry point for the benchmarks.
 *
 *   trial        end to end through the API, Temporal and a real worker process (bench/trial.ts)
 *                  --quick (skip 100M)  --only a,b  --detail  --list  (see bench/trial.ts)
 *   generators   rows/s of the trial generators, one core (bench/generators.ts [rows] [batch])
 *   sinks        rows/s and RSS of the part writers, one core (bench/sinks.ts --rows N --cases …)
 *   worker-rss   worker RSS idle and over a 10M-row job, from sources vs compiled (bench/worker-rss.ts)
 *   relational   10M FK-linked rows: generated + loaded into Postgres with keys vs Postgres' own COPY floor,
 *                  and Parquet only vs DuckDB (bench/relational.ts)
 *   emissions    N pending activities: an emissions job vs the kind's SQL in one set-based pass; event-driven
 *                  latency ingest → result (bench/emissions.ts)
 *   patients     N patients to gzipped NDJSON and FHIR Bulk NDJSON vs JSON.stringify + gzip of the same records (bench/patients.ts)
 *
 * Each suite runs in its own process (so its peak RSS and its flags are its own); the exit code
 * is the suite's.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SUITES: Record<string, string> = {
  trial: 'trial.ts',
  generators: 'generators.ts',
  sinks: 'sinks.ts',
  'worker-rss': 'worker-rss.ts',
  relational: 'relational.ts',
  emissions: 'emissions.ts',
  patients: 'patients.ts',
};

const [suite, ...rest] = process.argv.slice(2);
if (!suite || suite === '--help' || suite === '-h' || !SUITES[suite]) {
  process.stderr.write(
    'usage: npm run bench -- <suite> [options]\n' +
      '  trial [--quick] [--only name,…] [--detail] [--list]   end to end: POST /v1/jobs → completed manifest\n' +
      '  generators [rows] [batchRows]                         generator rows/s per core\n' +
      '  sinks [--rows N] [--cases parquet:zstd,…]             part writer rows/s and RSS\n' +
      '  worker-rss [--rounds N] [--no-build]                  worker RSS: tsx sources vs compiled dist/\n' +
      '  relational [--rows N] [--quick] [--only load,parquet] FK-linked tables: load vs Postgres COPY floor, Parquet vs DuckDB\n' +
      '  emissions [--activities N] [--only job,latency] [--json out.json]  emissions job vs set-based SQL floor; ingest → result latency\n' +
      '  patients [--patients N] [--only ndjson,fhir-bulk,fhir]  patients to gzipped NDJSON / FHIR vs JSON.stringify + gzip floor\n',
  );
  process.exit(suite && !SUITES[suite] && suite !== '--help' && suite !== '-h' ? 2 : 0);
}

const script = fileURLToPath(new URL(`./${SUITES[suite]}`, import.meta.url));
const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...rest], { stdio: 'inherit' });
if (r.error) {
  process.stderr.write(`bench: could not run ${script}: ${r.error.message}\n`);
  process.exit(1);
}
process.exit(r.status ?? (r.signal ? 1 : 0));
