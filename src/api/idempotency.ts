/**
 * `Idempotency-Key` for every POST that creates something, written once for any resource.
 *
 * Contract (per tenant): the first request with a key creates the resource and stores the key and
 * `requestHash(request)` in its row. A later request with the same key and
 *   - the same request (same canonical JSON)  → 200 with the original resource, nothing new is made;
 *   - another request                         → 409 problem naming `Idempotency-Key`.
 * Keys are 1–255 printable ASCII characters; anything else is a 400 naming `Idempotency-Key`.
 *
 * Any drizzle table with `tenantId`, `idempotencyKey` and `requestHash` columns (and a unique index
 * on (tenant_id, idempotency_key)) works. A create route:
 *
 *   const out = await idempotentCreate(c, { db, table: models, tenantId, request: { query, csv } }, async (stamp) => {
 *     … validate, then insert a row with idempotencyKey: stamp.key, requestHash: stamp.hash …
 *     return created;
 *   });
 *   if (out.replayed) return c.json(view(out.row), 200);
 *   return c.json(out.created, 201);
 *
 * `create` runs only when no row has the key. If it throws a unique violation because a concurrent
 * request with the same key inserted first, the winner's row is answered instead (or the 409).
 */
import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import { and, eq, type InferSelectModel } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Database } from '../db/client.js';
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

/** A table a create route can make idempotent. */
export type IdempotentTable = PgTable & {
  tenantId: PgColumn;
  idempotencyKey: PgColumn;
  requestHash: PgColumn;
};

/** What `create` stores in the new row. */
export interface IdempotencyStamp {
  /** null when the request had no Idempotency-Key. */
  key: string | null;
  hash: string;
}

export type IdempotentOutcome<R, Row> = { replayed: false; created: R } | { replayed: true; row: Row };

function conflict(key: string): ProblemError {
  const detail = `Idempotency-Key ${JSON.stringify(key)} was already used with a different request`;
  return new ProblemError({ status: 409, detail, errors: [{ path: IDEMPOTENCY_HEADER, message: detail }] });
}

/** The tenant's row created with this key, or null; a 409 problem if it was created from another request. */
export async function findIdempotent<T extends IdempotentTable>(
  db: Database,
  table: T,
  tenantId: string,
  key: string,
  hash: string,
): Promise<InferSelectModel<T> | null> {
  const rows = (await db
    .select()
    .from(table as PgTable)
    .where(and(eq(table.tenantId, tenantId), eq(table.idempotencyKey, key)))
    .limit(1)) as InferSelectModel<T>[];
  const row = rows[0];
  if (!row) return null;
  if ((row as { requestHash: string | null }).requestHash !== hash) throw conflict(key);
  return row;
}

/**
 * Runs `create` unless the request's Idempotency-Key already made a row (then that row is the
 * answer). `request` is what makes two requests "the same": the validated body, plus whatever
 * query parameters shape the resource.
 */
export async function idempotentCreate<T extends IdempotentTable, R>(
  c: Context,
  opts: { db: Database; table: T; tenantId: string; request: unknown },
  create: (stamp: IdempotencyStamp) => Promise<R>,
): Promise<IdempotentOutcome<R, InferSelectModel<T>>> {
  const key = readIdempotencyKey(c);
  const hash = requestHash(opts.request);
  const earlier = () => (key ? findIdempotent(opts.db, opts.table, opts.tenantId, key, hash) : Promise.resolve(null));
  const found = await earlier();
  if (found) return { replayed: true, row: found };
  try {
    return { replayed: false, created: await create({ key, hash }) };
  } catch (err) {
    // A concurrent request with the same key won the race: answer as the second one. A unique
    // violation of anything else (no row has the key) is the route's to report.
    if (key && isUniqueViolation(err)) {
      const winner = await earlier();
      if (winner) return { replayed: true, row: winner };
    }
    throw err;
  }
}

/**
 * True for a Postgres unique violation (23505), also when wrapped by drizzle's DrizzleQueryError;
 * with `constraint`, only a violation of that index.
 */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const pg = e as { code?: unknown; constraint_name?: unknown };
    if (pg.code === '23505') return constraint === undefined || pg.constraint_name === constraint;
  }
  return false;
}
