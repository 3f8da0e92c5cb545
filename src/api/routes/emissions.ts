/**
 * Emissions: `POST /v1/activities` (one activity, a JSON array, NDJSON or CSV, streamed into
 * Postgres with COPY), `GET|POST /v1/emission-factors` (the factors of a set; load a new set),
 * `GET /v1/emissions/summary` (results summed per type, scope, month or category).
 * The calculation itself is a job of kind `emissions` (src/kinds/emissions).
 */
import { createHash } from 'node:crypto';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ingestActivities, type IngestOutcome } from '../../kinds/emissions/activities.js';
import { ensureDefaultFactorSet, FactorSetError, loadFactorSet, resolveFactorSet } from '../../kinds/emissions/factors.js';
import { csvCells } from '../../kinds/emissions/csv.js';
import { ACTIVITY_TYPES, type FactorRow } from '../../kinds/emissions/reference.js';
import { isUniqueViolation, readIdempotencyKey } from '../idempotency.js';
import { withTemporalDeadline } from '../temporal.js';
import { activitiesIngestedSignal, emissionsCalculatorId, type emissionsCalculatorWorkflow, type IngestedSignal } from '../../workflows/emissions-calculator.js';
import { ProblemError, problemResponses } from '../middleware/problem.js';
import { decodeCursor, PageSchema, PaginationQuery, toPage } from '../pagination.js';
import { NO_NUL, noNul, plainText } from '../params.js';
import type { ApiDeps, AppEnv } from '../types.js';

const RejectedSchema = z.object({ line: z.number().int(), errors: z.array(z.string()) }).openapi('RejectedActivity');
const IngestSchema = z.object({ inserted: z.number().int(), rejected: z.array(RejectedSchema) }).openapi('ActivityIngest');

const ActivityExample = { type: 'air_travel', orgId: 'acme', date: '2025-03-14', origin: 'LHR', destination: 'JFK', cabinClass: 'business', passengers: 1, roundTrip: true };

const ingest = createRoute({
  method: 'post',
  path: '/v1/activities',
  tags: ['emissions'],
  summary: 'Record activities: one JSON object, a JSON array, NDJSON or CSV (a `type` field per row); every invalid line is reported',
  description:
    'A body with any invalid line inserts nothing (422, with every line\'s errors) unless `?partial=true`, which inserts the valid ones. ' +
    'Lines are numbered from 1: array elements, NDJSON lines, CSV lines (the header is line 1). Idempotency-Key is honoured.',
  request: {
    query: z.object({ partial: z.enum(['true', 'false']).optional() }),
    headers: z.object({ 'idempotency-key': z.string().optional() }),
    body: {
      content: {
        'application/json': { schema: z.union([z.record(z.string(), z.unknown()), z.array(z.record(z.string(), z.unknown()))]).openapi({ example: ActivityExample }) },
        'application/x-ndjson': { schema: z.string() },
        'text/csv': { schema: z.string() },
      },
      required: true,
    },
  },
  responses: {
    201: { description: 'inserted (with `partial=true`, the rejected lines are listed too)', content: { 'application/json': { schema: IngestSchema } } },
    200: { description: 'the answer this Idempotency-Key already got', content: { 'application/json': { schema: IngestSchema } } },
    422: { description: 'some line is invalid: nothing was inserted', content: { 'application/json': { schema: IngestSchema } } },
    ...problemResponses(400, 401, 409, 413, 415),
  },
});

const ActivitySchema = z
  .object({
    id: z.number().int(),
    type: z.enum(ACTIVITY_TYPES),
    orgId: z.string(),
    period: z.string(),
    status: z.enum(['pending', 'calculated']),
    kwh: z.number().nullable(),
    country: z.string().nullable(),
    region: z.string().nullable(),
    contractFactor: z.number().nullable(),
    amount: z.number().nullable(),
    currency: z.string().nullable(),
    category: z.string().nullable(),
    date: z.string().nullable(),
    origin: z.string().nullable(),
    destination: z.string().nullable(),
    cabinClass: z.string().nullable(),
    passengers: z.number().int().nullable(),
    roundTrip: z.boolean().nullable(),
    distanceKm: z.number().nullable(),
    createdAt: z.string(),
  })
  .openapi('Activity');

const listActivities = createRoute({
  method: 'get',
  path: '/v1/activities',
  tags: ['emissions'],
  summary: 'Your activities, newest first; `status` is whether the factor set (default: the built-in one) has a result for it',
  request: {
    query: PaginationQuery.extend({
      type: z.enum(ACTIVITY_TYPES).optional(),
      orgId: plainText(200).optional(),
      status: z.enum(['pending', 'calculated']).optional(),
      factorSet: plainText(64).optional(),
    }),
  },
  responses: { 200: { description: 'a page of activities', content: { 'application/json': { schema: PageSchema(ActivitySchema) } } }, ...problemResponses(400, 401, 404) },
});

const ActivityPosition = z.object({ id: z.number().int().min(0) }).strict();

const FactorSchema = z
  .object({
    id: z.number().int(),
    factorSet: z.string(),
    type: z.enum(ACTIVITY_TYPES),
    key: z.string(),
    unit: z.string(),
    kgCo2e: z.number(),
    kgCo2: z.number().nullable(),
    kgCh4: z.number().nullable(),
    kgN2o: z.number().nullable(),
    currency: z.string().nullable(),
    baseYear: z.number().int().nullable(),
    source: z.string(),
    sourceTable: z.string().nullable(),
    year: z.number().int().nullable(),
    region: z.string().nullable(),
    url: z.string().nullable(),
    label: z.string().nullable(),
  })
  .openapi('EmissionFactor');

const listFactors = createRoute({
  method: 'get',
  path: '/v1/emission-factors',
  tags: ['emissions'],
  summary: 'The factors of a set (the built-in default unless `factorSet`), with their sources',
  request: { query: z.object({ type: z.enum(ACTIVITY_TYPES).optional(), factorSet: plainText(64).optional() }) },
  responses: {
    200: { description: 'the factors', content: { 'application/json': { schema: z.object({ factorSet: z.string(), data: z.array(FactorSchema) }) } } },
    ...problemResponses(400, 401, 404),
  },
});

const NewFactorSchema = z.object({
  type: z.enum(ACTIVITY_TYPES),
  key: z.string().min(1).max(200).refine(noNul, NO_NUL),
  unit: z.string().min(1).max(50).refine(noNul, NO_NUL),
  kgCo2e: z.number(),
  kgCo2: z.number().nullable().optional(),
  kgCh4: z.number().nullable().optional(),
  kgN2o: z.number().nullable().optional(),
  currency: z.string().max(8).refine(noNul, NO_NUL).nullable().optional(),
  baseYear: z.number().int().nullable().optional(),
  source: z.string().min(1).max(500).refine(noNul, NO_NUL),
  sourceTable: z.string().max(500).refine(noNul, NO_NUL).nullable().optional(),
  year: z.number().int().nullable().optional(),
  region: z.string().max(100).refine(noNul, NO_NUL).nullable().optional(),
  url: z.string().max(1000).refine(noNul, NO_NUL).nullable().optional(),
  label: z.string().max(500).refine(noNul, NO_NUL).nullable().optional(),
});

const loadFactors = createRoute({
  method: 'post',
  path: '/v1/emission-factors',
  tags: ['emissions'],
  summary: 'Load a new factor set (a new version; a set is never changed once loaded)',
  request: {
    body: {
      content: { 'application/json': { schema: z.object({ version: z.string(), description: z.string().max(1000).refine(noNul, NO_NUL).optional(), factors: z.array(NewFactorSchema).min(1) }).openapi('NewFactorSet') } },
      required: true,
    },
  },
  responses: {
    201: { description: 'loaded', content: { 'application/json': { schema: z.object({ version: z.string(), factors: z.number().int() }) } } },
    ...problemResponses(400, 401, 409, 413, 422),
  },
});

const GROUP_BY = ['type', 'scope', 'month', 'category'] as const;
const SummarySchema = z
  .object({
    factorSet: z.string(),
    totalTonnesCo2e: z.number(),
    groups: z.array(z.object({ key: z.string(), tonnesCo2e: z.number(), activities: z.number().int() })),
  })
  .openapi('EmissionsSummary');

const summary = createRoute({
  method: 'get',
  path: '/v1/emissions/summary',
  tags: ['emissions'],
  summary: 'Calculated emissions summed per type, scope, month or GHG Protocol category (location-based for electricity)',
  request: {
    query: z.object({
      orgId: plainText(200).optional(),
      groupBy: z.enum(GROUP_BY).default('type'),
      factorSet: plainText(64).optional(),
    }),
  },
  responses: { 200: { description: 'the summary', content: { 'application/json': { schema: SummarySchema } } }, ...problemResponses(400, 401, 404) },
});

const exportResults = createRoute({
  method: 'get',
  path: '/v1/emissions/results',
  tags: ['emissions'],
  summary: 'Every calculated result of a factor set (the default unless `factorSet`) as CSV, streamed, in activity order, with its provenance',
  request: { query: z.object({ orgId: plainText(200).optional(), type: z.enum(ACTIVITY_TYPES).optional(), factorSet: plainText(64).optional() }) },
  responses: { 200: { description: 'the results (text/csv, a header line)', content: { 'text/csv': { schema: z.string() } } }, ...problemResponses(400, 401, 404) },
});

/** The export's columns, in order (docs/EMISSIONS.md). */
export const RESULT_CSV_COLUMNS = [
  'activity_id', 'org_id', 'type', 'period', 'scope', 'ghg_category', 'kg_co2e', 'kg_co2', 'kg_ch4', 'kg_n2o', 'kg_co2e_market',
  'factor_set', 'factor_id', 'factor_key', 'factor_source', 'match_level', 'distance_km', 'distance_method', 'uplift', 'rf_multiplier',
  'fx_rate', 'price_ratio', 'price_index_month', 'run_id', 'calculated_at',
] as const;

type Item = { line: number; record: unknown; fromCsv?: boolean } | { line: number; error: string };

/**
 * The body as it arrives, fed to a hash too, in blocks of whole lines (one per body chunk, the last
 * one possibly without its newline): the pipeline (body → records → COPY) takes a few async steps
 * per chunk, not per line, and holds one string per chunk, not an object per line.
 */
async function* bodyBlocks(c: Context, hash: ReturnType<typeof createHash>): AsyncGenerator<string> {
  const body = c.req.raw.body;
  if (!body) return;
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    rest += decoder.decode(chunk, { stream: true });
    const cut = rest.lastIndexOf('\n');
    if (cut < 0) continue;
    yield rest.slice(0, cut + 1);
    rest = rest.slice(cut + 1);
  }
  rest += decoder.decode();
  if (rest) yield rest;
}

/** The lines of a block (a trailing CR dropped) with their numbers, counted from 1 over the whole body in `at`. */
function* blockLines(block: string, at: { n: number }): Generator<[number, string]> {
  let from = 0;
  while (from < block.length) {
    let i = block.indexOf('\n', from);
    if (i < 0) i = block.length;
    const end = i > from && block.charCodeAt(i - 1) === 13 ? i - 1 : i;
    yield [++at.n, block.slice(from, end)];
    from = i + 1;
  }
}

/**
 * Records of a block, parsed one at a time as the ingest takes them (a lazy iterable, not an array
 * of parsed records: those would live across the COPY's awaits, get promoted, and grow the heap).
 */
function* ndjsonBatch(block: string, at: { n: number }): Generator<Item> {
  for (const [n, line] of blockLines(block, at)) {
    if (!line.trim()) continue;
    try {
      yield { line: n, record: JSON.parse(line) };
    } catch {
      yield { line: n, error: 'not a JSON object' };
    }
  }
}

async function* ndjsonItems(src: AsyncIterable<string>): AsyncGenerator<Iterable<Item>> {
  const at = { n: 0 };
  for await (const block of src) yield ndjsonBatch(block, at);
}

function* csvBatch(block: string, at: { n: number }, state: { header: string[] | null }): Generator<Item> {
  for (const [n, line] of blockLines(block, at)) {
    if (!line.trim()) continue;
    const cells = csvCells(line);
    if (!state.header) {
      state.header = cells ?? [];
      continue;
    }
    const header = state.header;
    if (!cells) yield { line: n, error: 'unbalanced quotes' };
    else if (cells.length !== header.length) yield { line: n, error: `${cells.length} cells, the header has ${header.length}` };
    else yield { line: n, record: Object.fromEntries(header.map((h, i) => [h, cells[i]])), fromCsv: true };
  }
}

async function* csvItems(src: AsyncIterable<string>): AsyncGenerator<Iterable<Item>> {
  const at = { n: 0 };
  const state = { header: null as string[] | null };
  for await (const block of src) yield csvBatch(block, at, state);
}

/** A JSON body (already parsed by the route's validator): one object, or an array of them. */
async function* jsonItems(value: unknown, hash: ReturnType<typeof createHash>): AsyncGenerator<Iterable<Item>> {
  hash.update(JSON.stringify(value));
  const list = Array.isArray(value) ? value : [value];
  yield list.map((record, i) => ({ line: i + 1, record }));
}

export function registerEmissionRoutes(app: OpenAPIHono<AppEnv>, deps: ApiDeps): void {
  const sql = deps.db.sql;

  /**
   * Event-driven mode (SHARDFLOW_EMISSIONS_AUTO, docs/EMISSIONS.md): the tenant's calculator workflow
   * is signalled, and started when it is not running. The ingest is committed already: a failure
   * here is logged, not answered (the activities stay pending for the next ingest's signal or a job).
   */
  async function signalCalculator(tenantId: string, fromId: number, log: { warn: (o: object, m: string) => void }): Promise<void> {
    if (!deps.config.emissionsAuto.enabled) return;
    const client = deps.temporal.client;
    try {
      await withTemporalDeadline(client, () =>
        client.workflow.signalWithStart<typeof emissionsCalculatorWorkflow, [IngestedSignal]>('emissionsCalculatorWorkflow', {
          taskQueue: deps.config.temporal.taskQueue,
          workflowId: emissionsCalculatorId(tenantId),
          args: [{ tenantId, maxIterations: deps.config.emissionsAuto.iterations }],
          signal: activitiesIngestedSignal,
          signalArgs: [{ fromId }],
          staticSummary: `emissions calculator of tenant ${tenantId}`,
        }),
      );
    } catch (err) {
      log.warn({ err: String((err as Error)?.message ?? err), tenantId }, 'could not signal the emissions calculator; the activities stay pending');
    }
  }

  app.openapi(ingest, async (c) => {
    const tenantId = c.get('tenant').tenantId;
    const partial = c.req.valid('query').partial === 'true';
    const type = (c.req.header('Content-Type') ?? '').toLowerCase();
    const kind = /^application\/x-ndjson\b/.test(type) ? 'ndjson' : /^text\/csv\b/.test(type) ? 'csv' : /^application\/json\b/.test(type) ? 'json' : null;
    if (!kind) {
      throw new ProblemError({
        status: 415,
        detail: 'send activities as application/json, application/x-ndjson or text/csv',
        errors: [{ path: 'Content-Type', message: 'must be application/json, application/x-ndjson or text/csv' }],
      });
    }
    const key = readIdempotencyKey(c);
    const hash = createHash('sha256').update(`${kind}\n${partial}\n`);
    const replay = async (): Promise<Response | null> => {
      const [row] = await sql<{ request_hash: string; response: IngestOutcome }[]>`
        select request_hash, response from activity_ingests where tenant_id = ${tenantId} and idempotency_key = ${key}`;
      if (!row) return null;
      // The body's hash, to tell a replay from another request.
      if (kind === 'json') hash.update(JSON.stringify(c.req.valid('json')));
      else for await (const _ of bodyBlocks(c, hash));
      if (row.request_hash !== hash.digest('hex')) {
        const detail = `Idempotency-Key ${JSON.stringify(key)} was already used with a different request`;
        throw new ProblemError({ status: 409, detail, errors: [{ path: 'Idempotency-Key', message: detail }] });
      }
      return c.json(row.response, 200);
    };
    if (key !== null) {
      const replayed = await replay();
      if (replayed) return replayed as any;
    }
    const items = kind === 'json' ? jsonItems(c.req.valid('json'), hash) : kind === 'ndjson' ? ndjsonItems(bodyBlocks(c, hash)) : csvItems(bodyBlocks(c, hash));
    let out;
    try {
      out = await ingestActivities(sql, tenantId, items, {
        partial,
        after: async (tx, o) => {
          if (key === null) return;
          await tx`insert into activity_ingests (tenant_id, idempotency_key, request_hash, response)
            values (${tenantId}, ${key}, ${hash.copy().digest('hex')}, ${JSON.stringify(o)}::text::jsonb)`;
        },
      });
    } catch (err) {
      if (key !== null && isUniqueViolation(err, 'activity_ingests_tenant_idempotency_key_uq')) {
        // A concurrent twin committed first: its answer (the body is read already, so compare the hashes).
        const [row] = await sql<{ request_hash: string; response: IngestOutcome }[]>`
          select request_hash, response from activity_ingests where tenant_id = ${tenantId} and idempotency_key = ${key}`;
        if (row && row.request_hash === hash.digest('hex')) return c.json(row.response, 200);
        throw new ProblemError({ status: 409, detail: `Idempotency-Key ${JSON.stringify(key)} was already used with a different request` });
      }
      throw err;
    }
    const body = { inserted: out.inserted, rejected: out.rejected };
    if (out.committed && out.inserted > 0) await signalCalculator(tenantId, out.idsAbove, c.get('log') ?? deps.logger);
    return c.json(body, out.committed ? 201 : 422);
  });

  app.openapi(listActivities, async (c) => {
    const q = c.req.valid('query');
    const tenantId = c.get('tenant').tenantId;
    const set = await resolveFactorSet(sql, tenantId, q.factorSet);
    if (!set) throw ProblemError.notFound(`no factor set ${q.factorSet}`);
    const after = q.cursor ? decodeCursor(q.cursor, ActivityPosition) : null;
    const done = sql`exists (select 1 from emission_results r where r.activity_id = a.id and r.factor_set = ${set})`;
    const rows = await sql`
      select a.id::float8 as id, a.type, a.org_id as "orgId", a.period, ${done} as calculated, a.kwh, a.country, a.region,
        a.contract_factor as "contractFactor", a.amount, a.currency, a.category, a.activity_date::text as date, a.origin, a.destination,
        a.cabin_class as "cabinClass", a.passengers, a.round_trip as "roundTrip", a.distance_km as "distanceKm", a.created_at as "createdAt"
      from activities a
      where a.tenant_id = ${tenantId}
        ${q.type ? sql`and a.type = ${q.type}` : sql``}
        ${q.orgId !== undefined ? sql`and a.org_id = ${q.orgId}` : sql``}
        ${q.status === 'calculated' ? sql`and ${done}` : q.status === 'pending' ? sql`and not ${done}` : sql``}
        ${after ? sql`and a.id < ${after.id}` : sql``}
      order by a.id desc limit ${q.limit + 1}`;
    const page = toPage(rows, q.limit, (r) => ({ id: r.id as number }), (r) => {
      const { calculated, createdAt, ...rest } = r as Record<string, unknown>;
      return { ...rest, status: calculated ? 'calculated' : 'pending', createdAt: new Date(createdAt as string | Date).toISOString() } as unknown as z.infer<typeof ActivitySchema>;
    });
    return c.json(page, 200);
  });

  app.openapi(exportResults, async (c) => {
    const q = c.req.valid('query');
    const tenantId = c.get('tenant').tenantId;
    const set = await resolveFactorSet(sql, tenantId, q.factorSet);
    if (!set) throw ProblemError.notFound(`no factor set ${q.factorSet}`);
    // COPY … TO STDOUT: Postgres writes the CSV, streamed through; the tenant, set and filters are literals (quoted by Postgres).
    const lit = async (v: string) => ((await sql<{ q: string }[]>`select quote_literal(${v}::text) as q`)[0]!.q);
    const where = [`r.tenant_id = ${await lit(tenantId)}`, `r.factor_set = ${await lit(set)}`];
    if (q.orgId !== undefined) where.push(`r.org_id = ${await lit(q.orgId)}`);
    if (q.type) where.push(`r.type = ${await lit(q.type)}`);
    const query = `copy (select r.activity_id, r.org_id, r.type, r.period, r.scope, r.ghg_category, r.kg_co2e, r.kg_co2, r.kg_ch4, r.kg_n2o,
        r.kg_co2e_market, r.factor_set, r.factor_id, f.key, f.source, r.match_level, r.distance_km, r.distance_method, r.uplift,
        r.rf_multiplier, r.fx_rate, r.price_ratio, r.price_index_month, r.run_id, r.calculated_at
      from emission_results r join emission_factors f on f.id = r.factor_id
      where ${where.join(' and ')} order by r.activity_id) to stdout with (format csv)`;
    const readable = await sql.unsafe(query).readable();
    const header = new TextEncoder().encode(RESULT_CSV_COLUMNS.join(',') + '\n');
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(header);
        readable.on('data', (chunk: Buffer) => controller.enqueue(new Uint8Array(chunk)));
        readable.on('end', () => controller.close());
        readable.on('error', (err) => controller.error(err));
      },
      cancel() {
        readable.destroy();
      },
    });
    return new Response(stream, { status: 200, headers: { 'Content-Type': 'text/csv; charset=utf-8' } }) as any;
  });

  app.openapi(listFactors, async (c) => {
    const q = c.req.valid('query');
    const set = await resolveFactorSet(sql, c.get('tenant').tenantId, q.factorSet);
    if (!set) throw ProblemError.notFound(`no factor set ${q.factorSet}`);
    const rows = await sql`
      select id::int as id, factor_set as "factorSet", type, key, unit, kg_co2e as "kgCo2e", kg_co2 as "kgCo2", kg_ch4 as "kgCh4", kg_n2o as "kgN2o",
        currency, base_year as "baseYear", source, source_table as "sourceTable", year, region, url, label
      from emission_factors where factor_set = ${set} ${q.type ? sql`and type = ${q.type}` : sql``}
      order by type, key`;
    return c.json({ factorSet: set, data: rows as unknown as z.infer<typeof FactorSchema>[] }, 200);
  });

  app.openapi(loadFactors, async (c) => {
    const body = c.req.valid('json');
    try {
      const out = await loadFactorSet(sql, { version: body.version, description: body.description, factors: body.factors as FactorRow[] }, c.get('tenant').tenantId);
      return c.json(out, 201);
    } catch (err) {
      if (err instanceof FactorSetError) throw new ProblemError({ status: err.status, detail: err.message, errors: err.errors });
      throw err;
    }
  });

  app.openapi(summary, async (c) => {
    const q = c.req.valid('query');
    const tenantId = c.get('tenant').tenantId;
    await ensureDefaultFactorSet(sql);
    const set = await resolveFactorSet(sql, tenantId, q.factorSet);
    if (!set) throw ProblemError.notFound(`no factor set ${q.factorSet}`);
    const col = { type: sql`type`, scope: sql`scope`, month: sql`period`, category: sql`ghg_category` }[q.groupBy];
    const rows = await sql<{ key: string; kg: number; n: number }[]>`
      select ${col} as key, sum(kg_co2e)::float8 as kg, count(*)::int as n from emission_results
      where tenant_id = ${tenantId} and factor_set = ${set} ${q.orgId !== undefined ? sql`and org_id = ${q.orgId}` : sql``}
      group by 1 order by 1`;
    const t = (kg: number) => Math.round((kg / 1000) * 1e9) / 1e9;
    const total = rows.reduce((s, r) => s + r.kg, 0);
    return c.json({ factorSet: set, totalTonnesCo2e: t(total), groups: rows.map((r) => ({ key: r.key, tonnesCo2e: t(r.kg), activities: r.n })) }, 200);
  });
}
