/**
 * Lists, written once: `?limit=` (default 50, 1–500) and an opaque `cursor`; the answer is
 * `{ items, nextCursor }` (API.md). Every list route takes `PaginationQuery` (extended with its own
 * filters) and encodes its position with `encodeCursor` / reads it back with `decodeCursor`.
 *
 * A cursor is base64url JSON of the last item's position in the list's order: `{ createdAt, id }` for
 * the newest-first keyset lists (jobs, a tenant's models), `{ name }` for a job's files. Each list
 * decodes it with a zod schema of its own position, so anything that was not made by
 * `encodeCursor` for that list — not base64url, not JSON, wrong members, a date Postgres cannot
 * hold (year 275760), a string with a NUL or another control character — is a 400 problem naming
 * `cursor`, never a 500.
 *
 *   const q = c.req.valid('query');                              // PaginationQuery.extend({ kind: … })
 *   const cursor = q.cursor ? decodeCursor(q.cursor) : null;     // { createdAt, id } | null
 *   const rows = await db.select().from(jobs)
 *     .where(and(eq(jobs.tenantId, tenantId), olderThan(jobs.createdAt, jobs.id, cursor)))
 *     .orderBy(desc(jobs.createdAt), desc(jobs.id)).limit(q.limit + 1);
 *   return c.json(toPage(rows, q.limit, (r) => ({ createdAt: r.createdAt, id: r.id }), rowView), 200);
 */
import { z } from '@hono/zod-openapi';
import { and, eq, lt, or, type Column, type SQL } from 'drizzle-orm';
import { ProblemError } from './middleware/problem.js';
import { plainText } from './params.js';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;
/** Longer than any cursor this API makes; a longer `cursor` is refused before decoding. */
export const MAX_CURSOR_LENGTH = 4096;

const LIMIT_MESSAGE = `must be an integer from 1 to ${MAX_LIMIT}`;

/** The query parameters of every list route. Failures are 400 problems naming `limit` / `cursor`. */
export const PaginationQuery = z.object({
  limit: z
    .string()
    .regex(/^[0-9]{1,9}$/, LIMIT_MESSAGE)
    .transform(Number)
    .pipe(z.number().int().min(1, LIMIT_MESSAGE).max(MAX_LIMIT, LIMIT_MESSAGE))
    .optional()
    .transform((n) => n ?? DEFAULT_LIMIT)
    .openapi({
      param: { name: 'limit', in: 'query' },
      type: 'integer',
      minimum: 1,
      maximum: MAX_LIMIT,
      default: DEFAULT_LIMIT,
      description: `page size, 1–${MAX_LIMIT}, default ${DEFAULT_LIMIT}`,
    }),
  cursor: z
    .string()
    .optional()
    .openapi({ param: { name: 'cursor', in: 'query' }, description: 'the `nextCursor` of the previous page (opaque)' }),
});

export type Pagination = z.output<typeof PaginationQuery>;

/** `{ items: T[], nextCursor: string | null }` for a route's response schema. */
export function PageSchema<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

// ---- the cursor codec ----

/** A position member: what a cursor may carry (Dates become ISO strings). */
export type CursorValue = string | number | Date;

/** A string member of a cursor position: 1–1024 characters, no control characters (Postgres text holds no NUL). */
export const CursorText = plainText(1024);

const ISO_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A timestamp member: exactly the ISO form encodeCursor writes, years 0000–9999 (inside Postgres' range). */
export const CursorDate = z
  .string()
  .regex(ISO_MILLIS, 'not a timestamp')
  // A real instant written the one way toISOString writes it (no 2025-02-30 rolled into March).
  .refine((s) => {
    const d = new Date(s);
    return !Number.isNaN(d.getTime()) && d.toISOString() === s;
  }, 'not a timestamp')
  .transform((s) => new Date(s));

/** The position of newest-first keyset lists: the last item's (createdAt, id). */
export const KeysetPosition = z.object({ createdAt: CursorDate, id: CursorText }).strict();
export type Cursor = z.output<typeof KeysetPosition>;

export function encodeCursor(position: Record<string, CursorValue>): string {
  const plain = Object.fromEntries(Object.entries(position).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]));
  return Buffer.from(JSON.stringify(plain), 'utf8').toString('base64url');
}

const badCursor = (message = 'not a cursor from a previous page of this list') =>
  ProblemError.badRequest('invalid cursor', [{ path: 'cursor', message }]);

/**
 * The position a cursor stands for, checked against the list's own position schema (default: the
 * keyset `{ createdAt, id }`). Throws a 400 problem naming `cursor` for anything encodeCursor did not
 * make for this list.
 */
export function decodeCursor(cursor: string): Cursor;
export function decodeCursor<S extends z.ZodType>(cursor: string, position: S): z.output<S>;
export function decodeCursor(cursor: string, position: z.ZodType = KeysetPosition): unknown {
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw badCursor();
  const bytes = Buffer.from(cursor, 'base64url');
  // Only the canonical encoding: a cursor is never "repaired" into another position.
  if (bytes.toString('base64url') !== cursor) throw badCursor();
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw badCursor();
  }
  const result = position.safeParse(parsed);
  if (!result.success) throw badCursor();
  return result.data;
}

// ---- pages ----

/** Keyset condition for newest-first order: rows strictly after the cursor. undefined without a cursor. */
export function olderThan(createdAtCol: Column, idCol: Column, cursor: Cursor | null): SQL | undefined {
  if (!cursor) return undefined;
  return or(lt(createdAtCol, cursor.createdAt), and(eq(createdAtCol, cursor.createdAt), lt(idCol, cursor.id)));
}

/**
 * Builds `{ items, nextCursor }` from rows fetched with `limit + 1`: the extra row only says that
 * there is a next page; the cursor is the position of the last item kept.
 */
export function toPage<R, T = R>(
  rows: R[],
  limit: number,
  position: (row: R) => Record<string, CursorValue>,
  view: (row: R) => T = (r) => r as unknown as T,
): { items: T[]; nextCursor: string | null } {
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  return { items: page.map(view), nextCursor: more ? encodeCursor(position(page[page.length - 1]!)) : null };
}
