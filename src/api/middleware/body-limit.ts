/**
 * Request bodies are limited while they arrive: a declared Content-Length over the limit is a 413
 * before a byte is read, a chunked body is counted and cut off at the limit (hono's bodyLimit).
 * CSV and NDJSON uploads (`text/csv`: models, activities; `application/x-ndjson`: activities) have their own, larger limit. Runs after auth: an unknown key
 * never gets to send a body.
 */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ProblemError } from './problem.js';

const tooLarge = (max: number, what: string) => () => {
  throw new ProblemError({ status: 413, detail: `the request body is larger than ${max} bytes, the limit for ${what}` });
};

export function bodyLimits(limits: { bodyBytes: number; csvBytes: number }): MiddlewareHandler {
  const json = bodyLimit({ maxSize: limits.bodyBytes, onError: tooLarge(limits.bodyBytes, 'a request (SHARDFLOW_MAX_BODY_BYTES)') });
  const csv = bodyLimit({ maxSize: limits.csvBytes, onError: tooLarge(limits.csvBytes, 'a CSV upload (SHARDFLOW_MAX_CSV_BYTES)') });
  return (c, next) => (/^(text\/csv|application\/x-ndjson)\b/i.test(c.req.header('Content-Type') ?? '') ? csv : json)(c, next);
}
