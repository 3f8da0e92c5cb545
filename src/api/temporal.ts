/** Connecting to Temporal with a bounded retry, so the API can start alongside the dev server. */
import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';

export const TEMPORAL_CONNECT_DEADLINE_MS = 30_000;

/** Retries Connection.connect with backoff until the deadline, then throws one clear error. */
export async function connectTemporal(
  config: Pick<Config, 'temporal'>,
  logger?: Logger,
  deadlineMs = TEMPORAL_CONNECT_DEADLINE_MS,
): Promise<{ connection: Connection; client: Client }> {
  const until = Date.now() + deadlineMs;
  let delay = 250;
  for (let attempt = 1; ; attempt++) {
    try {
      const connection = await Connection.connect({ address: config.temporal.address, connectTimeout: '5s' });
      return { connection, client: new Client({ connection, namespace: config.temporal.namespace }) };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (Date.now() + delay >= until) {
        throw new Error(`cannot reach Temporal at ${config.temporal.address} (TEMPORAL_ADDRESS) after ${attempt} attempts: ${message}`);
      }
      logger?.warn({ attempt, address: config.temporal.address, err: message }, 'Temporal not reachable yet; retrying');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 4000);
    }
  }
}
