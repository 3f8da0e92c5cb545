/**
 * Text the API takes from a URL and hands to Postgres: a `text` column cannot hold NUL (the query
 * would fail with a 500), and no id, name or cursor member this API makes has control characters.
 * Checking it up front makes such input a 400 naming the parameter.
 */
import { z } from '@hono/zod-openapi';

export const hasControlCharacter = (s: string): boolean => /\p{Cc}/u.test(s);

/** For text a body carries into Postgres: anything but NUL. */
export const noNul = (s: string): boolean => !s.includes('\u0000');
export const NO_NUL = 'must not contain NUL (U+0000)';

/** 1–`max` characters without control characters. */
export function plainText(max: number) {
  return z.string().min(1).max(max).refine((s) => !hasControlCharacter(s), 'must not contain control characters');
}

/** `{id}` in a path: a job id (or any stored resource's). */
export const IdParam = z.object({
  id: plainText(255).openapi({ param: { name: 'id', in: 'path' }, example: 'job-m3x0k2ab4q7r' }),
});
