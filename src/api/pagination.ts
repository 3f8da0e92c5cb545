/**
 * Lists: `?limit=` (default 50, 1–500) and an opaque `cursor`; answer `{ items, nextCursor }`.
 * The cursor is base64url JSON `{ createdAt, id }` of the last item, for newest-first keyset
 * pagination on (created_at desc, id desc).
 *
 *   const { limit, cursor } = readPagination(c);   // 400 problem naming `limit` / `cursor`
 *   const rows = await db.select().from(jobs)
 *     .where(and(eq(jobs.tenantId, tenantId), olderThan(jobs.createdAt, jobs.id, cursor)))
 *     .orderBy(desc(jobs.createdAt), desc(jobs.id)).limit(limit + 1);
 *   return c.json(toPage(rows, limit, (r) => r, toJobView), 200);
 *
 * In a createRoute: `request: { query: PaginationQuery.extend({ kind: … }) }` validates the same rules
 * (through the default hook), then `decodeCursor(query.cursor)`.
 */
import type { Context } from 'hono';
import { z } from '@hono/zod-openapi';
import { and, eq, lt, or, type Column, type SQL } from 'drizzle-orm';
import { ProblemError } from './middleware/problem.js';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

export interface Cursor {
  createdAt: Date;
  id: string;
}

export function encodeCursor(pos: { createdAt: Date | string; id: string }): string {
  const createdAt = typeof pos.createdAt === 'string' ? pos.createdAt : pos.createdAt.toISOString();
  return Buffer.from(JSON.stringify({ createdAt, id: pos.id }), 'utf8').toString('base64url');
}

const badCursor = () => ProblemError.badRequest('invalid cursor', [{ path: 'cursor', message: 'not a cursor from a previous page' }]);

/** Throws a 400 problem naming `cursor` when it was not made by encodeCursor. */
export function decodeCursor(cursor: string): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  const p = parsed as { createdAt?: unknown; id?: unknown } | null;
  if (!p || typeof p.createdAt !== 'string' || typeof p.id !== 'string') throw badCursor();
  const createdAt = new Date(p.createdAt);
  if (Number.isNaN(createdAt.getTime())) throw badCursor();
  return { createdAt, id: p.id };
}

/** `limit` from a query string value: default 50; a 400 problem naming `limit` unless an integer 1–500. */
export function parseLimit(raw: string | number | undefined | null): number {
  if (raw === undefined || raw === null || raw === '') return DEFAULT_LIMIT;
  const n = typeof raw === 'number' ? raw : /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw ProblemError.badRequest('invalid limit', [
      { path: 'limit', message: `must be an integer from 1 to ${MAX_LIMIT} (got ${JSON.stringify(String(raw))})` },
    ]);
  }
  return n;
}

export function readPagination(c: Context): { limit: number; cursor: Cursor | null } {
  const cursor = c.req.query('cursor');
  return { limit: parseLimit(c.req.query('limit')), cursor: cursor ? decodeCursor(cursor) : null };
}

/** Query schema for createRoute; same rules as parseLimit. */
export const PaginationQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_LIMIT)
    .default(DEFAULT_LIMIT)
    .openapi({ param: { name: 'limit', in: 'query' }, example: DEFAULT_LIMIT, description: `1–${MAX_LIMIT}, default ${DEFAULT_LIMIT}` }),
  cursor: z
    .string()
    .optional()
    .openapi({ param: { name: 'cursor', in: 'query' }, description: 'nextCursor of the previous page' }),
});

/** Keyset condition for newest-first order: rows strictly after the cursor. undefined without a cursor. */
export function olderThan(createdAtCol: Column, idCol: Column, cursor: Cursor | null): SQL | undefined {
  if (!cursor) return undefined;
  return or(lt(createdAtCol, cursor.createdAt), and(eq(createdAtCol, cursor.createdAt), lt(idCol, cursor.id)));
}

/**
 * Builds `{ items, nextCursor }` from rows fetched with `limit + 1`: the extra row only says that
 * there is a next page.
 */
export function toPage<R, T = R>(
  rows: R[],
  limit: number,
  position: (row: R) => { createdAt: Date | string; id: string },
  view: (row: R) => T = (r) => r as unknown as T,
): { items: T[]; nextCursor: string | null } {
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  return { items: page.map(view), nextCursor: more ? encodeCursor(position(page[page.length - 1]!)) : null };
}

/** `{ items: T[], nextCursor: string | null }` for a route's response schema. */
export function PageSchema<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}
