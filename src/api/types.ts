import type { Client, Connection } from '@temporalio/client';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import type { KindRegistry } from '../engine/kind.js';
import type { Logger } from '../log.js';

export interface ApiDeps {
  config: Config;
  db: Db;
  /** The kinds this API accepts (src/kinds: builtInKinds). */
  kinds: KindRegistry;
  temporal: { client: Client; connection: Connection };
  logger: Logger;
}

/** Who is calling. Set by the auth middleware on every /v1 route. */
export interface Tenant {
  tenantId: string;
  /** null while auth is off. */
  keyId: string | null;
  /** Quotas from the key; null = unlimited. */
  maxRows: number | null;
  maxConcurrentJobs: number | null;
  /** Requests per minute (the key's, else SHARDFLOW_RATE_LIMIT_PER_MINUTE); null = unlimited. */
  ratePerMinute: number | null;
  /** Bytes the tenant's job files may hold before new jobs are refused; null = unlimited. */
  maxStorageBytes: number | null;
}

export type AppEnv = {
  Variables: {
    tenant: Tenant;
    requestId: string;
    deps: ApiDeps;
    /** pino child logger carrying this request's id. */
    log: Logger;
  };
};
