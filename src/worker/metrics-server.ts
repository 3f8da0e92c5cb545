/**
 * The worker's HTTP port (WORKER_METRICS_HOST:WORKER_METRICS_PORT):
 *   GET /metrics  shardflow's metrics, then the Temporal SDK's (its exporter listens on a
 *                 loopback port of its own and is read at each scrape);
 *   GET /health   200 `{ status: "ok" | "guarded", … }` with slots and the memory guard.
 * Nothing else; no secrets.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { SlotStats } from './slots.js';

export interface MetricsServerOptions {
  host: string;
  port: number;
  registry: Registry;
  /** The Temporal SDK's Prometheus exporter (http://127.0.0.1:<port>/metrics), when it runs. */
  sdkMetricsUrl?: string;
  health: () => { slots: SlotStats; taskQueue: string; kinds: readonly string[] };
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

async function sdkText(url: string | undefined): Promise<string> {
  if (!url) return '';
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.ok ? await res.text() : '';
  } catch {
    return ''; // the SDK's exporter not answering must not hide shardflow's own metrics
  }
}

export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://worker');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (url.pathname === '/metrics') {
      Promise.all([opts.registry.metrics(), sdkText(opts.sdkMetricsUrl)]).then(
        ([own, sdk]) => {
          const body = sdk ? `${own.trimEnd()}\n${sdk}` : own;
          res.writeHead(200, { 'Content-Type': opts.registry.contentType }).end(req.method === 'HEAD' ? undefined : body);
        },
        (err) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`metrics: ${String((err as Error)?.message ?? err)}\n`),
      );
      return;
    }
    if (url.pathname === '/health') {
      const h = opts.health();
      const body = {
        status: h.slots.memoryGuard.engaged ? 'guarded' : 'ok',
        taskQueue: h.taskQueue,
        kinds: h.kinds,
        pid: process.pid,
        slots: { max: h.slots.max, reserved: h.slots.reserved, running: h.slots.running, shardsRunning: h.slots.shardsRunning },
        memoryGuard: h.slots.memoryGuard,
        memory: process.memoryUsage(),
        versions: { node: process.versions.node },
      };
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: /metrics and /health are served here\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
