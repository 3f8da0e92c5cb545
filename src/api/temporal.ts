/**
 * The API's Temporal connection: connected with a bounded retry at start (so the API can start
 * alongside the dev server), and tuned so that an outage is a quick 503 and a recovery is quick:
 *
 * - gRPC reconnect backoff capped at TEMPORAL_MAX_RECONNECT_BACKOFF_MS (grpc-js defaults to 1 s
 *   growing to 120 s, which kept the API failing for a minute after Temporal was back);
 * - the client's own retry of UNAVAILABLE and the like limited to TEMPORAL_CALL_ATTEMPTS (the
 *   SDK default, 10 attempts with backoff, held every request ~20 s while Temporal was down);
 * - every call the API makes runs under a deadline (`withTemporalDeadline`), so a server that
 *   accepts connections but does not answer costs at most that long.
 *
 * Errors of an unreachable Temporal become 503 + Retry-After in the problem handler (src/api/unavailable.ts).
 */
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';

export const TEMPORAL_CONNECT_DEADLINE_MS = 30_000;
/** The longest gap between two reconnect attempts while Temporal is unreachable. */
export const TEMPORAL_MAX_RECONNECT_BACKOFF_MS = 1_000;
/** Attempts per call on a retryable gRPC status (about 0.5 s in all, then the error surfaces). */
export const TEMPORAL_CALL_ATTEMPTS = 3;
/** Deadline of each call the API makes to Temporal (describe, signal, cancel, start). */
export const TEMPORAL_CALL_TIMEOUT_MS = 5_000;

/** The Connection options behind the behaviour described above. */
export function temporalConnectionOptions(address: string) {
  return {
    address,
    connectTimeout: '5s',
    channelArgs: {
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': TEMPORAL_MAX_RECONNECT_BACKOFF_MS,
    },
    interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: TEMPORAL_CALL_ATTEMPTS }))],
  };
}

/** Runs `fn` (calls through `client`) under a deadline of `ms` from now. */
export function withTemporalDeadline<T>(client: Client, fn: () => Promise<T>, ms = TEMPORAL_CALL_TIMEOUT_MS): Promise<T> {
  return client.withDeadline(Date.now() + ms, fn);
}

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
      const connection = await Connection.connect(temporalConnectionOptions(config.temporal.address));
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
