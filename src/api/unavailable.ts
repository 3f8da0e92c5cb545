/**
 * Which dependency an error says is unreachable, so the API can answer 503 with `Retry-After`
 * (docs/API.md, "Errors") instead of a 500: Postgres (postgres.js connection errors, socket
 * errors, SQLSTATEs of a server that is shutting down, starting or full) or Temporal (gRPC
 * UNAVAILABLE / DEADLINE_EXCEEDED / RESOURCE_EXHAUSTED). The cause chain is followed, since
 * drizzle wraps query errors (`DrizzleQueryError`) and the Temporal client wraps gRPC errors
 * (`ServiceError`).
 */

import { causes, isPostgresUnavailable } from '../db/unavailable.js';

export { isPostgresUnavailable };

export type Dependency = 'postgres' | 'temporal';

/** Seconds a client should wait before it tries again (the dependencies reconnect within about a second). */
export const RETRY_AFTER_SECONDS = 2;

/** gRPC status codes: UNAVAILABLE (14), DEADLINE_EXCEEDED (4), RESOURCE_EXHAUSTED (8). */
const GRPC_UNAVAILABLE = new Set([14, 4, 8]);

/** A gRPC status error (grpc-js: a numeric `code`, `details` and `metadata`). */
function isGrpcStatus(e: unknown): e is { code: number; details?: string } {
  return typeof (e as { code?: unknown }).code === 'number' && 'details' in (e as object) && 'metadata' in (e as object);
}

export function isTemporalUnavailable(err: unknown): boolean {
  return causes(err).some((e) => isGrpcStatus(e) && GRPC_UNAVAILABLE.has(e.code));
}

/**
 * Narrower: no connection to Temporal at all (UNAVAILABLE). A deadline is not enough to say so
 * where a call may wait on a worker (a workflow query while no worker polls).
 */
export function isTemporalUnreachable(err: unknown): boolean {
  return causes(err).some((e) => isGrpcStatus(e) && e.code === 14);
}

/** The dependency an error says is down, or undefined for any other error. */
export function unavailableDependency(err: unknown): Dependency | undefined {
  if (isTemporalUnavailable(err)) return 'temporal';
  if (isPostgresUnavailable(err)) return 'postgres';
  return undefined;
}

/** What a 503 says about each dependency: names it, never its address or credentials. */
export const UNAVAILABLE_DETAIL: Record<Dependency, string> = {
  postgres: 'the database is unavailable; try again shortly (GET /health/ready shows which dependency is down)',
  temporal: 'Temporal is unavailable; try again shortly (GET /health/ready shows which dependency is down)',
};
