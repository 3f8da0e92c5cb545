/**
 * /v1/models: fit a trial model to the user's own CSV; list and read models (`pilot-vitals` is
 * built in). A model is referenced by its id or its name (unique per tenant) wherever an id is taken.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { and, desc, eq, isNull, or, sql as dsql } from 'drizzle-orm';
import { models, type ModelRow } from '../../db/schema.js';
import { fitCsvOffThread } from '../../kinds/trial/fit.js';
import { stripRows, type TrialModel } from '../../kinds/trial/model.js';
import { loadPilotModel, PILOT_MODEL_ID } from '../../kinds/trial/pilot.js';
import { createModelStore, modelNameProblem, MODEL_ID_PREFIX } from '../../kinds/trial/models.js';
import { idempotentCreate, isUniqueViolation, type IdempotencyStamp } from '../idempotency.js';
import { ProblemError, problemResponses } from '../middleware/problem.js';
import { decodeCursor, KeysetPosition, type CursorValue, olderThan, PageSchema, PaginationQuery, toPage } from '../pagination.js';
import type { ApiDeps, AppEnv } from '../types.js';

const ModelSchema = z
  .object({
    id: z.string().openapi({ example: 'model-mi3x0k2a1b2c3d4' }),
    name: z.string().openapi({ example: 'my-trial' }),
    builtIn: z.boolean(),
    groupBy: z.array(z.string()),
    visits: z.array(z.string()),
    arms: z.array(z.string()),
    rows: z.number(),
    subjects: z.number(),
    createdAt: z.string().nullable(),
    groups: z.array(z.object({ visit: z.string(), arm: z.string(), n: z.number(), mean: z.array(z.number()) })).optional(),
  })
  .openapi('Model');

const SUPPORTED_GROUP_BY = 'VisitName,TreatmentArm';

function modelView(id: string, name: string, m: TrialModel, createdAt: Date | null, detail = false) {
  return {
    id,
    name,
    builtIn: id === PILOT_MODEL_ID,
    groupBy: ['VisitName', 'TreatmentArm'],
    visits: m.visits,
    arms: m.arms,
    rows: m.nRows,
    subjects: m.nSubjects,
    createdAt: createdAt ? createdAt.toISOString() : null,
    ...(detail
      ? { groups: m.groups.map((g, i) => ({ visit: m.visits[Math.floor(i / m.arms.length)]!, arm: m.arms[i % m.arms.length]!, n: (g as any).n, mean: (g as any).mean })) }
      : {}),
  };
}

const ModelName = z
  .string()
  .superRefine((name, ctx) => {
    const problem = modelNameProblem(name);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .openapi({ description: '1–64 characters, no control characters, unique per tenant; not `model-…` nor `pilot-vitals`', example: 'my-trial' });

const ModelRef = z.object({
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, description: 'a model id, or the name of one of your models', example: 'my-trial' }),
});

/** The list's order: the built-in model first, then the tenant's newest first. */
const ModelPosition = z.union([KeysetPosition, z.object({ builtIn: z.literal(PILOT_MODEL_ID) }).strict()]);

const fit = createRoute({
  method: 'post',
  path: '/v1/models',
  tags: ['models'],
  summary: 'Fit a trial model to a CSV (columns SubjectID, TreatmentArm, VisitName, SystolicBP, DiastolicBP, HeartRate, Temperature)',
  request: {
    query: z.object({ groupBy: z.string().default(SUPPORTED_GROUP_BY), name: ModelName.optional() }),
    body: { content: { 'text/csv': { schema: z.string() } }, required: true },
    headers: z.object({ 'idempotency-key': z.string().optional() }),
  },
  responses: {
    201: { description: 'fitted', content: { 'application/json': { schema: ModelSchema } } },
    200: { description: 'the model this Idempotency-Key already created', content: { 'application/json': { schema: ModelSchema } } },
    ...problemResponses(400, 401, 409, 413, 415),
  },
});

// One createRoute declaration per OpenAPI operation; their shape repeats on purpose.
const list = createRoute({
  method: 'get',
  path: '/v1/models',
  tags: ['models'],
  summary: 'Models this key can use: pilot-vitals first, then your own, newest first',
  request: { query: PaginationQuery },
  responses: { 200: { description: 'a page of models', content: { 'application/json': { schema: PageSchema(ModelSchema) } } }, ...problemResponses(400, 401) },
});

const get = createRoute({
  method: 'get',
  path: '/v1/models/{id}',
  tags: ['models'],
  summary: 'One model (by id or name), with its per-group means',
  request: { params: ModelRef },
  responses: { 200: { description: 'the model', content: { 'application/json': { schema: ModelSchema } } }, ...problemResponses(401, 404) },
});

const NAME_INDEX = 'models_tenant_name_uq';

const nameTaken = (name: string) =>
  new ProblemError({ status: 409, detail: `you already have a model named ${JSON.stringify(name)}`, errors: [{ path: 'name', message: 'already taken by another of your models' }] });

/**
 * What the list and the detail show of a stored model, cut out in Postgres: never the bootstrap
 * rows (as large as the CSV the model was fitted to), so a list stays small and fast.
 */
const SUMMARY = dsql<TrialModel>`jsonb_build_object('visits', ${models.params}->'visits', 'arms', ${models.params}->'arms',
  'nRows', ${models.params}->'nRows', 'nSubjects', ${models.params}->'nSubjects')`;
const DETAIL = dsql<TrialModel>`jsonb_build_object('visits', ${models.params}->'visits', 'arms', ${models.params}->'arms',
  'nRows', ${models.params}->'nRows', 'nSubjects', ${models.params}->'nSubjects',
  'groups', (select coalesce(jsonb_agg(g - 'rows' - 'donors' order by i), '[]'::jsonb) from jsonb_array_elements(${models.params}->'groups') with ordinality as e(g, i)))`;

export function registerModelRoutes(app: OpenAPIHono<AppEnv>, deps: ApiDeps): void {
  const db = deps.db.db;
  const store = createModelStore(deps.db.sql);
  const own = (tenantId: string) => or(eq(models.tenantId, tenantId), isNull(models.tenantId));
  const rowView = (r: Pick<ModelRow, 'id' | 'name' | 'createdAt' | 'params'>, detail = false) => modelView(r.id, r.name, r.params as TrialModel, r.createdAt, detail);

  app.openapi(fit, async (c) => {
    const q = c.req.valid('query');
    const tenantId = c.get('tenant').tenantId;
    if (q.groupBy.replace(/\s/g, '') !== SUPPORTED_GROUP_BY) {
      throw ProblemError.badRequest('unsupported groupBy', [{ path: 'groupBy', message: `only ${SUPPORTED_GROUP_BY} is supported` }]);
    }
    const type = c.req.header('Content-Type') ?? '';
    if (!/^text\/csv\b/i.test(type)) throw new ProblemError({ status: 415, detail: 'send the data as text/csv' });
    // The body limit (middleware/body-limit.ts) has already refused a CSV over the limit while it arrived.
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    const csvHash = createHash('sha256').update(bytes).digest('hex');
    const request = { groupBy: q.groupBy, name: q.name ?? null, csv: csvHash };
    const create = async (stamp: IdempotencyStamp) => {
      // Before the fit, which is the expensive part; the unique index settles any race. A holder made
      // with this very key is a concurrent twin of this request: the insert's violation replays it.
      if (q.name !== undefined) {
        const [holder] = await db.select({ key: models.idempotencyKey }).from(models).where(and(eq(models.tenantId, tenantId), eq(models.name, q.name)));
        if (holder && (stamp.key === null || holder.key !== stamp.key)) throw nameTaken(q.name);
      }
      // Parsing and fitting take seconds for a large CSV: on a thread of their own, off the event loop.
      const fit = await fitCsvOffThread(bytes);
      if (fit.kind === 'csv') {
        throw ProblemError.badRequest(`${fit.count} bad line(s) in the CSV`, fit.errors.map((e) => ({ path: `body.line.${e.line}`, message: e.message })));
      }
      if (fit.kind === 'fit') throw ProblemError.badRequest('the data cannot be fitted', fit.errors.map((e) => ({ path: `body.${e.path}`, message: e.message })));
      if (fit.kind === 'error') throw new Error(fit.message);
      const id = `${MODEL_ID_PREFIX}${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
      // The model goes in as the thread's JSON text and is not read back: a fitted model with its
      // bootstrap rows is as large as the CSV, and parsing it here would block the loop again.
      const [row] = await db
        .insert(models)
        .values({
          id,
          tenantId,
          name: q.name ?? id,
          groupBy: ['VisitName', 'TreatmentArm'],
          params: dsql`${fit.json}::jsonb`,
          sourceRows: fit.sourceRows,
          idempotencyKey: stamp.key,
          requestHash: stamp.hash,
        })
        .returning({ id: models.id, name: models.name, createdAt: models.createdAt });
      return { ...row!, params: fit.summary } as unknown as ModelRow;
    };
    try {
      const out = await idempotentCreate(c, { db, table: models, tenantId, request }, create);
      if (out.replayed) return c.json(rowView(out.row, true), 200);
      return c.json(rowView(out.created, true), 201);
    } catch (err) {
      // Not a same-key twin (idempotentCreate answers those): another request took the name first.
      if (q.name !== undefined && isUniqueViolation(err, NAME_INDEX)) throw nameTaken(q.name);
      throw err;
    }
  });

  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    const tenantId = c.get('tenant').tenantId;
    const cursor = q.cursor ? decodeCursor(q.cursor, ModelPosition) : null;
    type Entry = { builtIn: true; model: TrialModel } | { builtIn: false; row: Pick<ModelRow, 'id' | 'name' | 'createdAt' | 'params'> };
    const entries: Entry[] = cursor ? [] : [{ builtIn: true, model: stripRows(await loadPilotModel()) }];
    const after = cursor && 'createdAt' in cursor ? cursor : null;
    const rows = await db
      .select({ id: models.id, name: models.name, createdAt: models.createdAt, params: SUMMARY })
      .from(models)
      .where(and(own(tenantId), olderThan(models.createdAt, models.id, after)))
      .orderBy(desc(models.createdAt), desc(models.id))
      .limit(q.limit + 1 - entries.length);
    entries.push(...rows.map((row): Entry => ({ builtIn: false, row })));
    const page = toPage(
      entries,
      q.limit,
      (e): Record<string, CursorValue> => (e.builtIn ? { builtIn: PILOT_MODEL_ID } : { createdAt: e.row.createdAt, id: e.row.id }),
      (e) => (e.builtIn ? modelView(PILOT_MODEL_ID, PILOT_MODEL_ID, e.model, null) : rowView(e.row)),
    );
    return c.json(page, 200);
  });

  app.openapi(get, async (c) => {
    const { id } = c.req.valid('param');
    const tenantId = c.get('tenant').tenantId;
    const missing = () => ProblemError.notFound(`no model ${JSON.stringify(id)} (neither an id nor the name of one of your models)`);
    if (id === PILOT_MODEL_ID) {
      const found = (await store.find(tenantId, id))!;
      return c.json(modelView(found.id, found.name, found.model, found.createdAt, true), 200);
    }
    if (id.length > 255 || /\p{Cc}/u.test(id)) throw missing();
    const [row] = await db
      .select({ id: models.id, name: models.name, createdAt: models.createdAt, params: DETAIL })
      .from(models)
      .where(or(and(eq(models.id, id), own(tenantId)), and(eq(models.tenantId, tenantId), eq(models.name, id))))
      .orderBy(dsql`(${models.id} = ${id}) desc`)
      .limit(1);
    if (!row) throw missing();
    return c.json(rowView(row, true), 200);
  });
}
