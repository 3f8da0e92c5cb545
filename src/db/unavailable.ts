/**
 * Whether an error says that Postgres cannot be reached right now (as opposed to a query that
 * failed): postgres.js's connection errors, the socket errors it passes on, and SQLSTATEs of a
 * server that is shutting down, starting or full. Follows the cause chain (drizzle wraps query
 * errors in DrizzleQueryError). The API answers these with 503 (src/api/unavailable.ts); the
 * engine's bookkeeping activities retry them for as long as their budget lasts.
 */

/** postgres.js's own connection errors and the socket errors it passes on. */
const PG_CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a server that cannot serve right now: admin_shutdown (57P01, a fast or smart
 * shutdown), crash_shutdown (57P02), cannot_connect_now (57P03, starting up or in recovery),
 * too_many_connections (53300), and class 08, connection exceptions.
 */
const PG_UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** `err`, its cause, that one's cause, … (at most 10, no cycles). */
export function causes(err: unknown): unknown[] {
  const out: unknown[] = [];
  let e: unknown = err;
  while (e && typeof e === 'object' && out.length < 10 && !out.includes(e)) {
    out.push(e);
    e = (e as { cause?: unknown }).cause;
  }
  return out;
}

export function isPostgresUnavailable(err: unknown): boolean {
  return causes(err).some((e) => {
    // gRPC status errors carry numeric codes: never these.
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') return false;
    if (PG_CONNECTION_CODES.has(code)) return true;
    // SQLSTATEs only from a server's own error (postgres.js PostgresError).
    return (e as Error).name === 'PostgresError' && (PG_UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08'));
  });
}

/** The postgres.js / socket code of an outage error (for messages that must not carry an address). */
export function outageCode(err: unknown): string | undefined {
  for (const e of causes(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}
