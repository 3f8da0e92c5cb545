/**
 * What the suites (`npm run chaos`, `npm run load`, `npm run fuzz`) share: a stack of their own
 * (Temporal dev server and embedded Postgres on free ports, unless TEMPORAL_ADDRESS / DATABASE_URL
 * are given), and the API and workers as child processes that a suite may kill and restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectOutput, exitOf, pickFreePorts, stopChild, trackChild } from '../src/dev/process.js';
import { startTestStack, type TestStack } from '../test/support/stack.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const say = (line: string) => process.stdout.write(`${line}\n`);

export interface Proc {
  child: ChildProcess;
  pid: number;
  text(): string;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  kill(): Promise<void>;
}

/** A child running `entry` (a src/…/main.ts) until `readyLine` shows in its output. */
export async function startProc(entry: string, env: NodeJS.ProcessEnv, readyLine: RegExp, timeoutMs = 120_000): Promise<Proc> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, entry)], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  trackChild(child, 'SIGKILL');
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const tail = collectOutput(child, { tail: 80, onLine: (l) => (readyLine.test(l) ? ready() : undefined) });
  const exited = exitOf(child);
  let timer: NodeJS.Timeout | undefined;
  const ok = await Promise.race([
    isReady.then(() => true),
    exited.then(() => false),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (!ok) {
    await stopChild(child, ['SIGKILL'], 5_000);
    throw new Error(`${entry} did not become ready:\n${tail.text()}`);
  }
  return {
    child,
    pid: child.pid!,
    text: () => tail.text(),
    stop: (graceMs = 30_000) => stopChild(child, ['SIGTERM', 'SIGKILL'], graceMs).then(() => undefined),
    kill: () => stopChild(child, ['SIGKILL'], 5_000).then(() => undefined),
  };
}

export interface SuiteStack {
  env: NodeJS.ProcessEnv;
  test: TestStack;
  stop(): Promise<void>;
}

export async function startSuiteStack(extra: Record<string, string> = {}): Promise<SuiteStack> {
  const test = await startTestStack({ log: (l) => say(`  [stack] ${l}`) });
  const env = { ...process.env, ...test.env, LOG_LEVEL: 'warn', SHARDFLOW_AUTH: 'off', ...extra };
  return { env, test, stop: () => test.stop() };
}

export async function startApi(env: NodeJS.ProcessEnv): Promise<Proc & { url: string }> {
  const [port] = await pickFreePorts(1);
  const p = await startProc('src/api/main.ts', { ...env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info' }, /listening|API on|http:\/\/127\.0\.0\.1:\d+/);
  return { ...p, url: `http://127.0.0.1:${port}` };
}

export async function startWorkerProc(env: NodeJS.ProcessEnv): Promise<Proc> {
  const [metrics] = await pickFreePorts(1);
  return startProc('src/worker/main.ts', { ...env, WORKER_METRICS_PORT: String(metrics), LOG_LEVEL: 'info' }, /worker polling/);
}

export async function http<T = any>(base: string, method: string, p: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

/** Polls GET /v1/jobs/{id} until `until(job)` holds; fails after `timeoutMs`. */
export async function waitJob(base: string, id: string, until: (j: any) => boolean, timeoutMs = 600_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await http(base, 'GET', `/v1/jobs/${id}`).catch(() => ({ status: 0, json: undefined }));
    if (r.status === 200 && until(r.json)) return r.json;
    if (Date.now() > deadline) throw new Error(`job ${id} never reached the awaited state; last: ${JSON.stringify(r.json).slice(0, 500)}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

/** `--name value` from argv. */
export function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** Seconds → "12.3 s". */
export const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
