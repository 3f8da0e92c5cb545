/**
 * Errors as RFC 9457 problem details (`application/problem+json`):
 * `{ type, title, status, detail, errors?: [{ path, message }] }`.
 *
 * Routes throw `ProblemError` (or return `problem(c, …)`); `onError` turns anything thrown into a
 * problem: ProblemError as is, Hono's HTTPException (e.g. malformed JSON) with its status, anything
 * else as a logged 500 that leaks no stack. `validationHook` is the OpenAPIHono `defaultHook`, so a
 * zod failure on any route's params/query/body is a 400 naming each field as a dotted path
 * (`spec.nPerArm`, `spec.visits.2`). An error saying that Postgres or Temporal cannot be reached
 * (src/api/unavailable.ts) is a 503 with `Retry-After` that names the dependency and nothing
 * else (no address, no connection string).
 */
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { STATUS_CODES } from 'node:http';
import { z } from '@hono/zod-openapi';
import type { ZodError } from 'zod';

import type { FieldError } from '../../engine/kind.js';
import { RETRY_AFTER_SECONDS, UNAVAILABLE_DETAIL, unavailableDependency, type Dependency } from '../unavailable.js';

export type { FieldError };

export interface ProblemInit {
  status: number;
  /** Default: the HTTP reason phrase for `status`. */
  title?: string;
  detail?: string;
  errors?: FieldError[];
  /** A URI naming the problem type. Default `about:blank`. */
  type?: string;
  /** Extra response headers (e.g. `WWW-Authenticate`, `Retry-After`). */
  headers?: Record<string, string>;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: FieldError[];
}

export class ProblemError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail?: string;
  readonly errors?: FieldError[];
  readonly type: string;
  readonly headers?: Record<string, string>;

  constructor(init: ProblemInit) {
    const title = init.title ?? STATUS_CODES[init.status] ?? 'Error';
    super(init.detail ?? title);
    this.name = 'ProblemError';
    this.status = init.status;
    this.title = title;
    this.detail = init.detail;
    this.errors = init.errors;
    this.type = init.type ?? 'about:blank';
    this.headers = init.headers;
  }

  static badRequest(detail: string, errors?: FieldError[]): ProblemError {
    return new ProblemError({ status: 400, detail, errors });
  }
  static notFound(detail = 'not found'): ProblemError {
    return new ProblemError({ status: 404, detail });
  }
  static conflict(detail: string): ProblemError {
    return new ProblemError({ status: 409, detail });
  }
  /** A dependency (Postgres, Temporal) cannot be reached: 503 with `Retry-After`. */
  static unavailable(dependency: Dependency, detail = UNAVAILABLE_DETAIL[dependency]): ProblemError {
    return new ProblemError({ status: 503, detail, headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } });
  }
  /** Well-formed but not allowed (over quota, unknown model, …). */
  static unprocessable(detail: string, errors?: FieldError[]): ProblemError {
    return new ProblemError({ status: 422, detail, errors });
  }

  toJSON(): ProblemBody {
    return {
      type: this.type,
      title: this.title,
      status: this.status,
      ...(this.detail !== undefined ? { detail: this.detail } : {}),
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** A problem+json response. */
export function problem(c: Context, init: ProblemInit | ProblemError): Response {
  const p = init instanceof ProblemError ? init : new ProblemError(init);
  return c.body(JSON.stringify(p.toJSON()), p.status as ContentfulStatusCode, {
    ...p.headers,
    'Content-Type': PROBLEM_CONTENT_TYPE,
  });
}

/** `spec.visits.2`: path segments joined with dots, array indices as numbers. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === 'symbol' ? (p.description ?? '') : String(p))).join('.');
}

/** One entry per failing field; an unknown member is named by its own path (`spec.nPerArms`), not its parent's. */
export function zodFieldErrors(error: ZodError): FieldError[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((k) => ({ path: formatIssuePath([...issue.path, k]), message: `unknown field "${k}"` }))
      : [{ path: formatIssuePath(issue.path), message: issue.message }],
  );
}

const TARGET_NAMES: Record<string, string> = {
  json: 'body',
  form: 'body',
  query: 'query parameters',
  param: 'path parameters',
  header: 'headers',
  cookie: 'cookies',
};

/** OpenAPIHono `defaultHook`: any failed validation becomes a 400 problem. */
export function validationHook(result: { target: string } & ({ success: true } | { success: false; error: ZodError })): undefined {
  if (!result.success) {
    throw new ProblemError({
      status: 400,
      detail: `invalid ${TARGET_NAMES[result.target] ?? result.target}`,
      errors: zodFieldErrors(result.error),
    });
  }
}

/** What `problemErrorHandler` needs of the app: its OpenAPI routes (for the media types a route takes). */
export interface RouteDefinitions {
  openAPIRegistry: { definitions: ReadonlyArray<{ type: string; route?: { method: string; path: string; request?: { body?: { content?: object } } } }> };
}

/** The request body media types the route of `method path` declares; a literal path beats a template. */
export function declaredBodyTypes(app: RouteDefinitions, method: string, path: string): string[] {
  const routes = app.openAPIRegistry.definitions.flatMap((d) => (d.type === 'route' && d.route?.method === method.toLowerCase() ? [d.route] : []));
  const template = (p: string) => new RegExp(`^${p.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
  const route = routes.find((r) => r.path === path) ?? routes.find((r) => template(r.path).test(path));
  return Object.keys(route?.request?.body?.content ?? {});
}

/**
 * A body the route cannot take (no Content-Type, or another one): a 415 that says which media
 * type to send, naming the header.
 */
export function unsupportedMediaType(c: Context, accepted: string[]): ProblemError {
  const sent = c.req.header('Content-Type');
  const wanted = accepted.length ? accepted.join(' or ') : 'application/json';
  return new ProblemError({
    status: 415,
    detail: `${c.req.method} ${c.req.path} takes a body of type ${wanted}; this one was sent ${sent ? `as ${sent}` : 'without a Content-Type'}`,
    errors: [{ path: 'Content-Type', message: `must be ${wanted}` }],
  });
}

/** `app`: for a 415 raised by the router (a JSON route's body sent as something else), to name the media type. */
export function problemErrorHandler(app?: RouteDefinitions): ErrorHandler {
  return (err, c) => {
    if (err instanceof ProblemError) return problem(c, err);
    if (err instanceof HTTPException && err.status === 415) {
      return problem(c, unsupportedMediaType(c, app ? declaredBodyTypes(app, c.req.method, c.req.path) : []));
    }
    if (err instanceof HTTPException) {
      // Raised by Hono itself: malformed JSON body, body limit, …
      return problem(c, { status: err.status, detail: err.message || undefined });
    }
    const log = (c.var as { log?: { error: (obj: object, msg: string) => void; warn: (obj: object, msg: string) => void } }).log;
    const down = unavailableDependency(err);
    if (down) {
      // The cause goes to the log only: its message may carry an address.
      if (log) log.warn({ err, dependency: down }, `${down} unavailable`);
      return problem(c, ProblemError.unavailable(down));
    }
    if (log) log.error({ err }, 'unhandled error');
    else console.error('unhandled error', err);
    return problem(c, { status: 500, detail: 'internal error; see the server log for this request id' });
  };
}

export function problemNotFound(): NotFoundHandler {
  return (c) => problem(c, { status: 404, detail: `no route for ${c.req.method} ${c.req.path}` });
}

/** The Problem schema, for route definitions' error responses. */
export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'about:blank' }),
    title: z.string().openapi({ example: 'Bad Request' }),
    status: z.number().int().openapi({ example: 400 }),
    detail: z.string().optional().openapi({ example: 'invalid body' }),
    errors: z
      .array(z.object({ path: z.string().openapi({ example: 'spec.nPerArm' }), message: z.string() }))
      .optional(),
  })
  .openapi('Problem');

/**
 * Error responses for `createRoute({ responses: { ...problemResponses(400, 404, 409) } })`.
 */
export function problemResponses<S extends number>(
  ...statuses: S[]
): Record<S, { description: string; content: { 'application/problem+json': { schema: typeof ProblemSchema } } }> {
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      { description: STATUS_CODES[s] ?? 'Error', content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } } },
    ]),
  ) as never;
}
