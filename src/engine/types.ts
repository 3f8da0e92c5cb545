/**
 * Shapes shared by the job workflow, the engine's activities, the kinds and the API. Types only
 * (and nothing that does I/O): this file is bundled into the deterministic workflow sandbox.
 */
import type { ColumnSchema } from '../data/batch.js';
import type { Compression, OutputFormat } from '../encoders/types.js';
import type { Ranges } from './ranges.js';

/** A registered kind's name (`trial`, …): the engine knows kinds only through the registry. */
export type JobKind = string;
/** `cancelling`: a cancel was asked for and running shards are stopping (then `cancelled`). */
export type JobStatus = 'running' | 'paused' | 'cancelling' | 'completed' | 'failed' | 'cancelled';
export const JOB_STATUSES: readonly JobStatus[] = ['running', 'paused', 'cancelling', 'completed', 'failed', 'cancelled'];
export type ProgressUnit = 'rows' | 'activities' | 'patients';

/**
 * `output.postgres`: load the job's tables into this schema of the service's own database, or of
 * a target the operator configured by name (never a connection string from a request).
 */
export interface PostgresOutput {
  schema: string;
  /** An operator-configured target's name; absent = the service's own database. */
  target?: string;
  /** When a table of the job already exists there: refuse the job (default) or drop and replace it. */
  ifExists?: 'error' | 'replace';
}

/**
 * `output.encryption` as stored (job row, workflow input, manifest): a marker, never a secret. The
 * passphrase or key of the request is gone once the API derived the job's key (docs/ENCRYPTION.md).
 */
export interface EncryptionMarker {
  algorithm: 'AES-256-GCM';
  /** How the master key was made: scrypt of a passphrase, or none (a raw key). */
  kdf: 'scrypt' | 'none';
  /** The files' key id (hex of their key check's first 8 bytes); absent in POST /v1/jobs/validate's answer. */
  keyId?: string;
}

export interface JobOutput {
  format: OutputFormat;
  compression: Compression;
  postgres?: PostgresOutput;
  encryption?: EncryptionMarker;
}

export interface JobPartitioning {
  /** Index units (rows, keys) per shard. */
  shardRows: number;
  maxParallelShards: number;
}

/** The workflow's input: everything a shard needs, fixed when the job is created. */
export interface JobInput {
  jobId: string;
  tenantId: string;
  kind: JobKind;
  spec: Record<string, unknown>;
  output: JobOutput;
  partitioning: JobPartitioning;
  /**
   * The retry budget of the job's bookkeeping activities (src/workflows/job.ts), set by the API
   * from its configuration when it starts the workflow; absent (older workflows, direct starts): the defaults.
   */
  bookkeepingRetry?: BookkeepingRetry;
}

/** SHARDFLOW_BOOKKEEPING_RETRY_SECONDS and SHARDFLOW_BOOKKEEPING_RETRY_MAX_INTERVAL_SECONDS. */
export interface BookkeepingRetry {
  budgetSeconds: number;
  maxIntervalSeconds: number;
}

/**
 * One stretch of a plan: an index range of one table (row indexes of a generated table, or keys
 * of rows a kind reads from a database), cut into equal shards, each cut into equal parts (the
 * checkpoint unit inside a shard). Fixed when the job is first planned.
 */
export interface PlanSegment {
  table: string;
  /** [start, end) in the segment's index space. */
  start: number;
  end: number;
  /** Index units per shard and per part. */
  shardSize: number;
  partSize: number;
  /** Work units in the segment (what progress counts): end − start for generated rows. */
  units: number;
}

/** A foreign key: `columns` of this table reference `refColumns` of `table` (same schema). */
export interface ForeignKeyPlan {
  columns: string[];
  table: string;
  refColumns: string[];
}

/**
 * A table the job writes: its columns (for the manifest and the DDL) and, for a Postgres load,
 * the keys and indexes added after the data (docs/ENGINE.md, "Postgres load").
 */
export interface TablePlan {
  name: string;
  /** Rows the plan knows the table will have (0 when `rowsFromFiles`). */
  rows: number;
  /**
   * The table's rows are not known at plan time (a child table whose rows per parent are only
   * known once the parents are generated, e.g. the timeline of patients): the manifest counts them
   * from the files, and finalize does not compare them with `rows`. Not for Postgres loads.
   */
  rowsFromFiles?: boolean;
  columns: ColumnSchema[];
  primaryKey?: string[];
  /** Column sets with a UNIQUE constraint. */
  unique?: string[][];
  foreignKeys?: ForeignKeyPlan[];
  /** Column sets with a plain index (foreign-key columns get one unless listed here already). */
  indexes?: string[][];
}

/** What `planJob` decides: the shard grid (fixed at the first plan), and what is already done. */
export interface JobPlan {
  unit: ProgressUnit;
  /** Work units of the whole job. */
  total: number;
  shardCount: number;
  segments: PlanSegment[];
  tables: TablePlan[];
  /** Shards already complete, as inclusive ranges. */
  completed: Ranges;
  completedUnits: number;
  /** Sums that shard results carry (e.g. emissions by scope), added up as shards complete. */
  totals: Record<string, number>;
  /** Shards one run may complete before it continues as new (bounds history). */
  shardsPerRun: number;
}

/** One shard, resolved from the plan: an index range of one table. */
export interface ShardRef {
  index: number;
  table: string;
  start: number;
  end: number;
  partSize: number;
  /** Number of the shard's first part within its table (part names sort in index order). */
  firstPart: number;
}

export interface ShardTask {
  input: JobInput;
  shard: ShardRef;
}

/** A file a shard closed (complete, renamed into place). */
export interface FileRecord {
  /** Path inside the job folder, e.g. `vitals/part-00003.parquet`. */
  name: string;
  table: string;
  rows: number;
  bytes: number;
  sha256: string;
  /** Content digest of the rows in the file (src/data/digest.ts), when the kind computes one. */
  digest?: string;
}

/**
 * A shard's durable state: kept in `.state/shard-NNNNN.json` and sent as the heartbeat details,
 * so a retry on any worker resumes from it. `checkpoint` is the kind's own (JSON).
 */
export interface ShardState<C = unknown> {
  shardIndex: number;
  complete: boolean;
  /** Units done in committed work (closed parts, committed transactions). */
  unitsCommitted: number;
  /** Units done so far including work in flight: what progress shows. */
  unitsDone: number;
  files: FileRecord[];
  checkpoint: C | null;
  totals?: Record<string, number>;
}

export interface ShardResult {
  shardIndex: number;
  units: number;
  bytes: number;
  files: number;
  /** Units reused from an earlier attempt's checkpoint rather than done again. */
  resumedUnits: number;
  totals?: Record<string, number>;
}

/** What a job's Postgres load did (manifest `load`, job result `load`). */
export interface LoadSummary {
  /** The target's name; absent = the service's own database. Never a URL. */
  target?: string;
  schema: string;
  tables: Array<{ name: string; rows: number }>;
  /** Keys and indexes the load added (or found already in place on a retry). */
  constraints: number;
}

export interface JobResultSummary {
  rows: number;
  shards: number;
  files: number;
  bytes: number;
  manifest: string;
  /** The content digest, when the job has one table; per table in `tables`. */
  digest?: string;
  tables: Array<{ name: string; rows: number; digest?: string }>;
  totals?: Record<string, number>;
  load?: LoadSummary;
}

export interface ShardCounts {
  total: number;
  completed: number;
  running: number;
}

/** The API's progress object (docs/API.md). */
export interface ApiProgress {
  unit: ProgressUnit;
  done: number;
  total: number;
  fraction: number;
  ratePerSecond: number | null;
  etaSeconds: number | null;
  shards: ShardCounts;
  /**
   * What the job is doing: `planning`, `running` (shards), `finalizing` (manifest, a load's keys and
   * indexes: done = total, ETA unknown), `cancelling`, `done`; null when the workflow did not answer.
   */
  phase: JobPhase | null;
  /**
   * The kind's totals over the shards completed so far (e.g. emissions: `kgCo2e`, `activities`,
   * by type and by scope), as the workflow adds them up; absent for kinds that count none. A running
   * shard's batches join when the shard completes.
   */
  totals?: Record<string, number>;
}

export type JobPhase = 'planning' | 'running' | 'finalizing' | 'cancelling' | 'done';

/**
 * The `progress` query's answer: the API's progress object as the workflow alone knows it —
 * `done` counts completed shards only, and rate/ETA are null (the API adds running shards'
 * heartbeats and the rate) — plus what the workflow knows beyond it.
 */
export interface JobProgress extends ApiProgress {
  paused: boolean;
  phase: JobPhase;
  /** Shards running now, so a reader can match heartbeats to them. */
  runningShards: number[];
  /** How many times this job continued as new (history stays bounded). */
  runs: number;
}

/** State carried across continue-as-new. Compact: completed shards as ranges. */
export interface CarriedState {
  plan: JobPlan;
  paused: boolean;
  runs: number;
}
