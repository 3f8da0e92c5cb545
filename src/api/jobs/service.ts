/**
 * Jobs as the API sees them: a row in Postgres (tenant, spec, last known status) and a
 * workflow in Temporal (the truth while it runs). The API talks to these two and nothing else.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { WorkflowNotFoundError, type WorkflowExecutionDescription } from '@temporalio/client';
import { defaultPayloadConverter, defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { and, desc, eq, inArray, sql as dsql } from 'drizzle-orm';
import { jobs, type JobRow } from '../../db/schema.js';
import { jobWorkflow, pauseSignal, progressQuery, resumeSignal } from '../../workflows/job.js';
import { SEARCH_ATTRIBUTES, type JobInput, type JobProgress, type JobResultSummary, type JobStatus, type ShardCheckpoint } from '../../engine/types.js';
import { ProblemError } from '../middleware/problem.js';
import type { ApiDeps, Tenant } from '../types.js';
import type { JobView } from './schema.js';
import type { NormalizedJob } from './validate.js';

const kindKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.kind, SearchAttributeType.KEYWORD);
const tenantKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.tenant, SearchAttributeType.KEYWORD);
const rowsTotalKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.rowsTotal, SearchAttributeType.INT);
const rowsDoneKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.rowsDone, SearchAttributeType.INT);

/** A rough planning figure for the estimate field; benchmarks give the real ones. */
const ESTIMATED_ROWS_PER_SECOND = 2_000_000;
const TERMINAL: JobStatus[] = ['completed', 'failed', 'cancelled'];
/** How long a GET waits for the workflow's `progress` query before answering from Postgres. */
const PROGRESS_QUERY_TIMEOUT_MS = 2_000;

export function newJobId(): string {
  return `job-${Date.now().toString(36)}${randomBytes(5).toString('hex')}`;
}

export function jobLinks(id: string): Record<string, string> {
  const self = `/v1/jobs/${id}`;
  return { self, events: `${self}/events`, files: `${self}/files`, pause: `${self}/pause`, resume: `${self}/resume`, cancel: `${self}/cancel` };
}

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);

export function rowView(row: JobRow): JobView {
  const result = row.result as JobResultSummary | null;
  return {
    id: row.id,
    kind: row.kind as JobView['kind'],
    status: row.status as JobStatus,
    createdAt: iso(row.createdAt)!,
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
    spec: row.spec as Record<string, unknown>,
    output: row.output as Record<string, unknown>,
    partitioning: row.partitioning as Record<string, unknown>,
    result: result ? { rows: result.rows, manifest: `/v1/jobs/${row.id}/files/manifest.json`, digest: result.digest, files: [] } : null,
    error: (row.error as JobView['error']) ?? null,
    links: jobLinks(row.id),
  };
}

/** The job status a workflow execution status stands for (a job that continued as new still runs). */
function statusOf(name: WorkflowExecutionDescription['status']['name']): JobStatus {
  switch (name) {
    case 'RUNNING':
    case 'CONTINUED_AS_NEW':
      return 'running';
    case 'COMPLETED':
      return 'completed';
    case 'CANCELLED':
      return 'cancelled';
    default:
      return 'failed';
  }
}

export function createJobService(deps: ApiDeps) {
  const { db, temporal, config } = deps;
  const client = temporal.client;

  async function findRow(tenant: Tenant, id: string): Promise<JobRow> {
    const [row] = await db.db.select().from(jobs).where(and(eq(jobs.id, id), eq(jobs.tenantId, tenant.tenantId)));
    if (!row) throw ProblemError.notFound(`no job ${id}`);
    return row;
  }

  async function startWorkflow(input: JobInput, rows: number): Promise<void> {
    await client.workflow.start(jobWorkflow, {
      taskQueue: config.temporal.taskQueue,
      workflowId: input.jobId,
      args: [input],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      typedSearchAttributes: [
        { key: kindKey, value: input.kind },
        { key: tenantKey, value: input.tenantId },
        { key: rowsTotalKey, value: rows },
        { key: rowsDoneKey, value: 0 },
      ],
    });
  }

  async function create(tenant: Tenant, job: NormalizedJob, idem: { key: string | null; hash: string }): Promise<JobView> {
    const id = newJobId();
    const input: JobInput = { jobId: id, ...job.input };
    // The quota check and the insert are one step per tenant: two concurrent POSTs cannot both pass.
    const row = await db.db.transaction(async (tx) => {
      if (tenant.maxConcurrentJobs !== null) {
        await tx.execute(dsql`select pg_advisory_xact_lock(hashtext(${'jobs:' + tenant.tenantId}))`);
        const [{ n }] = await tx
          .select({ n: dsql<number>`count(*)::int` })
          .from(jobs)
          .where(and(eq(jobs.tenantId, tenant.tenantId), inArray(jobs.status, ['running', 'paused'])));
        if (n! >= tenant.maxConcurrentJobs) {
          throw ProblemError.unprocessable(`this API key allows ${tenant.maxConcurrentJobs} concurrent jobs; ${n} are running or paused`);
        }
      }
      const [inserted] = await tx
        .insert(jobs)
        .values({
          id,
          tenantId: tenant.tenantId,
          kind: input.kind,
          status: 'running',
          spec: input.spec,
          output: input.output,
          partitioning: input.partitioning,
          rowsTotal: job.rows,
          idempotencyKey: idem.key,
          requestHash: idem.hash,
          startedAt: new Date(),
        })
        .returning();
      return inserted!;
    });
    try {
      await startWorkflow(input, job.rows);
    } catch (err) {
      // Nothing half-made stays behind: no workflow, no row.
      await db.db.delete(jobs).where(eq(jobs.id, id));
      throw new ProblemError({ status: 503, detail: `Temporal did not accept the job: ${(err as Error).message}` });
    }
    return { ...rowView(row!), estimate: { rows: job.rows, seconds: Math.round((job.rows / ESTIMATED_ROWS_PER_SECOND) * 10) / 10 } };
  }

  async function describe(id: string): Promise<WorkflowExecutionDescription | undefined> {
    try {
      return await client.workflow.getHandle(id).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  /** Rows inside running shards, from their last heartbeats. */
  function runningRows(d: WorkflowExecutionDescription, running: number[]): number {
    let rows = 0;
    for (const a of d.raw.pendingActivities ?? []) {
      const payload = a.heartbeatDetails?.payloads?.[0];
      if (!payload) continue;
      const cp = defaultPayloadConverter.fromPayload<ShardCheckpoint>(payload as any);
      if (cp && running.includes(cp.shardIndex)) rows += cp.rowsWritten;
    }
    return rows;
  }

  /** progress.done never goes backwards between two reads: a high-water mark kept in Postgres. */
  async function highWater(id: string, done: number): Promise<number> {
    const [r] = await db.sql<{ rows_done: string }[]>`
      update jobs set rows_done = greatest(coalesce(rows_done, 0), ${done}) where id = ${id} returning rows_done`;
    return Number(r?.rows_done ?? done);
  }

  async function readManifestFiles(id: string) {
    try {
      const manifest = JSON.parse(await readFile(path.join(config.dataDir, 'jobs', id, 'manifest.json'), 'utf8'));
      return (manifest.tables as Array<{ files: JobViewFile[] }>).flatMap((t) => t.files);
    } catch {
      return [];
    }
  }

  async function view(tenant: Tenant, id: string): Promise<JobView> {
    const row = await findRow(tenant, id);
    const base = rowView(row);
    // The query comes before the describe: a shard that completes in between is then missed for one
    // read (and the high-water mark holds), never counted twice. A query needs a worker; with none
    // polling it would block until Temporal's own timeout, so it is bounded. A completed job needs none
    // (its result records the shards).
    const progress: JobProgress | undefined =
      row.status === 'completed'
        ? undefined
        : await client
            .withDeadline(Date.now() + PROGRESS_QUERY_TIMEOUT_MS, () => client.workflow.getHandle(id).query(progressQuery))
            .catch(() => undefined);
    const d = await describe(id);
    if (!d) return base;
    let status = statusOf(d.status.name);
    if (status === 'running' && (progress ? progress.paused : row.status === 'paused')) status = 'paused';
    const total = Number(row.rowsTotal ?? progress?.total ?? 0);
    let done = status === 'completed' ? total : (progress?.done ?? 0);
    if (status === 'running' && progress) done += runningRows(d, progress.runningShards);
    done = Math.min(total, await highWater(id, done));
    const started = row.startedAt ? new Date(row.startedAt).getTime() : Date.now();
    const end = status === 'running' || status === 'paused' ? Date.now() : new Date(row.finishedAt ?? d.closeTime ?? Date.now()).getTime();
    const seconds = Math.max(0.001, (end - started) / 1000);
    const rate = done > 0 ? done / seconds : null;
    const out: JobView = {
      ...base,
      status,
      progress: {
        unit: progress?.unit ?? 'rows',
        done,
        total,
        fraction: total > 0 ? done / total : 0,
        ratePerSecond: rate === null ? null : Math.round(rate),
        etaSeconds: rate && status === 'running' ? Math.round(((total - done) / rate) * 10) / 10 : status === 'completed' ? 0 : null,
        shards:
          progress?.shards ??
          (status === 'completed' && row.result
            ? { total: (row.result as JobResultSummary).shards, completed: (row.result as JobResultSummary).shards, running: 0 }
            : { total: 0, completed: 0, running: 0 }),
      },
    };
    if (status === 'completed' && base.result) out.result = { ...base.result, files: await readManifestFiles(id) };
    if (status === 'failed' && !out.error) out.error = { type: d.status.name, message: `workflow ${d.status.name.toLowerCase()}` };
    if (status !== row.status && TERMINAL.includes(status)) {
      await db.db.update(jobs).set({ status, finishedAt: row.finishedAt ?? new Date() }).where(eq(jobs.id, id));
    }
    return out;
  }

  async function list(tenant: Tenant, q: { kind?: string; status?: string; limit: number; cursorCond?: any }) {
    const conds = [eq(jobs.tenantId, tenant.tenantId)];
    if (q.kind) conds.push(eq(jobs.kind, q.kind));
    if (q.status) conds.push(inArray(jobs.status, [q.status]));
    if (q.cursorCond) conds.push(q.cursorCond);
    return db.db
      .select()
      .from(jobs)
      .where(and(...conds))
      .orderBy(desc(jobs.createdAt), desc(jobs.id))
      .limit(q.limit + 1);
  }

  async function pause(tenant: Tenant, id: string): Promise<JobView> {
    const v = await view(tenant, id);
    if (v.status === 'paused') return v;
    if (v.status !== 'running') throw ProblemError.conflict(`job ${id} is ${v.status}; only a running job can be paused`);
    await client.workflow.getHandle(id).signal(pauseSignal);
    await db.db.update(jobs).set({ status: 'paused' }).where(eq(jobs.id, id));
    return { ...v, status: 'paused' };
  }

  async function resume(tenant: Tenant, id: string): Promise<JobView> {
    const v = await view(tenant, id);
    if (v.status === 'running') return v;
    if (v.status === 'completed') throw ProblemError.conflict(`job ${id} is completed; there is nothing to resume`);
    if (v.status === 'paused') {
      await client.workflow.getHandle(id).signal(resumeSignal);
    } else {
      // failed or cancelled: a new run of the same workflow id; planJob reuses every completed shard.
      const row = await findRow(tenant, id);
      const input: JobInput = {
        jobId: id,
        tenantId: row.tenantId,
        kind: row.kind as JobInput['kind'],
        spec: row.spec as Record<string, unknown>,
        output: row.output as JobInput['output'],
        partitioning: row.partitioning as JobInput['partitioning'],
      };
      await startWorkflow(input, Number(row.rowsTotal ?? 0));
      await db.db.update(jobs).set({ finishedAt: null, error: null }).where(eq(jobs.id, id));
    }
    await db.db.update(jobs).set({ status: 'running' }).where(eq(jobs.id, id));
    return { ...v, status: 'running', error: null, finishedAt: null };
  }

  async function cancel(tenant: Tenant, id: string): Promise<JobView> {
    const v = await view(tenant, id);
    if (TERMINAL.includes(v.status)) throw ProblemError.conflict(`job ${id} is ${v.status}; it cannot be cancelled`);
    await client.workflow.getHandle(id).cancel();
    return v;
  }

  return { create, view, list, pause, resume, cancel, findRow };
}

type JobViewFile = { name: string; rows: number; bytes: number; sha256: string };
export type JobService = ReturnType<typeof createJobService>;
