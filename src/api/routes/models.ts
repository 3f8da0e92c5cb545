/**
 * /v1/models: fit a trial model to the user's own CSV; list and read models (`pilot-vitals` is
 * built in). A model is referenced by its id or its name (unique per tenant) wherever an id is taken.
 */
import { randomBytes } from 'node:crypto';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { and, desc, eq, isNull, or } from 'drizzle-orm';
import { models, type ModelRow } from '../../db/schema.js';
import { fitModel, ModelFitError, parseVitalsCsv, stripRows, type TrialModel } from '../../kinds/trial/model.js';
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
/** A CSV upload larger than this is refused (413) before parsing. */
export const MAX_MODEL_CSV_BYTES = 50 * 1024 * 1024;

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

export function registerModelRoutes(app: OpenAPIHono<AppEnv>, deps: ApiDeps): void {
  const db = deps.db.db;
  const store = createModelStore(deps.db.sql);
  const own = (tenantId: string) => or(eq(models.tenantId, tenantId), isNull(models.tenantId));
  const rowView = (r: ModelRow, detail = false) => modelView(r.id, r.name, r.params as TrialModel, r.createdAt, detail);

  app.openapi(fit, async (c) => {
    const q = c.req.valid('query');
    const tenantId = c.get('tenant').tenantId;
    if (q.groupBy.replace(/\s/g, '') !== SUPPORTED_GROUP_BY) {
      throw ProblemError.badRequest('unsupported groupBy', [{ path: 'groupBy', message: `only ${SUPPORTED_GROUP_BY} is supported` }]);
    }
    const type = c.req.header('Content-Type') ?? '';
    if (!/^text\/csv\b/i.test(type)) throw new ProblemError({ status: 415, detail: 'send the data as text/csv' });
    const text = await c.req.text();
    if (Buffer.byteLength(text) > MAX_MODEL_CSV_BYTES) throw new ProblemError({ status: 413, detail: `at most ${MAX_MODEL_CSV_BYTES} bytes` });

    const request = { groupBy: q.groupBy, name: q.name ?? null, csv: text };
    const create = async (stamp: IdempotencyStamp) => {
      // Before the fit, which is the expensive part; the unique index settles any race. A holder made
      // with this very key is a concurrent twin of this request: the insert's violation replays it.
      if (q.name !== undefined) {
        const [holder] = await db.select({ key: models.idempotencyKey }).from(models).where(and(eq(models.tenantId, tenantId), eq(models.name, q.name)));
        if (holder && (stamp.key === null || holder.key !== stamp.key)) throw nameTaken(q.name);
      }
      const parsed = parseVitalsCsv(text);
      if (parsed.errors.length) {
        throw ProblemError.badRequest(
          `${parsed.errors.length} bad line(s) in the CSV`,
          parsed.errors.slice(0, 100).map((e) => ({ path: `body.line.${e.line}`, message: e.message })),
        );
      }
      let model: TrialModel;
      try {
        model = fitModel(parsed.rows, { keepRows: true });
      } catch (err) {
        if (err instanceof ModelFitError) throw ProblemError.badRequest('the data cannot be fitted', err.errors.map((e) => ({ path: `body.${e.path}`, message: e.message })));
        throw err;
      }
      const id = `${MODEL_ID_PREFIX}${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
      const [row] = await db
        .insert(models)
        .values({ id, tenantId, name: q.name ?? id, groupBy: ['VisitName', 'TreatmentArm'], params: model, sourceRows: parsed.rows.length, idempotencyKey: stamp.key, requestHash: stamp.hash })
        .returning();
      return row!;
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
    type Entry = { builtIn: true; model: TrialModel } | { builtIn: false; row: ModelRow };
    const entries: Entry[] = cursor ? [] : [{ builtIn: true, model: stripRows(await loadPilotModel()) }];
    const after = cursor && 'createdAt' in cursor ? cursor : null;
    const rows = await db
      .select()
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
    const found = await store.find(c.get('tenant').tenantId, id);
    if (!found) throw ProblemError.notFound(`no model ${JSON.stringify(id)} (neither an id nor the name of one of your models)`);
    return c.json(modelView(found.id, found.name, found.model, found.createdAt, true), 200);
  });
}
