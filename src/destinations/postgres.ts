/**
 * Postgres as a destination: the targets a load may write to (the service's own database or one
 * the operator configured by name), and one part's rows through `COPY … FROM STDIN` inside a
 * transaction that also writes the part's marker row, so a part is in the table exactly once
 * (docs/ENGINE.md, "Postgres load"). Connection strings come from the configuration only and are
 * never put in an error message or a log line.
 */
import { createHash } from 'node:crypto';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import postgres from 'postgres';
import type { Committed, Destination } from './types.js';

/** The bookkeeping schema in every target: claims (which job loads which table) and part markers. */
export const LOAD_SCHEMA = 'shardflow_load';

export class UnknownTargetError extends Error {
  constructor(readonly target: string, known: readonly string[]) {
    super(`no Postgres target named ${JSON.stringify(target)} is configured (known: ${known.length ? known.join(', ') : 'none'}; SHARDFLOW_POSTGRES_TARGETS)`);
    this.name = 'UnknownTargetError';
  }
}

export interface PostgresTargetsConfig {
  /** The service's own database (DATABASE_URL): the target when a job names none. */
  defaultUrl?: string;
  /** A client already open on defaultUrl (reused on the main thread instead of a new pool). */
  defaultSql?: postgres.Sql;
  /** Operator-configured targets, name → URL (SHARDFLOW_POSTGRES_TARGETS). */
  named: Readonly<Record<string, string>>;
  /** Pool size of the clients this opens (default 2). */
  max?: number;
  applicationName?: string;
}

/** The targets of a process: their URLs (for shard threads) and main-thread clients, opened on first use. */
export interface PostgresTargets {
  readonly names: readonly string[];
  /** True when `name` (undefined = the default target) can be used. */
  has(name: string | undefined): boolean;
  /** The URL of a target; throws UnknownTargetError (which does not contain any URL). */
  url(name: string | undefined): string;
  /** A client on the target (kept until close()). */
  sql(name: string | undefined): postgres.Sql;
  close(): Promise<void>;
}

export function openClient(url: string, max: number, applicationName = 'shardflow-load'): postgres.Sql {
  return postgres(url, { max, idle_timeout: 30, connect_timeout: 10, onnotice: () => {}, connection: { application_name: applicationName } });
}

export function createPostgresTargets(cfg: PostgresTargetsConfig): PostgresTargets {
  const clients = new Map<string, postgres.Sql>();
  const names = Object.keys(cfg.named);
  const url = (name: string | undefined): string => {
    if (name === undefined) {
      if (!cfg.defaultUrl) throw new Error('the default Postgres target needs DATABASE_URL');
      return cfg.defaultUrl;
    }
    const u = Object.hasOwn(cfg.named, name) ? cfg.named[name] : undefined;
    if (!u) throw new UnknownTargetError(name, names);
    return u;
  };
  return {
    names,
    has: (name) => (name === undefined ? Boolean(cfg.defaultUrl || cfg.defaultSql) : Object.hasOwn(cfg.named, name)),
    url,
    sql(name) {
      if (name === undefined && cfg.defaultSql) return cfg.defaultSql;
      const key = name ?? '';
      let c = clients.get(key);
      if (!c) clients.set(key, (c = openClient(url(name), cfg.max ?? 2, cfg.applicationName)));
      return c;
    },
    async close() {
      const all = [...clients.values()];
      clients.clear();
      await Promise.all(all.map((c) => c.end({ timeout: 5 })));
    },
  };
}

/** `"name"`, with embedded quotes doubled. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** One part of a table, as the load of a job writes it. */
export interface PartLoadTarget {
  sql: postgres.Sql;
  schema: string;
  table: string;
  /** Column names, in the order the encoded rows carry them. */
  columns: readonly string[];
  jobId: string;
  part: number;
  rows: number;
}

/**
 * Opens one part's load: a reserved connection, `BEGIN`, the part's marker row (its primary key
 * is (job, table, part)), then `COPY schema.table (columns) FROM STDIN`. Resolves null when the
 * marker is already there — the part was loaded by an earlier attempt — and nothing is written;
 * a concurrent attempt at the same part waits on the marker's key until the first one ends.
 * write() feeds the COPY (awaiting each chunk: backpressure), commit() ends the COPY and
 * COMMITs (the rows and the marker together), abort() ROLLBACKs. The connection is released
 * either way.
 */
/**
 * How long one step of a part's load may wait without an answer (a COPY chunk accepted, the COPY's
 * end, COMMIT): a connection closed under it (Postgres restarted) can leave postgres.js waiting
 * forever, the shard heartbeating with nothing committed. Past this the step fails, and so does
 * the attempt, which is retried (the part's transaction never committed).
 */
export const LOAD_STEP_TIMEOUT_MS = 120_000;

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer from Postgres in ${ms / 1000} s (connection lost?)`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export async function openPartLoad(t: PartLoadTarget): Promise<Destination | null> {
  const c = await t.sql.reserve();
  let stream: Writable | undefined;
  let state: 'open' | 'done' = 'open';
  let ended = false;
  let copyFailed: Promise<never> = Promise.resolve() as never;
  const hash = createHash('sha256');
  let bytes = 0;
  const release = async (rollback: boolean) => {
    if (state === 'done') return;
    state = 'done';
    // Destroying a COPY stream sends CopyFail: only while the COPY is still in progress.
    if (!ended) stream?.destroy();
    if (rollback) await within(c.unsafe('rollback'), 10_000, 'rollback').catch(() => undefined);
    c.release();
  };
  try {
    await c.unsafe('begin');
    const marked = await c`
      insert into ${c(LOAD_SCHEMA)}.parts (job_id, table_name, part, rows)
      values (${t.jobId}, ${t.table}, ${t.part}, ${t.rows})
      on conflict do nothing returning part`;
    if (marked.length === 0) {
      await c.unsafe('rollback');
      await release(false);
      return null;
    }
    const q = c`copy ${c(t.schema)}.${c(t.table)} (${c(t.columns as string[])}) from stdin with (format binary)`;
    // postgres.js resolves the query with the stream when the COPY starts, and drops an error
    // that arrives after the stream ended (a row the server refused at CopyDone): catch it here.
    const query = q as unknown as { reject(e: unknown): void };
    const reject = query.reject;
    copyFailed = new Promise<never>((_, rej) => {
      query.reject = (e) => {
        rej(e);
        reject(e);
      };
    });
    copyFailed.catch(() => undefined);
    stream = await q.writable();
  } catch (err) {
    await release(true);
    throw err;
  }
  const s = stream!;
  let failed: unknown;
  s.on('error', (e) => (failed ??= e));
  copyFailed.catch((e) => (failed ??= e));
  return {
    async write(chunk: Uint8Array) {
      if (state !== 'open') throw new Error(`part ${t.part} of ${t.table}: the load is closed`);
      if (failed) throw failed;
      hash.update(chunk);
      bytes += chunk.length;
      await within(
        new Promise<void>((resolve, reject) => s.write(chunk, (e) => (e ? reject(e) : resolve()))),
        LOAD_STEP_TIMEOUT_MS,
        `part ${t.part} of ${t.table}: COPY`,
      );
    },
    async commit(): Promise<Committed> {
      if (state !== 'open') throw new Error(`part ${t.part} of ${t.table}: the load is closed`);
      try {
        if (failed) throw failed;
        s.end();
        await within(Promise.race([finished(s), copyFailed]), LOAD_STEP_TIMEOUT_MS, `part ${t.part} of ${t.table}: end of COPY`);
        ended = true;
        await within(c.unsafe('commit'), LOAD_STEP_TIMEOUT_MS, `part ${t.part} of ${t.table}: COMMIT`);
      } catch (err) {
        await release(true);
        throw err;
      }
      await release(false);
      return { bytes, sha256: hash.digest('hex') };
    },
    abort: () => release(true),
  };
}
