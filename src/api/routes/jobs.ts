/** /v1/jobs: create, list, read, pause, resume, cancel, and the progress event stream. */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { jobs } from '../../db/schema.js';
import { JOB_STATUSES } from '../../engine/types.js';
import { idempotentCreate } from '../idempotency.js';
import { ProblemError, problemResponses, validationHook } from '../middleware/problem.js';
import { IdParam } from '../params.js';
import { olderThan, PageSchema, PaginationQuery, decodeCursor, toPage } from '../pagination.js';
import { CONTRACT_KINDS, createJobExamples, createJobSchema, jobSchema, redactSecrets, validatedJobSchema, type CreateJobBody } from '../jobs/schema.js';
import { createJobService, estimateOf, TERMINAL } from '../jobs/service.js';
import { normalizeJob } from '../jobs/validate.js';
import { createPostgresTargets } from '../../destinations/index.js';
import type { ApiDeps, AppEnv } from '../types.js';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
const tags = ['jobs'];

/**
 * The jobs routes for the registered kinds (their specs are part of the documented body). Each
 * route is one createRoute declaration; they share a shape on purpose (one per OpenAPI operation).
 */
function jobRoutes(deps: ApiDeps) {
  const JobSchema = jobSchema(deps.kinds);
  // One example per kind this server runs.
  const jobBody = { content: { 'application/json': { schema: createJobSchema(deps.kinds), examples: createJobExamples(deps.kinds) } }, required: true };
  const createJob = createRoute({
    method: 'post',
    path: '/v1/jobs',
    tags,
    summary: 'Start a job (one workflow)',
    request: {
      body: jobBody,
      headers: z.object({ 'idempotency-key': z.string().optional() }),
    },
    responses: {
      202: {
        ...json(JobSchema, 'started'),
        headers: z.object({ Location: z.string().openapi({ description: 'the new job (its `links.self`)', example: '/v1/jobs/job-m3x0k2ab4q7r' }) }),
      },
      200: json(JobSchema, 'the job this Idempotency-Key already created'),
      ...problemResponses(400, 401, 409, 413, 415, 422, 503),
    },
  });

  const validateJob = createRoute({
    method: 'post',
    path: '/v1/jobs/validate',
    tags,
    summary: 'Check a job body as POST /v1/jobs would, and answer its normalised spec, size and estimate; nothing is started or stored',
    request: { body: jobBody },
    responses: { 200: json(validatedJobSchema(deps.kinds), 'what the job would be'), ...problemResponses(400, 401, 413, 415, 422, 503) },
  });

  const deleteJob = createRoute({
    method: 'delete',
    path: '/v1/jobs/{id}',
    tags,
    summary:
      'Delete a job: a running or paused one is cancelled first (its shards get 10 s to stop, then the workflow is terminated); then its files and records are removed. ' +
      'Tables of a Postgres load it did not complete are dropped; tables it loaded completely stay.',
    request: { params: IdParam },
    responses: { 204: { description: 'deleted' }, ...problemResponses(400, 401, 404) },
  });

  const listJobs = createRoute({
    method: 'get',
    path: '/v1/jobs',
    tags,
    summary: 'Jobs, newest first (last known status)',
    request: {
      query: PaginationQuery.extend({
        // The kinds this server runs (another contract kind is a 422, like a job of it).
        kind: z.enum(deps.kinds.names as [string, ...string[]]).optional(),
        status: z.enum(JOB_STATUSES as [string, ...string[]]).optional(),
      }),
    },
    responses: { 200: json(PageSchema(JobSchema), 'a page of jobs'), ...problemResponses(400, 401, 422) },
  });

  const getJob = createRoute({
    method: 'get',
    path: '/v1/jobs/{id}',
    tags,
    summary: 'A job with live progress',
    request: { params: IdParam },
    responses: { 200: json(JobSchema, 'the job'), ...problemResponses(400, 401, 404) },
  });

  const transition = (action: 'pause' | 'resume' | 'cancel', summary: string) =>
    createRoute({
      method: 'post',
      path: `/v1/jobs/{id}/${action}`,
      tags,
      summary,
      request: { params: IdParam },
      responses: { 202: json(JobSchema, 'accepted'), ...problemResponses(400, 401, 404, 409) },
    });

  const events = createRoute({
    method: 'get',
    path: '/v1/jobs/{id}/events',
    tags,
    summary: 'Server-sent events: `progress` at least once a second while running, then one `status`; numbered (`id:`), a reconnect with `Last-Event-ID` continues the numbering',
    request: { params: IdParam },
    responses: {
      200: {
        description:
          'text/event-stream. `progress` events carry `{ status, ...progress }` (the JobProgress fields), the final `status` event `{ status, progress, result, error }` — both as JSON in `data`',
        content: {
          'text/event-stream': {
            schema: z
              .object({
                event: z.enum(['progress', 'status']),
                id: z.string().regex(/^\d+$/).openapi({ description: 'the event number; send it back as Last-Event-ID to continue' }),
                data: z.string().openapi({ description: 'JSON' }),
              })
              .openapi('JobEvent'),
          },
        },
      },
      ...problemResponses(400, 401, 404),
    },
  });

  return { createJob, validateJob, deleteJob, listJobs, getJob, transition, events };
}

export const SSE_INTERVAL_MS = 500;

/** A kind the contract names but this server does not run is well-formed but not allowed: 422, not 400. */
function unavailableKind(body: unknown, kinds: ApiDeps['kinds']): ProblemError | undefined {
  const kind = (body as { kind?: unknown } | null)?.kind;
  if (typeof kind !== 'string' || kinds.find(kind) || !(CONTRACT_KINDS as readonly string[]).includes(kind)) return undefined;
  const message = `${kind} jobs are not available on this server (it runs: ${kinds.names.join(', ')})`;
  return ProblemError.unprocessable(message, [{ path: 'kind', message }]);
}

export function registerJobRoutes(app: OpenAPIHono<AppEnv>, deps: ApiDeps): void {
  const service = createJobService(deps);
  // URLs only (the API opens a connection to a named target just for the existing-table check).
  const targets = createPostgresTargets({ defaultUrl: deps.config.database.url, defaultSql: deps.db.sql, named: deps.config.postgresTargets });
  const { createJob, validateJob, deleteJob, listJobs, getJob, transition, events } = jobRoutes(deps);
  const keyOptions = { secretKey: deps.config.secretKey };

  // A contract kind this server does not run is a 422 (zod receives the raw body or query as `data`), otherwise the default hook.
  const kindHook = ((result: Parameters<typeof validationHook>[0] & { data?: unknown }) => {
    const refused = result.success ? undefined : unavailableKind(result.data, deps.kinds);
    if (refused) throw refused;
    return validationHook(result);
  }) as never;

  // Before /v1/jobs/{id}/… routes: "validate" is not a job id.
  app.openapi(
    validateJob,
    async (c) => {
      const body = c.req.valid('json') as unknown as CreateJobBody;
      const job = await normalizeJob(body, c.get('tenant'), deps.kinds, deps.db.sql, targets, keyOptions);
      const { input, units } = job;
      return c.json(
        {
          kind: input.kind,
          spec: input.spec,
          output: input.output as unknown as Record<string, unknown>,
          partitioning: input.partitioning as unknown as Record<string, unknown>,
          unit: deps.kinds.get(input.kind).unit,
          estimate: estimateOf(units),
          shards: Math.ceil(units / input.partitioning.shardRows!),
        },
        200,
      );
    },
    kindHook,
  );

  app.openapi(
    createJob,
    async (c) => {
      const tenant = c.get('tenant');
      const body = c.req.valid('json') as unknown as CreateJobBody;
      // The stored request hash never covers a passphrase or key (docs/ENCRYPTION.md).
      const out = await idempotentCreate(c, { db: deps.db.db, table: jobs, tenantId: tenant.tenantId, request: redactSecrets(body) }, async (stamp) =>
        service.create(tenant, await normalizeJob(body, tenant, deps.kinds, deps.db.sql, targets, keyOptions), stamp),
      );
      if (out.replayed) return c.json(await service.view(tenant, out.row.id), 200);
      return c.json(out.created, 202, { Location: out.created.links.self ?? `/v1/jobs/${out.created.id}` });
    },
    kindHook,
  );

  app.openapi(
    listJobs,
    async (c) => {
      const q = c.req.valid('query');
      const cursor = q.cursor ? decodeCursor(q.cursor) : null;
      const rows = await service.list(c.get('tenant'), {
        kind: q.kind,
        status: q.status,
        limit: q.limit,
        cursorCond: olderThan(jobs.createdAt, jobs.id, cursor),
      });
      const page = toPage(rows, q.limit, (r) => ({ createdAt: r.createdAt, id: r.id }), (r) => r);
      return c.json({ ...page, items: await Promise.all(page.items.map(service.listView)) }, 200);
    },
    kindHook,
  );

  app.openapi(getJob, async (c) => c.json(await service.view(c.get('tenant'), c.req.valid('param').id), 200));
  app.openapi(deleteJob, async (c) => {
    await service.remove(c.get('tenant'), c.req.valid('param').id, targets);
    return c.body(null, 204);
  });
  app.openapi(transition('pause', 'Pause: no new shards start; running shards close their part and stop'), async (c) =>
    c.json(await service.pause(c.get('tenant'), c.req.valid('param').id), 202),
  );
  app.openapi(transition('resume', 'Resume a paused job, or start a failed/cancelled one again reusing its completed shards'), async (c) =>
    c.json(await service.resume(c.get('tenant'), c.req.valid('param').id), 202),
  );
  app.openapi(transition('cancel', "Cancel (Temporal's own cancel); no temp files stay behind"), async (c) =>
    c.json(await service.cancel(c.get('tenant'), c.req.valid('param').id), 202),
  );

  app.openapi(events, async (c) => {
    const tenant = c.get('tenant');
    const id = c.req.valid('param').id;
    await service.findRow(tenant, id); // 404 before the stream starts
    // Events are numbered; a reconnect with Last-Event-ID carries on from the next number (each event is a full snapshot).
    const last = Number(c.req.header('Last-Event-ID'));
    let next = Number.isSafeInteger(last) && last >= 0 ? last + 1 : 1;
    return streamSSE(c, async (stream) => {
      let closed = false;
      stream.onAbort(() => {
        closed = true;
      });
      while (!closed) {
        // A fixed cadence: the time a read takes comes out of the interval, not on top of it.
        const tick = Date.now();
        const v = await service.view(tenant, id);
        if (!TERMINAL.includes(v.status)) {
          await stream.writeSSE({ id: String(next++), event: 'progress', data: JSON.stringify({ status: v.status, ...v.progress }) });
          await stream.sleep(Math.max(0, SSE_INTERVAL_MS - (Date.now() - tick)));
        } else {
          await stream.writeSSE({ id: String(next++), event: 'status', data: JSON.stringify({ status: v.status, progress: v.progress, result: v.result, error: v.error }) });
          break;
        }
      }
    }) as any;
  });
}
