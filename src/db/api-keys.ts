/**
 * API keys: `sf_` + 32 random bytes (base64url). Only the sha256 of the secret is stored;
 * the secret is shown once, when the key is created.
 */
import { createHash, randomBytes } from 'node:crypto';
import { and, asc, eq, isNull } from 'drizzle-orm';
import type { Database } from './client.js';
import { apiKeys, type ApiKeyRow } from './schema.js';

export const API_KEY_PREFIX = 'sf_';
/** Characters of the secret kept for display (`sf_` + 8). */
const DISPLAY_PREFIX_LENGTH = 11;

export function generateApiKeySecret(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

/** sha256 hex of the secret: what is stored and looked up. */
export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export interface CreateApiKeyInput {
  name?: string;
  /** Default `local`: the tenant the API uses while auth is off, so switching auth on keeps those jobs visible. */
  tenantId?: string;
  maxRows?: number | null;
  maxConcurrentJobs?: number | null;
  ratePerMinute?: number | null;
  maxStorageBytes?: number | null;
}

export interface CreatedApiKey {
  id: string;
  tenantId: string;
  name: string | null;
  prefix: string;
  maxRows: number | null;
  maxConcurrentJobs: number | null;
  ratePerMinute: number | null;
  maxStorageBytes: number | null;
  createdAt: Date;
  /** The secret. Not stored anywhere; show it once. */
  secret: string;
}

export async function createApiKey(db: Database, input: CreateApiKeyInput = {}): Promise<CreatedApiKey> {
  const secret = generateApiKeySecret();
  const [row] = await db
    .insert(apiKeys)
    .values({
      id: `key_${randomBytes(8).toString('hex')}`,
      tenantId: input.tenantId ?? 'local',
      name: input.name ?? null,
      keyHash: hashApiKey(secret),
      prefix: secret.slice(0, DISPLAY_PREFIX_LENGTH),
      maxRows: input.maxRows ?? null,
      maxConcurrentJobs: input.maxConcurrentJobs ?? null,
      ratePerMinute: input.ratePerMinute ?? null,
      maxStorageBytes: input.maxStorageBytes ?? null,
    })
    .returning();
  const r = row!;
  return {
    id: r.id,
    tenantId: r.tenantId,
    name: r.name,
    prefix: r.prefix,
    maxRows: r.maxRows,
    maxConcurrentJobs: r.maxConcurrentJobs,
    ratePerMinute: r.ratePerMinute,
    maxStorageBytes: r.maxStorageBytes,
    createdAt: r.createdAt,
    secret,
  };
}

export type ApiKeyInfo = Omit<ApiKeyRow, 'keyHash'>;

export async function listApiKeys(db: Database, opts: { tenantId?: string; includeRevoked?: boolean } = {}): Promise<ApiKeyInfo[]> {
  const rows = await db
    .select()
    .from(apiKeys)
    .where(
      and(
        opts.tenantId ? eq(apiKeys.tenantId, opts.tenantId) : undefined,
        opts.includeRevoked ? undefined : isNull(apiKeys.revokedAt),
      ),
    )
    .orderBy(asc(apiKeys.createdAt), asc(apiKeys.id));
  return rows.map(({ keyHash: _hash, ...rest }) => rest);
}

/** Marks the key revoked. Returns false when there is no such (unrevoked) key. */
export async function revokeApiKey(db: Database, id: string): Promise<boolean> {
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return rows.length > 0;
}

/** The live (not revoked) key with this secret, or null. */
export async function findApiKeyBySecret(db: Database, secret: string): Promise<ApiKeyRow | null> {
  const [row] = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, hashApiKey(secret)), isNull(apiKeys.revokedAt)))
    .limit(1);
  return row ?? null;
}
