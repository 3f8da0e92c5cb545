/** Stored scenarios of a tenant (tables `scenarios`, `scenario_versions`), as the kind reads them when a job is submitted. */
import type postgres from 'postgres';
import type { ResolvedScenario } from './scenario.js';

/** Ids of stored scenarios start with this; a preset name never does. */
export const SCENARIO_ID_PREFIX = 'scn-';

export interface StoredScenarioVersion {
  id: string;
  name: string;
  version: number;
  latestVersion: number;
  body: Record<string, unknown>;
  resolved: ResolvedScenario;
  createdAt: Date;
}

/** The tenant's scenario `id` at `version` (default: its latest); undefined when there is none (another tenant's too). */
export async function findScenario(sql: postgres.Sql, tenantId: string, id: string, version?: number): Promise<StoredScenarioVersion | undefined> {
  if (id.length > 255 || /\p{Cc}/u.test(id)) return undefined;
  const rows = await sql<{ id: string; name: string; version: number; latest_version: number; body: Record<string, unknown>; resolved: ResolvedScenario; created_at: Date | string }[]>`
    select s.id, s.name, v.version, s.latest_version, v.body, v.resolved, v.created_at
    from scenarios s join scenario_versions v on v.scenario_id = s.id
    where s.id = ${id} and s.tenant_id = ${tenantId} and v.version = coalesce(${version ?? null}::int, s.latest_version)`;
  const r = rows[0];
  return r ? { id: r.id, name: r.name, version: r.version, latestVersion: r.latest_version, body: r.body, resolved: r.resolved, createdAt: new Date(r.created_at) } : undefined;
}
