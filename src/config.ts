/**
 * Configuration from the environment, validated once at start.
 *
 * Every variable is documented in README.md and .env.example. A bad value stops the
 * process with one line that names the variable (see `loadConfigOrExit`).
 */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().min(1);
const onOff = z.enum(['on', 'off']);

const schema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(8080),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  TEMPORAL_ADDRESS: z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port').default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('shardflow'),
  TEMPORAL_UI_PORT: port.default(8233),
  EMBEDDED_TEMPORAL_PORT: port.default(7233),
  TEMPORAL_CLI: z.string().min(1).optional(),

  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  EMBEDDED_POSTGRES_PORT: port.default(5433),
  DB_POOL_MAX: positiveInt.max(1000).default(10),
  SHARDFLOW_POSTGRES_TARGETS: z.string().optional(),

  SHARDFLOW_DATA_DIR: z.string().min(1).default('./.shardflow'),
  SHARDFLOW_AUTH: z.enum(['required', 'off']).optional(),
  SHARDFLOW_DEMO: onOff.default('on'),

  WORKER_METRICS_PORT: port.default(9464),
  WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  WORKER_MAX_RSS_MB: positiveInt.max(1 << 22).optional(),
  WORKER_MAX_CONCURRENT_ACTIVITIES: positiveInt.max(256).default(4),
  WORKER_THREADS: positiveInt.max(256).default(Math.max(1, os.availableParallelism())),
  SHARDFLOW_SHARDS_PER_RUN: positiveInt.max(20000).default(1000),
  SHARDFLOW_PART_ROWS: positiveInt.max(50_000_000).default(1_000_000),
  SHARDFLOW_BOOKKEEPING_RETRY_SECONDS: positiveInt.max(30 * 24 * 3600).default(6 * 3600),
  SHARDFLOW_BOOKKEEPING_RETRY_MAX_INTERVAL_SECONDS: positiveInt.max(3600).default(60),
  READY_WORKER_MAX_AGE_SECONDS: positiveInt.max(3600).default(75),
  SHARDFLOW_RELATIONAL_MAX_TABLES: positiveInt.max(1000).default(32),
  SHARDFLOW_RELATIONAL_MAX_COLUMNS: positiveInt.max(1600).default(200),
  SHARDFLOW_MAX_BODY_BYTES: positiveInt.max(2 ** 30).default(2 ** 20),
  SHARDFLOW_MAX_CSV_BYTES: positiveInt.max(2 ** 32).default(50 * 2 ** 20),
  SHARDFLOW_RATE_LIMIT_PER_MINUTE: positiveInt.max(1_000_000).optional(),
  SHARDFLOW_EMISSIONS_AUTO: onOff.default('on'),
  SHARDFLOW_EMISSIONS_AUTO_ITERATIONS: positiveInt.max(100_000).default(500),
  SHARDFLOW_SECRET_KEY: z.string().optional(),
  SHARDFLOW_RETENTION_DAYS: z.coerce.number().positive('must be a positive number of days (unset it to keep jobs forever)').max(36500).optional(),
});

export type RawConfig = z.infer<typeof schema>;

/** Every variable loadConfig reads (README.md's table and .env.example list each one). */
export const CONFIG_VARIABLES = Object.keys(schema.shape) as (keyof RawConfig)[];

export interface Config {
  host: string;
  port: number;
  logLevel: RawConfig['LOG_LEVEL'];
  temporal: { address: string; namespace: string; taskQueue: string; uiPort: number; embeddedPort: number; cli?: string };
  database: { url?: string; embeddedPort: number; poolMax: number };
  /**
   * Postgres load targets besides the service's own database (`output.postgres.target`), name →
   * URL. Secret: never logged, never returned (a config error names the variable, not the value).
   */
  postgresTargets: Record<string, string>;
  dataDir: string;
  /** `off` only ever while the API listens on loopback. */
  auth: 'required' | 'off';
  demo: boolean;
  /**
   * Event-driven emissions (docs/EMISSIONS.md): after an ingest the API signals-with-start the tenant's
   * calculator workflow; `iterations`: calculations per run before it continues as new.
   */
  emissionsAuto: { enabled: boolean; iterations: number };
  /**
   * `metricsHost`: the address the worker's metrics and /health listen on (loopback by default,
   * like the API); `maxRssBytes`: the memory guard (WORKER_MAX_RSS_MB), null = none.
   */
  worker: { metricsPort: number; metricsHost: string; maxRssBytes: number | null; maxConcurrentActivities: number; threads: number; shardsPerRun: number; partRows: number };
  /**
   * How long a job's bookkeeping activities (plan, finalize, status records, cleanup) retry an
   * unreachable Postgres, and the longest wait between two attempts. Set by the API on each
   * workflow it starts (docs/ENGINE.md, "Outages").
   */
  bookkeepingRetry: { budgetSeconds: number; maxIntervalSeconds: number };
  /** /health/ready counts a worker as present when it polled the task queue this recently. */
  readyWorkerMaxAgeSeconds: number;
  /** Limits on relational specs (a larger spec is a 422 naming spec.tables or its columns). */
  relational: { maxTables: number; maxColumns: number };
  /** Request bodies: JSON (and anything else) at most `bodyBytes`, a CSV upload (text/csv) at most `csvBytes`, 413 past it; `ratePerMinute`: requests per key and minute for keys without their own (and tenant `local` with auth off), null = unlimited. */
  limits: { bodyBytes: number; csvBytes: number; ratePerMinute: number | null };
  /**
   * Finished jobs (completed, failed, cancelled) are removed once they finished more than `days`
   * ago (fractions allowed: 0.5 = 12 h), by the hourly Temporal schedule `shardflow-retention`
   * the API creates at start (src/api/retention.ts). Undefined: kept forever, and the API deletes
   * the schedule.
   */
  retention: { days?: number };
  /**
   * SHARDFLOW_SECRET_KEY (32 bytes): seals the keys of encrypted jobs in Postgres (docs/ENCRYPTION.md).
   * The same on the API and every worker; absent: jobs with `output.encryption` are refused. Secret.
   */
  secretKey?: Buffer;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`invalid configuration: ${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const TARGET_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
const TARGET_URL = /^postgres(ql)?:\/\//;

/** SHARDFLOW_POSTGRES_TARGETS: a JSON object of name → postgres:// URL. Errors never quote a URL. */
function parseTargets(raw: string | undefined): Record<string, string> {
  if (raw === undefined) return {};
  const fail = (why: string) => new ConfigError('SHARDFLOW_POSTGRES_TARGETS', why);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw fail('must be a JSON object of target name → postgres:// URL (the value is not shown: it holds passwords)');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw fail('must be a JSON object of target name → postgres:// URL');
  const out: Record<string, string> = {};
  for (const [name, url] of Object.entries(parsed)) {
    if (!TARGET_NAME.test(name)) throw fail(`target name ${JSON.stringify(name)} must match ${TARGET_NAME.source}`);
    if (typeof url !== 'string' || !TARGET_URL.test(url)) throw fail(`target ${name}: must be a postgres:// URL`);
    out[name] = url;
  }
  return out;
}

/** SHARDFLOW_SECRET_KEY: the base64 of 32 bytes. Errors never quote it. */
function parseSecretKey(raw: string | undefined): Buffer | undefined {
  if (raw === undefined) return undefined;
  const text = raw.trim();
  const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(text) ? Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64') : undefined;
  if (!key || key.length !== 32) {
    throw new ConfigError('SHARDFLOW_SECRET_KEY', 'must be the base64 of 32 random bytes, e.g. `openssl rand -base64 32` (the value is not shown: it is secret)');
  }
  return key;
}

/** Variables whose value is never repeated in an error message. */
const SECRET_VARIABLES = new Set(['DATABASE_URL', 'SHARDFLOW_POSTGRES_TARGETS', 'SHARDFLOW_SECRET_KEY']);

/** Parses and validates; throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset, as in most .env tooling.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    const given = cleaned[variable];
    const shown = given !== undefined && !SECRET_VARIABLES.has(variable);
    throw new ConfigError(variable, `${issue.message}${shown ? ` (got ${JSON.stringify(given)})` : ''}`);
  }
  const e = parsed.data;
  const loopback = isLoopback(e.HOST);
  const auth = e.SHARDFLOW_AUTH ?? (loopback ? 'off' : 'required');
  if (auth === 'off' && !loopback) {
    throw new ConfigError('SHARDFLOW_AUTH', `"off" is only allowed while HOST is a loopback address (HOST=${e.HOST})`);
  }
  return {
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      uiPort: e.TEMPORAL_UI_PORT,
      embeddedPort: e.EMBEDDED_TEMPORAL_PORT,
      cli: e.TEMPORAL_CLI,
    },
    database: { url: e.DATABASE_URL, embeddedPort: e.EMBEDDED_POSTGRES_PORT, poolMax: e.DB_POOL_MAX },
    postgresTargets: parseTargets(e.SHARDFLOW_POSTGRES_TARGETS),
    dataDir: path.resolve(e.SHARDFLOW_DATA_DIR),
    auth,
    demo: e.SHARDFLOW_DEMO === 'on',
    emissionsAuto: { enabled: e.SHARDFLOW_EMISSIONS_AUTO === 'on', iterations: e.SHARDFLOW_EMISSIONS_AUTO_ITERATIONS },
    worker: {
      metricsPort: e.WORKER_METRICS_PORT,
      metricsHost: e.WORKER_METRICS_HOST,
      maxRssBytes: e.WORKER_MAX_RSS_MB === undefined ? null : e.WORKER_MAX_RSS_MB * 2 ** 20,
      maxConcurrentActivities: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
      threads: e.WORKER_THREADS,
      shardsPerRun: e.SHARDFLOW_SHARDS_PER_RUN,
      partRows: e.SHARDFLOW_PART_ROWS,
    },
    bookkeepingRetry: { budgetSeconds: e.SHARDFLOW_BOOKKEEPING_RETRY_SECONDS, maxIntervalSeconds: e.SHARDFLOW_BOOKKEEPING_RETRY_MAX_INTERVAL_SECONDS },
    readyWorkerMaxAgeSeconds: e.READY_WORKER_MAX_AGE_SECONDS,
    relational: { maxTables: e.SHARDFLOW_RELATIONAL_MAX_TABLES, maxColumns: e.SHARDFLOW_RELATIONAL_MAX_COLUMNS },
    limits: { bodyBytes: e.SHARDFLOW_MAX_BODY_BYTES, csvBytes: e.SHARDFLOW_MAX_CSV_BYTES, ratePerMinute: e.SHARDFLOW_RATE_LIMIT_PER_MINUTE ?? null },
    retention: { ...(e.SHARDFLOW_RETENTION_DAYS !== undefined ? { days: e.SHARDFLOW_RETENTION_DAYS } : {}) },
    ...(e.SHARDFLOW_SECRET_KEY !== undefined ? { secretKey: parseSecretKey(e.SHARDFLOW_SECRET_KEY) } : {}),
  };
}

/** For entry points: one clear line on stderr and exit code 2 on a bad value. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`shardflow: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
