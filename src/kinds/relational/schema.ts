/**
 * The shape of a relational spec (zod; documents the API): tables with row counts and columns.
 * Shape errors are 400s naming the field; what needs the whole spec (refs, cycles, uniqueness
 * room, limits) is checked in normalize.ts (422s).
 */
import { z } from '@hono/zod-openapi';

/** What Postgres accepts unquoted and we always quote anyway: lower-case, ≤ 63 bytes. */
export const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const identifier = z.string().regex(IDENTIFIER, 'a lower-case SQL identifier: [a-z_][a-z0-9_]*, at most 63 characters');
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const date = z.string().regex(ISO_DATE, 'an ISO date, YYYY-MM-DD');
const timestamp = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?$/, 'an ISO timestamp with a zone, e.g. 2024-01-01T00:00:00Z');
const SAFE = Number.MAX_SAFE_INTEGER;
const safeInt = z.number().int().min(-SAFE).max(SAFE);
const decimals = z.number().int().min(0).max(12).optional().openapi({ description: 'digits after the point (rounded)' });
const nullRate = z.number().min(0).max(1).optional().openapi({ description: 'share of rows that are NULL' });
const unique = z.boolean().optional();

/** Every type but id takes nullRate and unique (normalize refuses unique where the type cannot honour it). */
const base = { name: identifier, nullRate, unique };

export const RELATIONAL_LIMITS = {
  rowsMax: 1e12,
  choiceValuesMax: 10_000,
  choiceValueLength: 1000,
  patternLength: 200,
  wordsMax: 1000,
  childrenMax: 1e6,
} as const;

export const ColumnSpecSchema = z.discriminatedUnion('type', [
  z.object({ name: identifier, type: z.literal('id'), start: safeInt.min(0).optional().openapi({ description: 'first key (default 1)' }) }).strict(),
  z.object({ ...base, type: z.literal('int'), min: safeInt.optional(), max: safeInt.optional() }).strict(),
  z.object({ ...base, type: z.literal('float'), min: z.number().optional(), max: z.number().optional(), decimals }).strict(),
  z.object({ ...base, type: z.literal('normal'), mean: z.number().optional(), sd: z.number().min(0).optional(), decimals }).strict(),
  z
    .object({ ...base, type: z.literal('lognormal'), mu: z.number().max(700).optional(), sigma: z.number().min(0).max(50).optional(), decimals })
    .strict()
    .openapi({ description: 'exp(N(mu, sigma))' }),
  z
    .object({
      ...base,
      type: z.literal('choice'),
      values: z.array(z.string().max(RELATIONAL_LIMITS.choiceValueLength)).min(1).max(RELATIONAL_LIMITS.choiceValuesMax),
      weights: z.array(z.number().min(0)).optional(),
    })
    .strict(),
  z.object({ ...base, type: z.literal('bool'), probability: z.number().min(0).max(1).optional().openapi({ description: 'of true (default 0.5)' }) }).strict(),
  z.object({ ...base, type: z.literal('date'), min: date.optional(), max: date.optional() }).strict(),
  z
    .object({ ...base, type: z.literal('timestamp'), min: timestamp.optional(), max: timestamp.optional() })
    .strict()
    .openapi({ description: 'whole seconds, UTC' }),
  z.object({ ...base, type: z.literal('uuid') }).strict(),
  z
    .object({ ...base, type: z.literal('pattern'), pattern: z.string().min(1).max(RELATIONAL_LIMITS.patternLength) })
    .strict()
    .openapi({ description: '# a digit, ? an upper-case letter, * a digit or letter, \\ escapes the next character' }),
  z.object({ ...base, type: z.literal('firstName') }).strict(),
  z.object({ ...base, type: z.literal('lastName') }).strict(),
  z
    .object({ ...base, type: z.literal('email') })
    .strict()
    .openapi({ description: 'first.last…@example.com|org|net (reserved domains); follows the row’s firstName/lastName' }),
  z
    .object({
      ...base,
      type: z.literal('text'),
      minWords: z.number().int().min(0).max(RELATIONAL_LIMITS.wordsMax).optional(),
      maxWords: z.number().int().min(0).max(RELATIONAL_LIMITS.wordsMax).optional(),
    })
    .strict(),
  z
    .object({
      ...base,
      type: z.literal('ref'),
      table: identifier,
      distribution: z.enum(['uniform', 'zipf', 'sequential']).optional(),
      s: z.number().gt(0).max(10).optional().openapi({ description: 'zipf exponent (default 1)' }),
    })
    .strict()
    .openapi({ description: "a key of `table`'s id column" }),
]);

const count = z.number().int().min(0).max(RELATIONAL_LIMITS.childrenMax);
export const ChildCountSchema = z.union(
  [
    z.object({ fixed: count }).strict(),
    z.object({ poisson: z.number().min(0).max(RELATIONAL_LIMITS.childrenMax) }).strict(),
    z.object({ uniform: z.object({ min: count, max: count }).strict() }).strict(),
    z.object({ zipf: z.object({ s: z.number().gt(0).max(10), max: count.min(1) }).strict() }).strict(),
  ],
  { error: 'children per parent: { "fixed": n }, { "poisson": λ }, { "uniform": { "min": a, "max": b } } or { "zipf": { "s": s, "max": n } }, with n, a, b, λ ≤ 1,000,000 and 0 < s ≤ 10' },
);

export const TableSpecSchema = z
  .object({
    name: identifier,
    rows: z.union(
      [
        z.number().int().min(0).max(RELATIONAL_LIMITS.rowsMax),
        z
          .object({ perParent: identifier, distribution: ChildCountSchema })
          .strict()
          .openapi({ description: 'children per row of `perParent`, drawn per parent; the total is exact and known at plan time' }),
      ],
      { error: 'a row count (an integer, 0 … 10^12) or { "perParent": "<table>", "distribution": { … } }' },
    ),
    columns: z.array(ColumnSpecSchema).min(1),
  })
  .strict();

export const RelationalSpecSchema = z
  .object({
    seed: z.number().int().min(0).max(SAFE).optional(),
    tables: z.array(TableSpecSchema).min(1),
  })
  .strict()
  .openapi('RelationalSpec');

export type RelationalSpecBody = z.infer<typeof RelationalSpecSchema>;
export type TableSpec = z.infer<typeof TableSpecSchema>;
export type ColumnSpec = z.infer<typeof ColumnSpecSchema>;
export type ChildCount = z.infer<typeof ChildCountSchema>;
