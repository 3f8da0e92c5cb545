/**
 * Small process helpers shared by the embedded stack: free ports, a bounded tail of a child's
 * output, a stop-with-escalation, and a last-resort cleanup when this process exits.
 *
 * Children of the dev stack are spawned `detached` (their own process group) so that Ctrl-C in a
 * terminal reaches only the supervisor, which then stops them in order (API, worker, Temporal,
 * Postgres). The price is that they would outlive a crashed supervisor; `trackChild` covers the
 * ordinary exit paths (normal exit, uncaught exception) by signalling whatever is still running.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Ports that nothing listens on right now (held open together, so they are distinct). */
export async function pickFreePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, host, () => resolve());
      });
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

export async function pickFreePort(host = '127.0.0.1'): Promise<number> {
  const [port] = await pickFreePorts(1, host);
  return port!;
}

/** True when a TCP listen on host:port would succeed now. */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** Keeps the last `max` lines of a child's output, for error messages. */
export class OutputTail {
  private lines: string[] = [];
  constructor(private readonly max = 40) {}
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.shift();
  }
  text(): string {
    return this.lines.join('\n');
  }
}

/**
 * Splits a child's stdout/stderr into lines and hands each to `onLine` (and to `logFile`,
 * appended, when given). Returns the tail.
 */
export function collectOutput(
  child: ChildProcess,
  opts: { logFile?: string; onLine?: (line: string, stream: 'stdout' | 'stderr') => void; tail?: number } = {},
): OutputTail {
  const tail = new OutputTail(opts.tail ?? 40);
  let file: fs.WriteStream | undefined;
  if (opts.logFile) {
    fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
    file = fs.createWriteStream(opts.logFile, { flags: 'a' });
    child.once('exit', () => file?.end());
  }
  for (const stream of ['stdout', 'stderr'] as const) {
    const readable = child[stream];
    if (!readable) continue;
    let buffer = '';
    readable.setEncoding('utf8');
    readable.on('data', (chunk: string) => {
      file?.write(chunk);
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).replace(/\r$/, '');
        buffer = buffer.slice(nl + 1);
        tail.push(line);
        opts.onLine?.(line, stream);
      }
    });
    readable.on('end', () => {
      if (buffer) {
        tail.push(buffer);
        opts.onLine?.(buffer, stream);
        buffer = '';
      }
    });
  }
  return tail;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Resolves when the child has exited (immediately if it already has). */
export function exitOf(child: ChildProcess): Promise<ExitInfo> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode as NodeJS.Signals | null });
  }
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    // spawn failures (ENOENT, EACCES) emit 'error' and never 'exit'
    child.once('error', () => resolve({ code: child.exitCode ?? -1, signal: null }));
  });
}

export function isRunning(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

export function describeExit(e: ExitInfo): string {
  return e.signal ? `signal ${e.signal}` : `code ${e.code}`;
}

/**
 * Sends `signals[0]`, and each next one after `timeoutMs` if the child is still alive
 * (e.g. ['SIGTERM', 'SIGKILL']). Resolves with how it exited.
 */
export async function stopChild(
  child: ChildProcess,
  signals: NodeJS.Signals[] = ['SIGTERM', 'SIGKILL'],
  timeoutMs = 10_000,
): Promise<ExitInfo> {
  const exited = exitOf(child);
  for (const sig of signals) {
    if (!isRunning(child)) break;
    try {
      child.kill(sig);
    } catch {
      /* already gone */
    }
    const done = await Promise.race([exited.then(() => true), delay(timeoutMs).then(() => false)]);
    if (done) break;
  }
  return exited;
}

export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

const tracked = new Map<ChildProcess, NodeJS.Signals>();
let exitHookInstalled = false;

/**
 * Remembers a detached child so that, should this process exit while the child still runs,
 * the child gets `signal` (its own clean shutdown signal) instead of being orphaned silently.
 */
export function trackChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  tracked.set(child, signal);
  child.once('exit', () => tracked.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const [c, sig] of tracked) {
        if (isRunning(c)) {
          try {
            c.kill(sig);
          } catch {
            /* ignore */
          }
        }
      }
    });
  }
}
