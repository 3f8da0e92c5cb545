/**
 * Serves the app with @hono/node-server. `close()` stops accepting, lets in-flight requests finish
 * (connections still open after the grace period, e.g. event streams, are cut), then closes the
 * Postgres pool and the Temporal connection. With `handleSignals` (default), SIGTERM/SIGINT run
 * close() and exit 0; a second signal exits at once.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve, type ServerType } from '@hono/node-server';
import type { Config } from '../config.js';
import { createApp } from './app.js';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiDeps, AppEnv } from './types.js';

export interface ApiServer {
  /** e.g. http://127.0.0.1:8080 (the real port when config.port is 0). */
  url: string;
  port: number;
  server: ServerType;
  close(): Promise<void>;
}

export interface StartApiServerOptions {
  /** Install SIGTERM/SIGINT handlers that close and exit 0. Default true. */
  handleSignals?: boolean;
  /** How long in-flight requests get before their connections are cut. Default 10 s. */
  gracePeriodMs?: number;
  /** Serve this app instead of `createApp(deps)` (tests that add routes). */
  app?: OpenAPIHono<AppEnv>;
}

export function formatUrl(host: string, port: number): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${h === '0.0.0.0' || h === '[::]' ? '127.0.0.1' : h}:${port}`;
}

export async function startApiServer(config: Config, deps: ApiDeps, options: StartApiServerOptions = {}): Promise<ApiServer> {
  const { handleSignals = true, gracePeriodMs = 10_000 } = options;
  const app = options.app ?? createApp(deps);
  const log = deps.logger;

  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, () => resolve(s));
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const url = formatUrl(config.host, port);

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const http = server as Server;
      const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections?.();
      const cut = setTimeout(() => http.closeAllConnections?.(), gracePeriodMs);
      cut.unref();
      await stopped;
      clearTimeout(cut);
      await Promise.allSettled([deps.db.close(), deps.temporal.connection.close()]);
    })());

  if (handleSignals) {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        log.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      signalled = true;
      log.info({ signal }, 'shutting down: finishing in-flight requests');
      close().then(
        () => {
          log.info('stopped');
          process.exit(0);
        },
        (err: unknown) => {
          log.error({ err }, 'error while shutting down');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }

  return { url, port, server, close };
}
