/**
 * The ports `npm run dev` listens on, checked before anything starts, and the message for those
 * already taken: each names the variable that moves it — for the embedded Temporal server
 * EMBEDDED_TEMPORAL_PORT (TEMPORAL_ADDRESS is only the way to use a server already running
 * elsewhere instead), for the embedded Postgres EMBEDDED_POSTGRES_PORT (or DATABASE_URL for an
 * existing database).
 */
import type { Config } from '../config.js';
import type { StackOptions } from './stack.js';

export interface WantedPort {
  port: number;
  host: string;
  /** What listens there. */
  what: string;
  /** How to get out of the way of whatever holds the port. */
  fix: string;
}

export function wantedPorts(config: Config, opts: Pick<StackOptions, 'temporal' | 'database'>): WantedPort[] {
  const wanted: WantedPort[] = [
    { port: config.port, host: config.host, what: 'the API', fix: 'set PORT to a free port' },
    {
      port: config.worker.metricsPort,
      host: config.worker.metricsHost,
      what: 'the worker metrics',
      fix: 'set WORKER_METRICS_PORT to a free port (0 = no worker metrics)',
    },
  ];
  if ('embedded' in opts.temporal) {
    const e = opts.temporal.embedded;
    wanted.push({
      port: e.port,
      host: e.ip ?? '127.0.0.1',
      what: 'the embedded Temporal server',
      fix: 'set EMBEDDED_TEMPORAL_PORT to a free port (or TEMPORAL_ADDRESS=host:port to use a Temporal server that is already running instead)',
    });
    if (e.uiPort !== null) {
      wanted.push({ port: e.uiPort, host: e.ip ?? '127.0.0.1', what: 'the Temporal Web UI of the embedded server', fix: 'set TEMPORAL_UI_PORT to a free port' });
    }
  }
  if ('embedded' in opts.database) {
    wanted.push({
      port: opts.database.embedded.port,
      host: '127.0.0.1',
      what: 'the embedded Postgres',
      fix: 'set EMBEDDED_POSTGRES_PORT to a free port (or DATABASE_URL to use a Postgres that is already running instead)',
    });
  }
  return wanted.filter((w) => w.port !== 0);
}

/** One line per port already taken, each with its way out; a hint that it may be another `npm run dev`. */
export function portConflictMessage(busy: WantedPort[]): string {
  return [
    `${busy.length === 1 ? 'a port' : 'ports'} already in use:`,
    ...busy.map((w) => `  ${w.host}:${w.port} (${w.what}): ${w.fix}`),
    'Is another `npm run dev` (or a leftover Temporal or Postgres) running? Stop it, or move to other ports as above.',
  ].join('\n');
}
