/**
 * The API client of the commands that talk HTTP (everything but `keys` and `dev`): the URL from
 * --url, SHARDFLOW_URL or the embedded default; the key from --key or SHARDFLOW_KEY (none is fine
 * against the embedded stack, whose API runs without auth on loopback).
 */
import { createShardflowClient, type ShardflowClient } from '../client/index.js';
import { UsageError } from './io.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface ConnectionOptions {
  url?: string;
  key?: string;
}

export function clientFor(opts: ConnectionOptions, env: NodeJS.ProcessEnv): ShardflowClient {
  const url = opts.url ?? env.SHARDFLOW_URL ?? DEFAULT_URL;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url / SHARDFLOW_URL must be an http(s) URL (got ${JSON.stringify(url)})`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`--url / SHARDFLOW_URL must be an http(s) URL (got ${JSON.stringify(url)})`);
  const key = opts.key ?? env.SHARDFLOW_KEY ?? undefined;
  return createShardflowClient({ url, key: key || undefined, userAgent: 'shardflow-cli' });
}
