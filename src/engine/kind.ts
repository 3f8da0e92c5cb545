/**
 * What a kind of job is to the engine: one object, registered once (src/kinds/index.ts). The
 * engine, the workflow, the API and the worker know kinds only through this interface.
 *
 *   normalize (API, once)   the spec's semantics: defaults, the seed, checks against stored models
 *                           or scenarios → 400/422 naming `spec.…`; the job's size in units
 *   plan (activity)         tables and segments (index ranges of a table: rows to generate, or keys
 *                           of rows to read); may read the database; fixed at the job's first plan
 *   prepare (activity)      what a shard thread needs (serialisable), once per job and worker
 *   runShard (thread)       `shardModule` exports `runShard: ShardRunner`; the engine heartbeats
 *                           and stores the checkpoint it commits, and asks it to stop
 *   finalize (activity)     after every shard: loads, constraints, extra manifest fields
 */
import type postgres from 'postgres';
import type { ZodType } from 'zod';
import type { JobKey } from '../destinations/index.js';
import type { OutputFormat } from '../encoders/types.js';
import type { FileRecord, JobInput, JobOutput, JobPlan, PlanSegment, ProgressUnit, ShardRef, ShardState, TablePlan } from './types.js';

export interface FieldError {
  /** Dotted path from the request body's root: `spec.visits.2`, `output.format`. */
  path: string;
  message: string;
}

/** A refused spec: 400 (malformed) or 422 (well-formed but not allowed). The API answers problem+json. */
export class SpecError extends Error {
  constructor(
    readonly status: 400 | 422,
    readonly errors: FieldError[],
    message = errors.map((e) => `${e.path}: ${e.message}`).join('; '),
  ) {
    super(message);
    this.name = 'SpecError';
  }
}

/** Dependencies a kind may use on the main thread of the API or a worker. */
export interface KindContext {
  tenantId: string;
  /** The service's own database (absent in tests that run without one). */
  sql?: postgres.Sql;
}

export interface Normalized {
  /** The resolved spec, stored with the job (defaults filled, seed recorded). */
  spec: Record<string, unknown>;
  /** The job's size in the kind's unit: what quotas and progress count. */
  units: number;
}

/** The job's grid as first planned (`.state/plan.json`). */
export type PlannedGrid = Pick<JobPlan, 'unit' | 'total' | 'shardCount' | 'segments' | 'tables'>;

/** A kind's plan: the engine cuts segments into shards (partitioning.shardRows) and parts. */
export interface KindPlan {
  tables: TablePlan[];
  /** Without shardSize/partSize the engine uses partitioning.shardRows and its part size. */
  segments: Array<Omit<PlanSegment, 'shardSize' | 'partSize'> & Partial<Pick<PlanSegment, 'shardSize' | 'partSize'>>>;
}

export interface Kind<Payload = unknown> {
  name: string;
  unit: ProgressUnit;
  /** The shape of `spec` (zod; documents the API too): its failures are 400s naming the field. */
  spec: ZodType;
  /** Output formats the kind writes; the first is the default. */
  formats: readonly OutputFormat[];
  /** True when the kind can load its tables into Postgres (`output.postgres`). */
  postgresLoad?: boolean;
  /**
   * True when the kind's shards read and write the service's own database (DATABASE_URL) rather
   * than, or besides, files: the engine gives each shard thread a client on it (`io.db`).
   */
  usesDatabase?: boolean;
  /** The request field that sets the job's size (named when a quota refuses it), e.g. `spec.nPerArm`. */
  sizePath: string;
  /**
   * About how many table rows of work one unit is (default 1), for the default shard size: a
   * patient with its whole course is ~100 rows' worth, so its jobs get shards of fewer units.
   */
  unitCost?: number;
  /** An example spec for the API documentation. */
  example: Record<string, unknown>;
  normalize(spec: unknown, ctx: KindContext, output: JobOutput): Promise<Normalized>;
  /** The names of the tables a job of this (normalized) spec writes, without planning it (the API's load checks); else the plan's. */
  tableNames?(spec: Record<string, unknown>): string[];
  plan(input: JobInput, ctx: KindContext): Promise<KindPlan>;
  /** What every shard of the job needs, from the input and the job's fixed plan. */
  prepare?(input: JobInput, ctx: KindContext, plan: PlannedGrid): Promise<Payload>;
  /** URL of the module that exports `runShard: ShardRunner<Payload>`, loaded inside shard threads. */
  shardModule: URL;
  /** After every shard completed: what the manifest adds for this kind (loads, totals, extra files). */
  finalize?(input: JobInput, plan: JobPlan, ctx: KindFinalizeContext): Promise<KindFinalized | void>;
  /**
   * Shard totals whose keys start with this are the kind's own working sums (e.g. statistics its
   * finalize turns into a file): given to finalize, left out of the manifest's and the result's totals.
   */
  privateTotalsPrefix?: string;
}

export interface KindFinalizeContext extends KindContext {
  jobDir: string;
  totals: Record<string, number>;
  /**
   * Writes a file of the job's own into its folder, atomically, and gives its record (list it in
   * `files`). Encrypted when the job asks for it: the name then ends in `.enc` (use the record's name).
   */
  writeFile(name: string, data: Uint8Array): Promise<FileRecord>;
}

export interface KindFinalized {
  /** Extra manifest fields, under `kindResult`; its `summary` (an object) is shown in the API's job result. */
  result?: Record<string, unknown>;
  /** Extra files the kind wrote into the job folder (schema.sql, a diff, …). */
  files?: FileRecord[];
}

/** What a shard thread gives the kind's runner. */
export interface ShardIO<C = unknown> {
  dataDir: string;
  /** Absolute path of the job folder. */
  jobDir: string;
  /** True once the engine asks the shard to stop (pause, cancel, shutdown): commit and return. */
  shouldStop(): boolean;
  /**
   * Set when the job loads its tables into Postgres (`output.postgres`): this thread's client on
   * the target (one connection) and the schema. `writeTableShard` loads every part it writes.
   */
  load?: { sql: postgres.Sql; schema: string; jobId: string };
  /** Set for a kind with `usesDatabase`: this thread's client (one connection) on the service's own database. */
  db?: postgres.Sql;
  /** Set when the job's files are encrypted (`output.encryption`): its key, for `openPart`'s `encryption`. */
  encryption?: JobKey;
  /** Live progress: units done in the shard so far, committed or not (cheap; call often). */
  progress(unitsDone: number): void;
  /**
   * Makes work durable: `files` were closed (renamed into place) since the last commit, `units`
   * is the shard's committed total. Written to the shard record and heartbeated; a retry resumes
   * from the last commit.
   */
  commit(c: { checkpoint: C | null; files?: FileRecord[]; units: number; totals?: Record<string, number> }): Promise<void>;
}

export interface ShardRun<Payload = unknown, C = unknown> {
  input: JobInput;
  shard: ShardRef;
  payload: Payload;
  /** The last commit of an earlier attempt (its files verified on disk), if any. */
  resume: ShardState<C> | undefined;
  io: ShardIO<C>;
}

/** Runs one shard on a worker thread. Resolves `{ stopped: true }` when it stopped on request. */
export type ShardRunner<Payload = unknown, C = unknown> = (run: ShardRun<Payload, C>) => Promise<{ stopped: boolean }>;

export interface KindRegistry {
  names: readonly string[];
  list: readonly Kind[];
  /** The kind, or undefined when no such kind is registered. */
  find(name: string): Kind | undefined;
  /** The kind; throws when it is not registered on this process. */
  get(name: string): Kind;
}

export function createKindRegistry(kinds: readonly Kind<any>[]): KindRegistry {
  const byName = new Map<string, Kind>();
  for (const k of kinds) {
    if (byName.has(k.name)) throw new Error(`kind "${k.name}" is registered twice`);
    byName.set(k.name, k as Kind);
  }
  return {
    names: [...byName.keys()],
    list: [...byName.values()],
    find: (name) => byName.get(name),
    get(name) {
      const k = byName.get(name);
      if (!k) throw new Error(`kind "${name}" is not registered on this process`);
      return k;
    },
  };
}

/** `new URL('./shard.js' | './shard.ts', base)`: a sibling module, with the caller's own extension (tsx or compiled). */
export function siblingModule(base: string, name: string): URL {
  return new URL(`${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
}
