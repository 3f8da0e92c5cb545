/**
 * Runs `temporal server start-dev` as a child process: SQLite persistence (so jobs survive a
 * restart), the Web UI, shardflow's search attributes, and short matching long-polls so that a
 * worker's "last access time" on the task queue stays fresh (the API's readiness check reads it).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_KEYS } from '../engine/search-attributes.js';
import { collectOutput, delay, describeExit, exitOf, isRunning, stopChild, trackChild, type ExitInfo } from './process.js';

/** Registered on the namespace at start (docs/API.md): name → the CLI's type name (`Keyword`, `Int`). */
export const SEARCH_ATTRIBUTES: Record<string, string> = Object.fromEntries(
  SEARCH_ATTRIBUTE_KEYS.map((k) => [k.name, k.type.charAt(0) + k.type.slice(1).toLowerCase()]),
);

/**
 * Dynamic config for the dev server. `matching.longPollExpirationInterval` bounds how long an
 * idle poll is parked (default 1 min); 10 s makes pollers re-poll, so DescribeTaskQueue's
 * `lastAccessTime` is never older than ~10 s while a worker is alive.
 */
export const DEV_DYNAMIC_CONFIG: Record<string, unknown> = {
  'matching.longPollExpirationInterval': '10s',
};

export interface TemporalDevServerOptions {
  binary: string;
  /** SQLite file; `null` keeps everything in memory (tests). */
  dbFile: string | null;
  port: number;
  /** Web UI port; `null` runs headless. */
  uiPort: number | null;
  namespace: string;
  ip?: string;
  /** Server output (warn level and above) is appended here. */
  logFile?: string;
  /** Each output line, e.g. to forward errors to the console. */
  onLine?: (line: string) => void;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  startTimeoutMs?: number;
  extraArgs?: string[];
}

export interface TemporalDevServer {
  address: string;
  /** Undefined when headless. */
  uiUrl?: string;
  namespace: string;
  pid: number;
  /** Resolves when the server process exits (for supervision). */
  exited: Promise<ExitInfo>;
  /** SIGTERM, then SIGKILL after `timeoutMs` (default 10 s). Idempotent. */
  stop(timeoutMs?: number): Promise<void>;
}

export function temporalDevServerArgs(o: TemporalDevServerOptions): string[] {
  const ip = o.ip ?? '127.0.0.1';
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(o.port), '--log-level', o.logLevel ?? 'warn'];
  if (o.dbFile) args.push('--db-filename', o.dbFile);
  if (o.uiPort === null) args.push('--headless');
  else args.push('--ui-port', String(o.uiPort));
  if (o.namespace !== 'default') args.push('--namespace', o.namespace);
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  for (const [key, value] of Object.entries(DEV_DYNAMIC_CONFIG)) args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  args.push(...(o.extraArgs ?? []));
  return args;
}

/**
 * One readiness probe: the frontend answers gRPC health, the namespace exists and the search
 * attributes are registered. Returns null when ready, else why not.
 */
export async function probeTemporal(address: string, namespace: string): Promise<string | null> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 1_000 });
    const conn = connection;
    const deadline = () => Date.now() + 2_000;
    const health = await conn.withDeadline(deadline(), () =>
      conn.healthService.check({ service: 'temporal.api.workflowservice.v1.WorkflowService' }),
    );
    if (health.status !== 1) return `frontend health is ${health.status} (not SERVING)`;
    await conn.withDeadline(deadline(), () => conn.workflowService.describeNamespace({ namespace }));
    const attrs = await conn.withDeadline(deadline(), () => conn.operatorService.listSearchAttributes({ namespace }));
    const missing = Object.keys(SEARCH_ATTRIBUTES).filter((k) => !(k in (attrs.customAttributes ?? {})));
    if (missing.length) return `search attributes not registered yet: ${missing.join(', ')}`;
    return null;
  } catch (err) {
    return (err as Error).message.split('\n')[0] ?? String(err);
  } finally {
    await connection?.close().catch(() => {});
  }
}

/** Waits until `probeTemporal` succeeds or `timeoutMs` passes. */
export async function waitForTemporal(
  address: string,
  namespace: string,
  opts: { timeoutMs?: number; abortIf?: () => string | null } = {},
): Promise<void> {
  const until = Date.now() + (opts.timeoutMs ?? 60_000);
  let last = 'not probed yet';
  while (Date.now() < until) {
    const aborted = opts.abortIf?.();
    if (aborted) throw new Error(aborted);
    const why = await probeTemporal(address, namespace);
    if (why === null) return;
    last = why;
    await delay(150);
  }
  throw new Error(`Temporal at ${address} not ready after ${(opts.timeoutMs ?? 60_000) / 1000} s: ${last}`);
}

export async function startTemporalDevServer(o: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const ip = o.ip ?? '127.0.0.1';
  const host = ip === '0.0.0.0' || ip === '::' ? '127.0.0.1' : ip;
  const address = `${host.includes(':') ? `[${host}]` : host}:${o.port}`;
  if (o.dbFile) fs.mkdirSync(path.dirname(o.dbFile), { recursive: true });

  const args = temporalDevServerArgs(o);
  const child = spawn(o.binary, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group: Ctrl-C reaches the supervisor only
    env: { ...process.env, TEMPORAL_ADDRESS: undefined, TEMPORAL_NAMESPACE: undefined },
  });
  trackChild(child, 'SIGTERM');
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  const tail = collectOutput(child, { logFile: o.logFile, onLine: o.onLine });
  const exited = exitOf(child);

  const stop = async (timeoutMs = 10_000): Promise<void> => {
    if (!isRunning(child)) return;
    await stopChild(child, ['SIGTERM', 'SIGKILL'], timeoutMs);
  };

  try {
    await waitForTemporal(address, o.namespace, {
      timeoutMs: o.startTimeoutMs ?? 60_000,
      abortIf: () => {
        if (spawnError) return `could not run ${o.binary}: ${spawnError.message}`;
        if (!isRunning(child) && child.pid !== undefined) {
          const how = describeExit({ code: child.exitCode, signal: child.signalCode as NodeJS.Signals | null });
          return `temporal server start-dev exited (${how}) before it was ready:\n${tail.text() || '(no output)'}`;
        }
        return null;
      },
    });
  } catch (err) {
    await stop(2_000);
    const detail = tail.text();
    const message = (err as Error).message;
    throw new Error(
      `${message}${detail && !message.includes(detail) ? `\n--- temporal output ---\n${detail}` : ''}` +
        `\ncommand: ${o.binary} ${args.join(' ')}`,
    );
  }

  return {
    address,
    uiUrl: o.uiPort === null ? undefined : `http://${host.includes(':') ? `[${host}]` : host}:${o.uiPort}`,
    namespace: o.namespace,
    pid: child.pid!,
    exited,
    stop,
  };
}
