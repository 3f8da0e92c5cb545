/**
 * Request bodies are limited while they arrive: a declared Content-Length over the limit is a 413
 * before a byte is read, a chunked body is counted and cut off at the limit (JSON: hono's bodyLimit,
 * which buffers the small body; CSV and NDJSON: counted as the route reads them, never buffered).
 * CSV and NDJSON uploads (`text/csv`: models, activities; `application/x-ndjson`: activities) have their own, larger limit. Runs after auth: an unknown key
 * never gets to send a body.
 */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ProblemError } from './problem.js';

const tooLarge = (max: number, what: string) => () => {
  throw new ProblemError({ status: 413, detail: `the request body is larger than ${max} bytes, the limit for ${what}` });
};

/**
 * The upload limit without buffering: hono's bodyLimit reads a chunked body whole into memory before
 * the route sees a byte (up to the limit: 50 MiB by default), which made a streamed NDJSON ingest
 * hold each body in memory and start its COPY only after the upload. This one counts the bytes as
 * the route reads them and errors the stream with the 413 problem once past the limit; a route that
 * streams (POST /v1/activities) rolls back, one that reads the whole body gets the same error.
 */
function streamingLimit(maxSize: number, what: string): MiddlewareHandler {
  const onError = tooLarge(maxSize, what);
  return async (c, next) => {
    const body = c.req.raw.body;
    if (!body) return next();
    if (c.req.raw.headers.has('content-length') && !c.req.raw.headers.has('transfer-encoding')) {
      return parseInt(c.req.raw.headers.get('content-length') || '0', 10) > maxSize ? onError() : next();
    }
    let size = 0;
    const counted = body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          size += chunk.byteLength;
          if (size <= maxSize) return controller.enqueue(chunk);
          try {
            onError();
          } catch (problem) {
            controller.error(problem);
          }
        },
      }),
    );
    c.req.raw = new Request(c.req.raw, { body: counted, duplex: 'half' } as RequestInit);
    return next();
  };
}

export function bodyLimits(limits: { bodyBytes: number; csvBytes: number }): MiddlewareHandler {
  const json = bodyLimit({ maxSize: limits.bodyBytes, onError: tooLarge(limits.bodyBytes, 'a request (SHARDFLOW_MAX_BODY_BYTES)') });
  const csv = streamingLimit(limits.csvBytes, 'a CSV upload (SHARDFLOW_MAX_CSV_BYTES)');
  return (c, next) => (/^(text\/csv|application\/x-ndjson)\b/i.test(c.req.header('Content-Type') ?? '') ? csv : json)(c, next);
}
