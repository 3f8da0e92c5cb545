/**
 * /v1/scenarios: `patients` scenarios of the tenant, stored in Postgres and versioned (version 1 at
 * POST, one more at each PUT; an older version never changes). The built-in presets are listed
 * first (`builtIn: true`, read-only), then the tenant's scenarios, newest first. A job resolves a
 * scenario when it is submitted and keeps that copy in its spec, so DELETE does not touch jobs.
 * Bodies are the scenario itself (docs/PATIENTS.md § Scenario); refusals name the field from the
 * body's root (`fronts.0.share`): 400 for the shape, 422 for the semantics.
 */
import { randomBytes } from 'node:crypto';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { and, desc, eq, sql as dsql } from 'drizzle-orm';
import { scenarios, scenarioVersions, type ScenarioRow } from '../../db/schema.js';
import { SpecError } from '../../engine/kind.js';
import { isPreset, normalizeScenario, PRESETS, ScenarioSchema, type ResolvedScenario } from '../../kinds/patients/scenario.js';
import { findScenario, SCENARIO_ID_PREFIX } from '../../kinds/patients/store.js';
import { idempotentCreate } from '../idempotency.js';
import { ProblemError, problemResponses } from '../middleware/problem.js';
import { decodeCursor, KeysetPosition, olderThan, PageSchema, PaginationQuery, toPage, type CursorValue } from '../pagination.js';
import { plainText } from '../params.js';
import type { ApiDeps, AppEnv } from '../types.js';

const ScenarioView = z
  .object({
    id: z.string().openapi({ example: 'scn-mi3x0k2a1b2c3d4' }),
    name: z.string(),
    builtIn: z.boolean(),
    version: z.number().int().nullable().openapi({ description: 'this version (null for a preset)' }),
    latestVersion: z.number().int().nullable(),
    createdAt: z.string().nullable(),
    updatedAt: z.string().nullable(),
    scenario: z.record(z.string(), z.unknown()).optional().openapi({ description: 'the body as sent (a preset: `{ "preset": name }`)' }),
    resolved: z.record(z.string(), z.unknown()).optional().openapi({ description: 'the scenario with every default filled: what a job uses' }),
  })
  .openapi('Scenario');

const Body = ScenarioSchema.openapi('ScenarioBody');
const ValidatedSchema = z.object({ valid: z.literal(true), resolved: z.record(z.string(), z.unknown()) }).openapi('ValidatedScenario');

const Ref = z.object({
  id: plainText(255).openapi({ param: { name: 'id', in: 'path' }, description: 'a scenario id, or a preset name', example: 'scn-mi3x0k2a1b2c3d4' }),
});
const VersionQuery = z.object({
  version: z
    .string()
    .regex(/^[1-9][0-9]{0,8}$/, 'a version number (1, 2, …)')
    .transform(Number)
    .optional()
    .openapi({ param: { name: 'version', in: 'query' }, type: 'integer', minimum: 1, description: 'an older version (default: the latest)' }),
});
const Position = z.union([KeysetPosition, z.object({ preset: z.string().max(60) }).strict()]);
const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });

const create = createRoute({
  method: 'post',
  path: '/v1/scenarios',
  tags: ['scenarios'],
  summary: 'Store a scenario (version 1)',
  request: { body: { ...json(Body), required: true }, headers: z.object({ 'idempotency-key': z.string().optional() }) },
  responses: { 201: { description: 'stored', ...json(ScenarioView) }, 200: { description: 'the scenario this Idempotency-Key already created', ...json(ScenarioView) }, ...problemResponses(400, 401, 409, 422) },
});
const validate = createRoute({
  method: 'post',
  path: '/v1/scenarios/validate',
  tags: ['scenarios'],
  summary: 'Check a scenario and answer it resolved (defaults filled); stores nothing',
  request: { body: { ...json(Body), required: true } },
  responses: { 200: { description: 'valid', ...json(ValidatedSchema) }, ...problemResponses(400, 401, 422) },
});
const list = createRoute({
  method: 'get',
  path: '/v1/scenarios',
  tags: ['scenarios'],
  summary: 'The built-in presets, then your scenarios, newest first',
  request: { query: PaginationQuery },
  responses: { 200: { description: 'a page of scenarios', ...json(PageSchema(ScenarioView)) }, ...problemResponses(400, 401) },
});
const get = createRoute({
  method: 'get',
  path: '/v1/scenarios/{id}',
  tags: ['scenarios'],
  summary: 'One scenario (its latest version, or `?version=`), as sent and resolved',
  request: { params: Ref, query: VersionQuery },
  responses: { 200: { description: 'the scenario', ...json(ScenarioView) }, ...problemResponses(400, 401, 404) },
});
const put = createRoute({
  method: 'put',
  path: '/v1/scenarios/{id}',
  tags: ['scenarios'],
  summary: 'A new version of a scenario (older versions stay as they are)',
  request: { params: Ref, body: { ...json(Body), required: true } },
  responses: { 200: { description: 'the new version', ...json(ScenarioView) }, ...problemResponses(400, 401, 404, 409, 422) },
});
const remove = createRoute({
  method: 'delete',
  path: '/v1/scenarios/{id}',
  tags: ['scenarios'],
  summary: 'Delete a scenario and its versions (jobs keep the copy they resolved)',
  request: { params: Ref },
  responses: { 204: { description: 'deleted' }, ...problemResponses(400, 401, 404, 409) },
});

/** The scenario or a problem naming the body's field (400 shape, 422 semantics). */
function resolve(body: unknown): ResolvedScenario {
  try {
    return normalizeScenario(body, '');
  } catch (err) {
    if (err instanceof SpecError) throw new ProblemError({ status: err.status, detail: err.message, errors: err.errors });
    throw err;
  }
}

const presetView = (name: string, detail: boolean) => ({
  id: name,
  name,
  builtIn: true,
  version: null,
  latestVersion: null,
  createdAt: null,
  updatedAt: null,
  ...(detail ? { scenario: { preset: name }, resolved: normalizeScenario({ preset: name }) as unknown as Record<string, unknown> } : {}),
});

const readOnly = (id: string) => new ProblemError({ status: 409, detail: `"${id}" is a built-in preset, which cannot be changed; POST /v1/scenarios with { "preset": "${id}", … } makes your own` });

export function registerScenarioRoutes(app: OpenAPIHono<AppEnv>, deps: ApiDeps): void {
  const db = deps.db.db;
  const sql = deps.db.sql;
  const rowView = (r: Pick<ScenarioRow, 'id' | 'name' | 'latestVersion' | 'createdAt' | 'updatedAt'>) => ({
    id: r.id,
    name: r.name,
    builtIn: false,
    version: r.latestVersion,
    latestVersion: r.latestVersion,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  });
  const detail = async (tenantId: string, id: string, version?: number) => {
    const s = await findScenario(sql, tenantId, id, version);
    if (!s) return undefined;
    const [row] = await db.select().from(scenarios).where(eq(scenarios.id, s.id));
    return { ...rowView(row!), version: s.version, createdAt: s.createdAt.toISOString(), scenario: s.body, resolved: s.resolved as unknown as Record<string, unknown> };
  };
  const missing = (id: string, version?: number) =>
    ProblemError.notFound(version !== undefined ? `no version ${version} of scenario ${JSON.stringify(id)}` : `no scenario ${JSON.stringify(id)}`);

  app.openapi(create, async (c) => {
    const body = c.req.valid('json');
    const tenantId = c.get('tenant').tenantId;
    const out = await idempotentCreate(c, { db, table: scenarios, tenantId, request: body }, async (stamp) => {
      const resolved = resolve(body);
      const id = `${SCENARIO_ID_PREFIX}${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
      await db.transaction(async (tx) => {
        await tx.insert(scenarios).values({ id, tenantId, name: resolved.name, latestVersion: 1, idempotencyKey: stamp.key, requestHash: stamp.hash });
        await tx.insert(scenarioVersions).values({ scenarioId: id, version: 1, body, resolved });
      });
      return id;
    });
    const id = out.replayed ? out.row.id : out.created;
    return c.json((await detail(tenantId, id))!, out.replayed ? 200 : 201);
  });

  app.openapi(validate, async (c) => c.json({ valid: true as const, resolved: resolve(c.req.valid('json')) as unknown as Record<string, unknown> }, 200));

  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    const tenantId = c.get('tenant').tenantId;
    const cursor = q.cursor ? decodeCursor(q.cursor, Position) : null;
    const names = Object.keys(PRESETS);
    type Entry = { preset: string } | { row: ScenarioRow };
    const from = cursor && 'preset' in cursor ? names.indexOf(cursor.preset) + 1 : cursor ? names.length : 0;
    const entries: Entry[] = names.slice(from, from + q.limit + 1).map((preset) => ({ preset }));
    const after = cursor && 'createdAt' in cursor ? cursor : null;
    if (entries.length <= q.limit) {
      const rows = await db
        .select()
        .from(scenarios)
        .where(and(eq(scenarios.tenantId, tenantId), olderThan(scenarios.createdAt, scenarios.id, after)))
        .orderBy(desc(scenarios.createdAt), desc(scenarios.id))
        .limit(q.limit + 1 - entries.length);
      entries.push(...rows.map((row) => ({ row })));
    }
    const page = toPage(
      entries,
      q.limit,
      (e): Record<string, CursorValue> => ('preset' in e ? { preset: e.preset } : { createdAt: e.row.createdAt, id: e.row.id }),
      (e) => ('preset' in e ? presetView(e.preset, false) : rowView(e.row)),
    );
    return c.json(page, 200);
  });

  app.openapi(get, async (c) => {
    const { id } = c.req.valid('param');
    const { version } = c.req.valid('query');
    if (isPreset(id)) {
      if (version !== undefined) throw missing(id, version);
      return c.json(presetView(id, true), 200);
    }
    const found = await detail(c.get('tenant').tenantId, id, version);
    if (!found) throw missing(id, version);
    return c.json(found, 200);
  });

  app.openapi(put, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const tenantId = c.get('tenant').tenantId;
    if (isPreset(id)) throw readOnly(id);
    const resolved = resolve(body);
    const version = await db.transaction(async (tx) => {
      const [row] = await tx
        .update(scenarios)
        .set({ latestVersion: dsql`${scenarios.latestVersion} + 1`, name: resolved.name, updatedAt: dsql`now()` })
        .where(and(eq(scenarios.id, id), eq(scenarios.tenantId, tenantId)))
        .returning({ v: scenarios.latestVersion });
      if (!row) return undefined;
      await tx.insert(scenarioVersions).values({ scenarioId: id, version: row.v, body, resolved });
      return row.v;
    });
    if (version === undefined) throw missing(id);
    return c.json((await detail(tenantId, id, version))!, 200);
  });

  app.openapi(remove, async (c) => {
    const { id } = c.req.valid('param');
    if (isPreset(id)) throw readOnly(id);
    const gone = await db
      .delete(scenarios)
      .where(and(eq(scenarios.id, id), eq(scenarios.tenantId, c.get('tenant').tenantId)))
      .returning({ id: scenarios.id });
    if (!gone.length) throw missing(id);
    return c.body(null, 204);
  });
}
