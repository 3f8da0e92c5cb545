/**
 * Per-key request rate: a token bucket per API key (tenant `local` with auth off) holding one
 * minute's allowance (`ratePerMinute` requests, refilled continuously). Beyond it: 429
 * problem+json with `Retry-After` (seconds until a request is allowed again). Every answer on
 * a limited key carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
 * (seconds until the bucket is full), as in the IETF RateLimit header fields draft.
 *
 * The buckets live in this API process: behind N API replicas a key gets up to N × its rate.
 */
import type { MiddlewareHandler } from 'hono';
import { ProblemError } from './problem.js';
import type { AppEnv } from '../types.js';

interface Bucket {
  tokens: number;
  at: number;
  rate: number;
}

/** Buckets of keys not seen for this long are dropped (they would be full again anyway). */
const IDLE_MS = 5 * 60_000;

export function createRateLimiter(now: () => number = () => performance.now()) {
  const buckets = new Map<string, Bucket>();
  let sweptAt = now();

  /** Takes one token: the wait in seconds when there is none (0 = allowed), and the headers. */
  function take(id: string, perMinute: number): { retryAfter: number; remaining: number; reset: number } {
    const t = now();
    if (t - sweptAt > IDLE_MS) {
      for (const [k, b] of buckets) if (t - b.at > IDLE_MS) buckets.delete(k);
      sweptAt = t;
    }
    const perMs = perMinute / 60_000;
    let b = buckets.get(id);
    if (!b || b.rate !== perMinute) buckets.set(id, (b = { tokens: perMinute, at: t, rate: perMinute }));
    b.tokens = Math.min(perMinute, b.tokens + (t - b.at) * perMs);
    b.at = t;
    const reset = Math.ceil((perMinute - b.tokens) / perMs / 1000);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { retryAfter: 0, remaining: Math.floor(b.tokens), reset: Math.ceil((perMinute - b.tokens) / perMs / 1000) };
    }
    return { retryAfter: Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000)), remaining: 0, reset };
  }
  return { take };
}

export function rateLimit(limiter = createRateLimiter()): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const tenant = c.get('tenant');
    const rate = tenant?.ratePerMinute;
    if (!rate) return next();
    const { retryAfter, remaining, reset } = limiter.take(tenant.keyId ?? `tenant:${tenant.tenantId}`, rate);
    const headers = { 'RateLimit-Limit': String(rate), 'RateLimit-Remaining': String(remaining), 'RateLimit-Reset': String(reset) };
    if (retryAfter > 0) {
      throw new ProblemError({
        status: 429,
        detail: `this API key allows ${rate} requests a minute; try again in ${retryAfter} s`,
        headers: { ...headers, 'Retry-After': String(retryAfter) },
      });
    }
    await next();
    try {
      for (const [k, v] of Object.entries(headers)) c.res.headers.set(k, v);
    } catch {
      // a response with immutable headers: it goes out without them
    }
  };
}
