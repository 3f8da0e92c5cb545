/**
 * Readiness checks: Postgres (`select 1`), Temporal (GetSystemInfo) and a worker (some poller on the
 * task queue, for both workflow and activity tasks, seen within READY_WORKER_MAX_AGE_SECONDS).
 * Each check has a short deadline and answers "ok" or "fail: <reason>".
 */
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { optionalTsToDate } from '@temporalio/common';
import type { ApiDeps } from './types.js';

export const CHECK_TIMEOUT_MS = 2000;

export type CheckResult = 'ok' | `fail: ${string}`;
export interface Readiness {
  ready: boolean;
  checks: { postgres: CheckResult; temporal: CheckResult; worker: CheckResult };
  /** From GetSystemInfo, when Temporal answered. */
  temporalServerVersion?: string;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout?.();
        reject(new Error(`${what} timed out after ${ms} ms`));
      }, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const reason = (err: unknown): `fail: ${string}` =>
  `fail: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 200)}`;

export async function checkPostgres(deps: Pick<ApiDeps, 'db'>, timeoutMs = CHECK_TIMEOUT_MS): Promise<CheckResult> {
  const query = deps.db.sql`select 1 as ok`;
  try {
    await withTimeout(query.execute(), timeoutMs, 'select 1', () => void query.cancel());
    return 'ok';
  } catch (err) {
    return reason(err);
  }
}

export async function checkTemporal(
  deps: Pick<ApiDeps, 'temporal'>,
  timeoutMs = CHECK_TIMEOUT_MS,
): Promise<{ result: CheckResult; serverVersion?: string }> {
  const { connection } = deps.temporal;
  try {
    const info = await withTimeout(
      connection.withDeadline(Date.now() + timeoutMs, () => connection.workflowService.getSystemInfo({})),
      timeoutMs + 100,
      'GetSystemInfo',
    );
    return { result: 'ok', serverVersion: info.serverVersion || undefined };
  } catch (err) {
    return { result: reason(err) };
  }
}

const TASK_QUEUE_TYPES = [
  { type: 1, name: 'workflow' }, // TASK_QUEUE_TYPE_WORKFLOW
  { type: 2, name: 'activity' }, // TASK_QUEUE_TYPE_ACTIVITY
] as const;

export async function checkWorker(deps: Pick<ApiDeps, 'temporal' | 'config'>, timeoutMs = CHECK_TIMEOUT_MS): Promise<CheckResult> {
  const { client, connection } = deps.temporal;
  const { namespace, taskQueue } = deps.config.temporal;
  const maxAgeMs = deps.config.readyWorkerMaxAgeSeconds * 1000;
  try {
    const missing: string[] = [];
    await withTimeout(
      connection.withDeadline(Date.now() + timeoutMs, () =>
        Promise.all(
          TASK_QUEUE_TYPES.map(async ({ type, name }) => {
            const res = await client.workflowService.describeTaskQueue({
              namespace,
              taskQueue: { name: taskQueue, kind: 1 }, // TASK_QUEUE_KIND_NORMAL
              taskQueueType: type,
            });
            const now = Date.now();
            const fresh = (res.pollers ?? []).some((p) => {
              const seen = optionalTsToDate(p.lastAccessTime);
              return seen !== undefined && now - seen.getTime() <= maxAgeMs;
            });
            if (!fresh) missing.push(name);
          }),
        ),
      ),
      timeoutMs + 100,
      'DescribeTaskQueue',
    );
    if (missing.length === 0) return 'ok';
    return `fail: no ${missing.sort().join(' or ')} poller on task queue "${taskQueue}" in the last ${deps.config.readyWorkerMaxAgeSeconds}s`;
  } catch (err) {
    return reason(err);
  }
}

export async function readiness(deps: ApiDeps): Promise<Readiness> {
  const [postgres, temporal, worker] = await Promise.all([checkPostgres(deps), checkTemporal(deps), checkWorker(deps)]);
  return {
    ready: postgres === 'ok' && temporal.result === 'ok' && worker === 'ok',
    checks: { postgres, temporal: temporal.result, worker },
    temporalServerVersion: temporal.serverVersion,
  };
}

/** How long after start a readiness that never came is only a debug line (the worker may still be bundling). */
export const READY_GRACE_MS = 60_000;

type ReadinessLog = { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; debug(obj: object, msg: string): void };

/**
 * Readiness as the log tells it: a line when it changes, not one per probe. Ready → INFO once (and
 * again after an outage); ready → not ready, or another set of checks failing while not ready → WARN with
 * the failing checks; not ready since start → quiet (debug) for `graceMs`, then one WARN. Every
 * other probe is a debug line (the request log has them too).
 */
export function readinessReporter(log: ReadinessLog, o: { graceMs?: number; now?: () => number } = {}) {
  const now = o.now ?? Date.now;
  const graceMs = o.graceMs ?? READY_GRACE_MS;
  const startedAt = now();
  let state: 'starting' | 'ready' | 'unavailable' = 'starting';
  let failing = '';
  let warnedAtStart = false;
  return (r: Readiness): void => {
    const failed = Object.entries(r.checks).filter(([, v]) => v !== 'ok');
    const fails = failed.map(([k, v]) => `${k}: ${v}`).join('; ');
    const names = failed.map(([k]) => k).join(',');
    if (r.ready) {
      if (state !== 'ready') log.info({ checks: r.checks }, state === 'starting' ? 'ready' : 'ready again');
      state = 'ready';
      failing = '';
      return;
    }
    const seconds = Math.round((now() - startedAt) / 1000);
    if (state === 'ready' || (state === 'unavailable' && names !== failing)) {
      log.warn({ checks: r.checks }, `not ready: ${fails}`);
      state = 'unavailable';
    } else if (state === 'starting' && !warnedAtStart && now() - startedAt >= graceMs) {
      log.warn({ checks: r.checks }, `not ready ${seconds} s after start: ${fails}`);
      warnedAtStart = true;
    } else {
      log.debug({ checks: r.checks }, `not ready: ${fails}`);
    }
    failing = names;
  };
}

const require = createRequire(import.meta.url);
export const versions = {
  node: process.versions.node,
  shardflow: (require('../../package.json') as { version: string }).version,
  temporalClient: (require('@temporalio/client/package.json') as { version: string }).version,
};

/** Free space on the file system holding the data dir (or its nearest existing parent). */
export async function diskInfo(dataDir: string): Promise<{ path: string; freeBytes: number; totalBytes: number } | { path: string; error: string }> {
  let dir = path.resolve(dataDir);
  for (;;) {
    try {
      const s = await statfs(dir);
      return { path: dataDir, freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
    } catch (err) {
      const parent = path.dirname(dir);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === dir) {
        return { path: dataDir, error: err instanceof Error ? err.message : String(err) };
      }
      dir = parent;
    }
  }
}

/** Pool settings, and how many server connections carry this pool's application_name. */
export async function poolInfo(deps: Pick<ApiDeps, 'db'>): Promise<{ max: number; connections?: number }> {
  try {
    const q = deps.db.sql<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity
      where datname = current_database() and application_name = current_setting('application_name')`;
    const [row] = await withTimeout(q.execute(), CHECK_TIMEOUT_MS, 'pg_stat_activity', () => void q.cancel());
    return { max: deps.db.max, connections: row?.n };
  } catch {
    return { max: deps.db.max };
  }
}
