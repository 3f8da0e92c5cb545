/** /v1/models: fit a trial model to the user's own CSV; list and read models (`pilot-vitals` is built in). */
import { randomBytes } from 'node:crypto';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { and, desc, eq, isNull, or } from 'drizzle-orm';
import { models, type ModelRow } from '../../db/schema.js';
import { fitModel, ModelFitError, parseVitalsCsv, stripRows, type TrialModel } from '../../kinds/trial/model.js';
import { loadPilotModel, PILOT_MODEL_ID } from '../../kinds/trial/pilot.js';
import { idempotentCreate } from '../idempotency.js';
import { ProblemError, problemResponses } from '../middleware/problem.js';
import type { ApiDeps, AppEnv } from '../types.js';

const ModelSchema = z
  .object({
    id: z.string(),
    name: z.string(),
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

const fit = createRoute({
  method: 'post',
  path: '/v1/models',
  tags: ['models'],
  summary: 'Fit a trial model to a CSV (columns SubjectID, TreatmentArm, VisitName, SystolicBP, DiastolicBP, HeartRate, Temperature)',
  request: {
    query: z.object({ groupBy: z.string().default(SUPPORTED_GROUP_BY), name: z.string().min(1).max(64).optional() }),
    body: { content: { 'text/csv': { schema: z.string() } }, required: true },
    headers: z.object({ 'idempotency-key': z.string().optional() }),
  },
  responses: {
    201: { description: 'fitted', content: { 'application/json': { schema: ModelSchema } } },
    200: { description: 'the model this Idempotency-Key already created', content: { 'application/json': { schema: ModelSchema } } },
    ...problemResponses(400, 401, 409, 413, 415),
  },
});

const list = createRoute({
  method: 'get',
  path: '/v1/models',
  tags: ['models'],
  summary: 'Models this key can use',
  responses: { 200: { description: 'models', content: { 'application/json': { schema: z.object({ items: z.array(ModelSchema), nextCursor: z.null() }) } } } },
});

const get = createRoute({
  method: 'get',
  path: '/v1/models/{id}',
  tags: ['models'],
  summary: 'One model, with its per-group means',
  request: { params: z.object({ id: z.string() }) },
  responses: { 200: { description: 'the model', content: { 'application/json': { schema: ModelSchema } } }, ...problemResponses(401, 404) },
});

export function registerModelRoutes(app: OpenAPIHono<AppEnv>, deps: ApiDeps): void {
  const own = (tenantId: string) => or(eq(models.tenantId, tenantId), isNull(models.tenantId));

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
    const out = await idempotentCreate(c, { db: deps.db.db, table: models, tenantId, request }, async (stamp) => {
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
      const id = `model-${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
      const [row] = await deps.db.db
        .insert(models)
        .values({ id, tenantId, name: q.name ?? id, groupBy: ['VisitName', 'TreatmentArm'], params: model, sourceRows: parsed.rows.length, idempotencyKey: stamp.key, requestHash: stamp.hash })
        .returning();
      return row!;
    });
    const row = out.replayed ? out.row : out.created;
    return c.json(modelView(row.id, row.name, row.params as TrialModel, row.createdAt, true), out.replayed ? 200 : 201);
  });

  app.openapi(list, async (c) => {
    const rows: ModelRow[] = await deps.db.db.select().from(models).where(own(c.get('tenant').tenantId)).orderBy(desc(models.createdAt)).limit(500);
    const pilot = await loadPilotModel();
    return c.json({ items: [modelView(PILOT_MODEL_ID, PILOT_MODEL_ID, stripRows(pilot), null), ...rows.map((r) => modelView(r.id, r.name, r.params as TrialModel, r.createdAt))], nextCursor: null }, 200);
  });

  app.openapi(get, async (c) => {
    const { id } = c.req.valid('param');
    if (id === PILOT_MODEL_ID) return c.json(modelView(id, id, await loadPilotModel(), null, true), 200);
    const [row] = await deps.db.db.select().from(models).where(and(eq(models.id, id), own(c.get('tenant').tenantId)));
    if (!row) throw ProblemError.notFound(`no model ${id}`);
    return c.json(modelView(row.id, row.name, row.params as TrialModel, row.createdAt, true), 200);
  });
}
