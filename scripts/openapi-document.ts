/**
 * The OpenAPI document the production API serves (`GET /openapi.json`), built in-process from the
 * route definitions with the built-in kinds and default configuration — no Postgres, no Temporal:
 * building the app only declares routes. `scripts/generate-client.ts` turns it into the typed client.
 */
import { createApp, type ApiDeps } from '../src/api/app.js';
import { loadConfig } from '../src/config.js';
import { createBuiltInKinds } from '../src/kinds/index.js';
import { createLogger } from '../src/log.js';

export async function openApiDocument(): Promise<Record<string, unknown>> {
  const config = loadConfig({ LOG_LEVEL: 'silent' });
  const unused = new Proxy({}, { get: () => { throw new Error('the OpenAPI document is built without dependencies'); } });
  const deps = {
    config,
    db: { db: unused, sql: unused, close: async () => {} },
    temporal: { client: unused, connection: unused },
    kinds: createBuiltInKinds({ relational: config.relational }),
    logger: createLogger(config, 'openapi'),
  } as unknown as ApiDeps;
  const res = await createApp(deps).request('/openapi.json');
  if (!res.ok) throw new Error(`GET /openapi.json answered ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}
