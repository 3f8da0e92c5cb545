/**
 * API keys: `Authorization: Bearer <key>` or `X-API-Key: <key>`, looked up by sha256 among keys
 * that are not revoked. No or unknown key: 401 problem with `WWW-Authenticate: Bearer`.
 * Sets `c.var.tenant`. With auth off (config only allows that on loopback) every request is the
 * tenant `local` without quotas (but SHARDFLOW_RATE_LIMIT_PER_MINUTE), whatever headers it carries.
 */
import type { MiddlewareHandler } from 'hono';
import { findApiKeyBySecret } from '../../db/api-keys.js';
import { ProblemError } from './problem.js';
import type { ApiDeps, AppEnv, Tenant } from '../types.js';

export const LOCAL_TENANT: Tenant = Object.freeze({ tenantId: 'local', keyId: null, maxRows: null, maxConcurrentJobs: null, ratePerMinute: null, maxStorageBytes: null });

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="shardflow"' };

/** The key from `Authorization: Bearer …` or else `X-API-Key`, or null. */
export function presentedKey(authorization: string | undefined, xApiKey: string | undefined): string | null {
  const bearer = authorization?.match(/^\s*Bearer\s+(\S+)\s*$/i)?.[1];
  const key = bearer ?? xApiKey?.trim();
  return key ? key : null;
}

function unauthorized(detail: string): ProblemError {
  return new ProblemError({ status: 401, detail, headers: CHALLENGE });
}

export function auth(deps: Pick<ApiDeps, 'config' | 'db'>): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (deps.config.auth === 'off') {
      c.set('tenant', { ...LOCAL_TENANT, ratePerMinute: deps.config.limits.ratePerMinute });
      return next();
    }
    const secret = presentedKey(c.req.header('Authorization'), c.req.header('X-API-Key'));
    if (!secret) throw unauthorized('an API key is required: send "Authorization: Bearer <key>" or "X-API-Key: <key>"');
    const key = await findApiKeyBySecret(deps.db.db, secret);
    if (!key) throw unauthorized('unknown or revoked API key');
    c.set('tenant', {
      tenantId: key.tenantId,
      keyId: key.id,
      maxRows: key.maxRows,
      maxConcurrentJobs: key.maxConcurrentJobs,
      ratePerMinute: key.ratePerMinute ?? deps.config.limits.ratePerMinute,
      maxStorageBytes: key.maxStorageBytes,
    });
    return next();
  };
}
