/**
 * One pino logger per process component (api, worker, cli, dev). JSON lines on stdout;
 * the level comes from LOG_LEVEL. Child loggers carry request ids and job ids.
 */
import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger } from 'pino';

export function createLogger(config: Pick<Config, 'logLevel'>, name: string): Logger {
  return pino({
    name,
    level: config.logLevel,
    base: { name, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]'], censor: '[redacted]' },
  });
}

/** A pino method for a Temporal SDK log entry (`TRACE` … `ERROR`). */
export type LogMethod = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/**
 * The pino method for a Temporal SDK log entry. The SDK's bundler logs webpack's whole report of
 * the workflow bundle (every module, "webpack … compiled successfully") at INFO when a worker
 * starts: that is a debug line; a bundle with errors stays an error (the bundler logs it so).
 */
export function temporalLogMethod(level: string, message: string): LogMethod {
  const method = ({ TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const)[level.toUpperCase() as 'INFO'] ?? 'info';
  // eslint-disable-next-line no-control-regex
  const plain = message.replace(/\x1b\[[0-9;]*m/g, '');
  if (method === 'info' && /\bwebpack [\d.]+ compiled successfully\b/.test(plain)) return 'debug';
  return method;
}
