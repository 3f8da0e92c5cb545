/**
 * A path the API serves with another method (TRACE /v1/jobs, PUT /v1/jobs/{id}) is a 405 problem
 * with an `Allow` header naming the methods it does take (RFC 9110 §15.5.6); only a path no route
 * matches is a 404.
 */
import type { Context, Hono, NotFoundHandler } from 'hono';
import { ProblemError } from './problem.js';

/** `/v1/jobs/:id`, `/v1/jobs/:id/files/:name{.+}` → a regex for one concrete path. */
function pattern(path: string): RegExp {
  const src = path
    .split('/')
    .map((seg) => {
      if (seg === '*') return '.*';
      const m = /^:[A-Za-z0-9_]+(\{(.+)\})?$/.exec(seg);
      if (m) return m[2] ? `(?:${m[2]})` : '[^/]+';
      return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${src}$`);
}

export function notFoundOrNotAllowed(app: Hono<any>, notFound: NotFoundHandler): NotFoundHandler {
  let table: Array<{ re: RegExp; method: string }> | undefined;
  return (c: Context) => {
    // Built on first use: by then every route is registered. Middleware (method ALL) does not count.
    table ??= app.routes.filter((r) => r.method !== 'ALL').map((r) => ({ re: pattern(r.path), method: r.method }));
    const allowed = [...new Set(table.filter((r) => r.re.test(c.req.path)).map((r) => r.method))];
    if (allowed.length === 0) return notFound(c);
    if (allowed.includes('GET')) allowed.push('HEAD');
    throw new ProblemError({ status: 405, detail: `${c.req.method} is not allowed on ${c.req.path}; it takes ${allowed.join(', ')}`, headers: { Allow: allowed.join(', ') } });
  };
}
