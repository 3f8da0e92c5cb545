/**
 * `Idempotency-Key` for every POST that creates something.
 *
 * Contract (per tenant): the first request with a key creates the resource and stores the key and
 * `requestHash(body)` with it. A later request with the same key and
 *   - the same body (same canonical JSON)  → 200 with the original resource, nothing new is started;
 *   - another body                          → 409 problem.
 * Keys are 1–255 printable ASCII characters; anything else is a 400 naming `Idempotency-Key`.
 *
 * Typical use in a create route:
 *
 *   const key = readIdempotencyKey(c);                       // string | null
 *   const hash = requestHash(body);
 *   if (key) {
 *     const existing = await findIdempotentJob(db, tenant.tenantId, key, hash);  // throws 409 on another body
 *     if (existing) return c.json(toJobView(existing), 200);
 *   }
 *   try { insert row with idempotencyKey: key, requestHash: hash … }
 *   catch (err) {
 *     // a concurrent request with the same key won the race: answer as if we came second
 *     if (key && isUniqueViolation(err)) { const row = await findIdempotentJob(db, …); if (row) return c.json(…, 200); }
 *     throw err;
 *   }
 */
import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import { and, eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { jobs, type JobRow } from '../db/schema.js';
import { ProblemError } from './middleware/problem.js';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/** JSON with object keys sorted at every level; `undefined` members dropped (as JSON.stringify does). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype) {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
    }
    return v;
  }) ?? 'null';
}

/** sha256 hex of the canonical JSON of a request body. Key order does not matter. */
export function requestHash(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

/** The request's Idempotency-Key, or null when absent. Throws a 400 problem when malformed. */
export function readIdempotencyKey(c: Context): string | null {
  const raw = c.req.header(IDEMPOTENCY_HEADER);
  if (raw === undefined) return null;
  if (!/^[\x21-\x7e][\x20-\x7e]{0,254}$/.test(raw)) {
    throw ProblemError.badRequest('invalid Idempotency-Key', [
      { path: IDEMPOTENCY_HEADER, message: 'must be 1 to 255 printable ASCII characters' },
    ]);
  }
  return raw;
}

/** Throws the 409 problem when a stored request hash differs from this request's. */
export function assertSameRequest(stored: { requestHash: string | null }, hash: string, key: string): void {
  if (stored.requestHash !== hash) {
    throw new ProblemError({
      status: 409,
      detail: `Idempotency-Key ${JSON.stringify(key)} was already used with a different request body`,
    });
  }
}

/** The tenant's job created with this key, or null; throws 409 if it was created from another body. */
export async function findIdempotentJob(db: Database, tenantId: string, key: string, hash: string): Promise<JobRow | null> {
  const [row] = await db
    .select()
    .from(jobs)
    .where(and(eq(jobs.tenantId, tenantId), eq(jobs.idempotencyKey, key)))
    .limit(1);
  if (!row) return null;
  assertSameRequest(row, hash, key);
  return row;
}

/** True for a Postgres unique violation (23505), also when wrapped by drizzle's DrizzleQueryError. */
export function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === '23505') return true;
  }
  return false;
}
