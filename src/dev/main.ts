/**
 * `npm run dev`: the whole shardflow stack in one supervised command.
 *
 *   Temporal dev server (SQLite at $SHARDFLOW_DATA_DIR/temporal.sqlite) + embedded Postgres
 *   ($SHARDFLOW_DATA_DIR/postgres), migrations, then the worker and the API as child processes
 *   (restarted with backoff should they die), then — once /health/ready answers 200 — the demo job.
 *
 * Ctrl-C / SIGTERM: the API stops accepting (SIGTERM), the worker drains (SIGTERM, waits), then
 * Temporal and Postgres stop; exit 0. A second Ctrl-C forces everything down at once.
 *
 * TEMPORAL_ADDRESS / DATABASE_URL in the environment replace the embedded Temporal / Postgres.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigOrExit, type Config } from '../config.js';
import { runDemo } from './demo.js';
import { devSecretKey } from './secret-key.js';
import { devLine, formatChildLine, painter } from './output.js';
import { collectOutput, delay, describeExit, exitOf, isPortFree, isRunning, stopChild, trackChild, type ExitInfo } from './process.js';
import { portConflictMessage, wantedPorts, type WantedPort } from './ports.js';
import { devStackOptions, redact, splitHostPort, startStack, type Stack } from './stack.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tty = process.stdout.isTTY === true && !process.env.NO_COLOR;
const paint = painter(tty);
const prettyLine = (line: string) => formatChildLine(line, paint);

function log(line: string): void {
  process.stdout.write(`${paint(35, '[dev]')} ${devLine('info', line, paint)}\n`);
}
function warn(line: string): void {
  process.stderr.write(`${paint(35, '[dev]')} ${devLine('warn', line, paint)}\n`);
}

/* ------------------------------------------------------------------ supervised children */

class ManagedChild {
  private child?: ChildProcess;
  private stopping = false;
  private restarts = 0;
  private backoffMs = 1_000;
  private wake?: () => void;
  private startedAt = 0;

  constructor(
    readonly name: string,
    private readonly entry: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly color: number,
    /** How long to wait after SIGTERM before SIGKILL. */
    private readonly stopTimeoutMs: number,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the child and keeps it running (backoff 1 s → 30 s) until stop(). */
  start(): void {
    void this.loop();
  }

  private prefix(): string {
    return paint(this.color, `[${this.name}]`);
  }

  private async loop(): Promise<void> {
    const entryPath = path.join(root, this.entry);
    while (!this.stopping) {
      if (!fs.existsSync(entryPath)) {
        warn(`${this.name}: ${this.entry} does not exist (yet) — not started; checking again in ${this.backoffMs / 1000} s`);
        await this.sleep();
        this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
        continue;
      }
      this.startedAt = Date.now();
      const child = spawn(process.execPath, ['--import', 'tsx', entryPath], {
        cwd: root,
        env: this.env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true, // own process group: Ctrl-C reaches the supervisor, which stops children in order
      });
      this.child = child;
      trackChild(child, 'SIGTERM');
      log(`${this.name}: started (pid ${child.pid}${this.restarts ? `, restart #${this.restarts}` : ''})`);
      collectOutput(child, {
        onLine: (line, stream) =>
          (stream === 'stderr' ? process.stderr : process.stdout).write(`${this.prefix()} ${prettyLine(line)}\n`),
      });
      const res = await exitOf(child);
      if (this.stopping) break;
      const ranMs = Date.now() - this.startedAt;
      if (ranMs > 60_000) this.backoffMs = 1_000;
      warn(
        `${this.name}: EXITED UNEXPECTEDLY (${describeExit(res)}) after ${(ranMs / 1000).toFixed(1)} s — ` +
          `restarting in ${this.backoffMs / 1000} s (see its output above)`,
      );
      await this.sleep();
      this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
      this.restarts++;
    }
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, this.backoffMs);
      this.wake = done;
      function done() {
        clearTimeout(t);
        resolve();
      }
    });
  }

  /** SIGTERM, wait up to stopTimeoutMs, then SIGKILL. No restart afterwards. */
  async stop(force = false): Promise<ExitInfo | undefined> {
    this.stopping = true;
    this.wake?.();
    const child = this.child;
    if (!child || !isRunning(child)) return undefined;
    return stopChild(child, force ? ['SIGKILL'] : ['SIGTERM', 'SIGKILL'], this.stopTimeoutMs);
  }
}

/* ------------------------------------------------------------------ HTTP probes */

async function httpStatus(url: string, timeoutMs = 2_000): Promise<{ status: number; body: string } | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: await res.text() };
  } catch {
    return null;
  }
}

/* ------------------------------------------------------------------ main */

function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '[::]') return '127.0.0.1';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

async function preflight(config: Config): Promise<void> {
  const busy: WantedPort[] = [];
  for (const w of wantedPorts(config, devStackOptions(config))) {
    if (!(await isPortFree(w.port, w.host))) busy.push(w);
  }
  if (busy.length) throw new Error(portConflictMessage(busy));
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const t0 = Date.now();
  const secs = () => ((Date.now() - t0) / 1000).toFixed(1);
  fs.mkdirSync(config.dataDir, { recursive: true });
  log(`starting the shardflow stack (data in ${config.dataDir})`);

  let shuttingDown = false;
  let stack: Stack | undefined;
  const children: ManagedChild[] = [];
  const abort = new AbortController();
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));

  const shutdown = async (reason: string, code = 0): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    abort.abort();
    log(`${reason}: shutting down`);
    const [worker, api] = children;
    if (api) {
      log('api: SIGTERM (stop accepting requests)');
      const r = await api.stop();
      if (r) log(`api: stopped (${describeExit(r)})`);
    }
    if (worker) {
      log('worker: SIGTERM (draining running activities)');
      const r = await worker.stop();
      if (r) log(`worker: stopped (${describeExit(r)})`);
    }
    if (stack) {
      log('stopping Temporal and Postgres');
      await stack.stop();
    }
    log(`stopped after ${secs()} s`);
    resolveDone(code);
  };

  // Under `npm run dev` one Ctrl-C can arrive more than once (the terminal signals the whole
  // foreground group, and npm/tsx forward it too): repeats within 2 s count as the same one.
  let firstSignalAt = 0;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      if (firstSignalAt && Date.now() - firstSignalAt < 2_000) return;
      const first = firstSignalAt === 0;
      if (first) firstSignalAt = Date.now();
      if (first) {
        if (!stack) {
          // Still starting: startStack cleans up after itself once it returns/fails.
          log(`${sig} while starting — stopping as soon as the current step ends (again to force)`);
          shuttingDown = true;
          abort.abort();
          return;
        }
        void shutdown(sig);
      } else {
        warn(`${sig} again: forcing everything down`);
        for (const c of children) void c.stop(true);
        process.exit(130); // the exit hook signals Temporal/Postgres
      }
    });
  }

  await preflight(config);

  stack = await startStack({ ...devStackOptions(config), log: (l) => log(l) });
  if (shuttingDown) {
    await stack.stop();
    log(`stopped after ${secs()} s`);
    return;
  }
  log(`Temporal + Postgres ready in ${secs()} s`);

  // Infrastructure dying under us is not something to paper over.
  if (stack.temporal) {
    const s = stack.temporal;
    void s.exited.then((r) => {
      if (!shuttingDown) {
        warn(`temporal dev server DIED (${describeExit(r)}) — see ${path.join(config.dataDir, 'logs', 'temporal.log')}`);
        void shutdown('temporal died', 1);
      }
    });
  }
  if (stack.postgres) {
    const p = stack.postgres;
    void p.exited.then((r) => {
      if (!shuttingDown) {
        warn(`embedded postgres DIED (${describeExit(r)}) — see ${path.join(config.dataDir, 'logs', 'postgres.log')}`);
        void shutdown('postgres died', 1);
      }
    });
  }

  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_NAMESPACE: config.temporal.namespace,
    TEMPORAL_TASK_QUEUE: config.temporal.taskQueue,
    DATABASE_URL: stack.databaseUrl,
    SHARDFLOW_DATA_DIR: config.dataDir,
    HOST: config.host,
    PORT: String(config.port),
    WORKER_METRICS_PORT: String(config.worker.metricsPort),
    WORKER_METRICS_HOST: config.worker.metricsHost,
    LOG_LEVEL: config.logLevel,
    // the dev server's 10 s long polls keep the worker's last access fresh; 20 s is plenty
    READY_WORKER_MAX_AGE_SECONDS: process.env.READY_WORKER_MAX_AGE_SECONDS || '20',
    // Encrypted jobs work out of the box: the environment's key, else one kept in the data folder.
    SHARDFLOW_SECRET_KEY: process.env.SHARDFLOW_SECRET_KEY || devSecretKey(config.dataDir),
    ...(tty && !process.env.NO_COLOR ? { FORCE_COLOR: '1' } : {}),
  };
  const worker = new ManagedChild('worker', 'src/worker/main.ts', childEnv, 36, 120_000);
  const api = new ManagedChild('api', 'src/api/main.ts', childEnv, 34, 15_000);
  children.push(worker, api);
  worker.start();
  api.start();

  const apiUrl = `http://${displayHost(config.host)}:${config.port}`;
  // Live → print the URLs; ready → note the time and start the demo.
  void (async () => {
    while (!shuttingDown && (await httpStatus(`${apiUrl}/health/live`))?.status !== 200) await delay(200, abort.signal);
    if (shuttingDown) return;
    const ui = stack.temporalUiUrl;
    const lines = [
      `API             ${apiUrl}`,
      `API docs        ${apiUrl}/docs   (OpenAPI: ${apiUrl}/openapi.json)`,
      `Temporal UI     ${ui ?? '(external Temporal — see its own UI)'}${ui ? `/namespaces/${config.temporal.namespace}/workflows` : ''}`,
      `Temporal        ${stack.temporalAddress}  namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue}`,
      `Worker metrics  ${config.worker.metricsPort ? `http://${displayHost(config.worker.metricsHost)}:${config.worker.metricsPort}/metrics` : 'off (WORKER_METRICS_PORT=0)'}`,
      `API metrics     ${apiUrl}/metrics`,
      `Postgres        ${redact(stack.databaseUrl)}`,
      `Data            ${config.dataDir}`,
      `Auth            ${config.auth === 'off' ? 'OFF (loopback only)' : 'required (Authorization: Bearer <key>)'}`,
    ];
    // Under the message column of `[dev] 12:00:01 INFO  `.
    log(`API is live after ${secs()} s\n${lines.map((l) => `${' '.repeat(21)}${l}`).join('\n')}`);

    let lastReport = Date.now();
    for (;;) {
      if (shuttingDown) return;
      const r = await httpStatus(`${apiUrl}/health/ready`);
      if (r?.status === 200) break;
      if (Date.now() - lastReport > 15_000) {
        lastReport = Date.now();
        warn(`still not ready after ${secs()} s: /health/ready → ${r ? `${r.status} ${r.body.slice(0, 300)}` : 'no answer'}`);
      }
      await delay(500, abort.signal);
    }
    log(paint(32, `READY — /health/ready answered 200 after ${secs()} s`));
    if (!config.demo) {
      log('demo job skipped (SHARDFLOW_DEMO=off)');
      return;
    }
    try {
      await runDemo({
        config,
        apiUrl,
        apiHeaders: {},
        temporalAddress: stack.temporalAddress,
        temporalUiUrl: stack.temporalUiUrl,
        namespace: config.temporal.namespace,
        taskQueue: config.temporal.taskQueue,
        databaseUrl: stack.databaseUrl,
        dataDir: config.dataDir,
        log: (l) => log(l),
        signal: abort.signal,
      });
    } catch (err) {
      if (!shuttingDown) warn(`demo job failed: ${(err as Error).stack ?? String(err)}`);
    }
  })();

  const code = await done;
  process.exitCode = code;
}

main().then(
  () => {
    // Give stdout a moment, then leave even if some handle lingers.
    setTimeout(() => process.exit(process.exitCode ?? 0), 100).unref();
  },
  (err: unknown) => {
    warn(`failed to start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
