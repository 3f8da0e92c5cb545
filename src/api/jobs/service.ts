/**
 * Jobs as the API sees them: a row in Postgres (tenant, spec, last known status) and a
 * workflow in Temporal (the truth while it runs). The API talks to these two and nothing else.
 * A completed job is read from its row alone; a failed or cancelled one from its row when
 * Temporal cannot be reached. Every Temporal call has a deadline (src/api/temporal.ts); an
 * unreachable Temporal or Postgres is a 503 with Retry-After (src/api/unavailable.ts).
 */
import { randomBytes } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowNotFoundError, type WorkflowExecutionDescription } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { and, desc, eq, inArray, sql as dsql } from 'drizzle-orm';
import { jobKeys, jobs, type JobRow } from '../../db/schema.js';
import { keyIdOf, newJobKey } from '../../destinations/index.js';
import { jobKeyRow } from '../../engine/job-keys.js';
import { manifestFiles, readManifest, type Manifest } from '../../engine/manifest.js';
import type { PostgresTargets } from '../../destinations/index.js';
import { liveProgress } from '../../engine/progress.js';
import { oneShotLoadClients, removeJobData } from '../../engine/remove-job.js';
import { kindKey, rowsDoneKey, rowsTotalKey, tenantKey } from '../../engine/search-attributes.js';
import type { JobInput, JobProgress, JobResultSummary, JobStatus, ShardState } from '../../engine/types.js';
import { jobWorkflow, pauseSignal, progressQuery, resumeSignal } from '../../workflows/job.js';
import { apiStatusChanges } from '../metrics.js';
import { ProblemError } from '../middleware/problem.js';
import { TEMPORAL_CALL_TIMEOUT_MS, withTemporalDeadline } from '../temporal.js';
import { isTemporalUnavailable, isTemporalUnreachable } from '../unavailable.js';
import type { ApiDeps, Tenant } from '../types.js';
import type { JobView } from './schema.js';
import type { NormalizedJob } from './validate.js';

/** A rough planning figure for the estimate field; benchmarks give the real ones. */
const ESTIMATED_UNITS_PER_SECOND = 2_000_000;
export const TERMINAL: JobStatus[] = ['completed', 'failed', 'cancelled'];
/** Statuses that count against a key's concurrent-jobs quota. */
const ACTIVE: JobStatus[] = ['running', 'paused', 'cancelling'];
/** How long a GET waits for the workflow's `progress` query before answering from Postgres. */
const PROGRESS_QUERY_TIMEOUT_MS = 2_000;
/** After a progress query went unanswered (no worker polls), reads answer from Postgres for this long without asking again. */
const QUERY_BACKOFF_MS = 5_000;
/** Readers of one job within this long share one answer (one query, one describe, at most one write). */
export const SHARED_READ_MS = 250;
/**
 * How long DELETE lets a running job's cancel end on its own (its shards stop at their next
 * heartbeat, a load is marked incomplete); after that — a worker gone, say — the workflow is terminated.
 */
export const DELETE_CANCEL_WAIT_MS = 10_000;

/** The `estimate` of a job of `units` (rows, patients, activities). */
export function estimateOf(units: number): { rows: number; seconds: number } {
  return { rows: units, seconds: Math.round((units / ESTIMATED_UNITS_PER_SECOND) * 10) / 10 };
}

const outputLabel = (o: JobInput['output']): string =>
  `${o.format}${o.compression && o.compression !== 'none' ? `+${o.compression}` : ''}${o.encryption ? ' (encrypted)' : ''}${o.postgres ? ` → postgres ${o.postgres.target ? `${o.postgres.target}.` : ''}${o.postgres.schema}` : ''}`;

/** One line for the Temporal Web UI: kind, size, output, tenant. */
export function jobSummary(input: JobInput, units: number, unit = 'units'): string {
  return `${input.kind} · ${units.toLocaleString('en-US')} ${unit} · ${outputLabel(input.output)} · tenant ${input.tenantId}`;
}

/** Markdown for the Web UI: the job's spec (cut at 8 KB) and partitioning. */
function jobDetails(input: JobInput): string {
  const spec = JSON.stringify(input.spec, null, 2);
  const cut = spec.length > 8192 ? `${spec.slice(0, 8192)}\n… (${spec.length} characters; GET /v1/jobs/${input.jobId} has it all)` : spec;
  return `**${input.kind}** job \`${input.jobId}\` · shards of ${input.partitioning.shardRows.toLocaleString('en-US')}, ${input.partitioning.maxParallelShards} at once\n\n\`\`\`json\n${cut}\n\`\`\``;
}

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
    kind: row.kind,
    status: row.status as JobStatus,
    createdAt: iso(row.createdAt)!,
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
    spec: row.spec as Record<string, unknown>,
    output: row.output as Record<string, unknown>,
    partitioning: row.partitioning as Record<string, unknown>,
    result: result
      ? { rows: result.rows, manifest: `/v1/jobs/${row.id}/files/manifest.json`, digest: result.digest, files: [], ...(result.load ? { load: result.load } : {}) }
      : null,
    error: (row.error as JobView['error']) ?? null,
    links: jobLinks(row.id),
  };
}

/** What a kind adds to a completed job's result (the manifest's `kindResult.summary`, e.g. trial's quality summary). */
function kindSummary(m: Manifest): { summary?: Record<string, unknown> } {
  const summary = m.kindResult?.summary;
  return summary && typeof summary === 'object' ? { summary: summary as Record<string, unknown> } : {};
}

type ShardCounts = { total: number; completed: number; running: number };

function lastShards(row: JobRow): ShardCounts | undefined {
  const s = row.shards as ShardCounts | null;
  return s && typeof s.total === 'number' ? s : undefined;
}

const sameShards = (a: ShardCounts, b: ShardCounts | undefined) => !!b && a.total === b.total && a.completed === b.completed && a.running === b.running;

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

/** Shard heartbeats (their ShardState) of a workflow's pending activities. */
function heartbeatsOf(d: WorkflowExecutionDescription): Array<{ shardIndex: number; unitsDone: number }> {
  const out: Array<{ shardIndex: number; unitsDone: number }> = [];
  for (const a of d.raw.pendingActivities ?? []) {
    const payload = a.heartbeatDetails?.payloads?.[0];
    if (!payload) continue;
    const s = defaultPayloadConverter.fromPayload<ShardState>(payload as any);
    if (s && typeof s.shardIndex === 'number' && typeof s.unitsDone === 'number') out.push({ shardIndex: s.shardIndex, unitsDone: s.unitsDone });
  }
  return out;
}

export function createJobService(deps: ApiDeps) {
  const { db, temporal, config } = deps;
  const client = temporal.client;

  async function findRow(tenant: Tenant, id: string): Promise<JobRow> {
    const [row] = await db.db.select().from(jobs).where(and(eq(jobs.id, id), eq(jobs.tenantId, tenant.tenantId)));
    if (!row) throw ProblemError.notFound(`no job ${id}`);
    return row;
  }

  function inputOf(row: JobRow): JobInput {
    return {
      jobId: row.id,
      tenantId: row.tenantId,
      kind: row.kind,
      spec: row.spec as Record<string, unknown>,
      output: row.output as JobInput['output'],
      partitioning: row.partitioning as JobInput['partitioning'],
    };
  }

  /** Sets a job's status (only from `onlyFrom`, when given) and counts a real change. */
  async function setStatus(id: string, to: JobStatus, onlyFrom?: JobStatus[]): Promise<void> {
    const rows = await db.sql<{ from: string; kind: string }[]>`
      with old as (
        select id, status, kind from jobs where id = ${id} ${onlyFrom ? db.sql`and status in ${db.sql(onlyFrom)}` : db.sql``} for update
      )
      update jobs j set status = ${to} from old where j.id = old.id
      returning old.status as "from", old.kind`;
    const r = rows[0];
    if (r && r.from !== to) apiStatusChanges.inc({ kind: r.kind, from: r.from, to });
  }

  async function startWorkflow(input: JobInput, units: number): Promise<void> {
    // A longer deadline than reads: a start that times out is ambiguous (it may have started).
    await withTemporalDeadline(client, () => client.workflow.start(jobWorkflow, {
      taskQueue: config.temporal.taskQueue,
      workflowId: input.jobId,
      args: [{ ...input, bookkeepingRetry: config.bookkeepingRetry }],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      // What the Web UI shows at a glance (summary, details) and lists (memo).
      staticSummary: jobSummary(input, units, deps.kinds.find(input.kind)?.unit),
      staticDetails: jobDetails(input),
      memo: { kind: input.kind, tenant: input.tenantId, units, output: outputLabel(input.output) },
      typedSearchAttributes: [
        { key: kindKey, value: input.kind },
        { key: tenantKey, value: input.tenantId },
        { key: rowsTotalKey, value: units },
        { key: rowsDoneKey, value: 0 },
      ],
    }), 2 * TEMPORAL_CALL_TIMEOUT_MS);
  }

  async function create(tenant: Tenant, job: NormalizedJob, idem: { key: string | null; hash: string }): Promise<JobView> {
    const id = newJobId();
    const input: JobInput = { jobId: id, ...job.input };
    // An encrypted job: its key, derived here once (scrypt: ~0.5 s, off the event loop), sealed into
    // job_keys with the row; the job's output keeps only the marker with the key id (docs/ENCRYPTION.md).
    let keyRow: ReturnType<typeof jobKeyRow> | undefined;
    if (job.secret) {
      if (!config.secretKey) throw ProblemError.unprocessable('this server cannot encrypt job files: SHARDFLOW_SECRET_KEY is not configured');
      const key = await newJobKey(job.secret);
      keyRow = jobKeyRow(config.secretKey, id, key);
      input.output = { ...input.output, encryption: { ...input.output.encryption!, keyId: keyIdOf(key) } };
    }
    // The quota check and the insert are one step per tenant: two concurrent POSTs cannot both pass.
    const row = await db.db.transaction(async (tx) => {
      if (tenant.maxConcurrentJobs !== null) {
        await tx.execute(dsql`select pg_advisory_xact_lock(hashtext(${'jobs:' + tenant.tenantId}))`);
        const [{ n }] = await tx
          .select({ n: dsql<number>`count(*)::int` })
          .from(jobs)
          .where(and(eq(jobs.tenantId, tenant.tenantId), inArray(jobs.status, ACTIVE)));
        if (n! >= tenant.maxConcurrentJobs) {
          throw ProblemError.unprocessable(`this API key allows ${tenant.maxConcurrentJobs} concurrent jobs; ${n} are running or paused`);
        }
      }
      if (tenant.maxStorageBytes !== null) {
        const [{ held }] = await tx
          .select({ held: dsql<number>`coalesce(sum((${jobs.result} ->> 'bytes')::bigint), 0)::float8` })
          .from(jobs)
          .where(eq(jobs.tenantId, tenant.tenantId));
        if (held! >= tenant.maxStorageBytes) {
          throw ProblemError.unprocessable(
            `this API key allows ${tenant.maxStorageBytes} bytes of job files; its jobs hold ${held} bytes — delete some (DELETE /v1/jobs/{id}) first`,
          );
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
          rowsTotal: job.units,
          idempotencyKey: idem.key,
          requestHash: idem.hash,
          startedAt: new Date(),
        })
        .returning();
      if (keyRow) await tx.insert(jobKeys).values(keyRow);
      return inserted!;
    });
    try {
      await startWorkflow(input, job.units);
    } catch (err) {
      // Nothing half-made stays behind: no workflow, no row, no key.
      await db.db.delete(jobKeys).where(eq(jobKeys.jobId, id));
      await db.db.delete(jobs).where(eq(jobs.id, id));
      if (isTemporalUnavailable(err)) throw ProblemError.unavailable('temporal');
      throw new ProblemError({ status: 503, detail: `Temporal did not accept the job: ${(err as Error).message}` });
    }
    apiStatusChanges.inc({ kind: input.kind, from: 'new', to: 'running' });
    return { ...rowView(row!), estimate: estimateOf(job.units) };
  }

  async function describe(id: string): Promise<WorkflowExecutionDescription | undefined> {
    try {
      return await withTemporalDeadline(client, () => client.workflow.getHandle(id).describe());
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  /**
   * progress.done never goes backwards between two reads: a high-water mark kept in Postgres, with
   * the last shard counts the workflow gave (what a read shows while the workflow cannot answer).
   */
  async function keepHighWater(id: string, done: number, shards?: ShardCounts): Promise<void> {
    if (shards) await db.sql`update jobs set rows_done = greatest(coalesce(rows_done, 0), ${done}), shards = ${JSON.stringify(shards)}::jsonb where id = ${id}`;
    else await db.sql`update jobs set rows_done = greatest(coalesce(rows_done, 0), ${done}) where id = ${id}`;
  }

  /** When the progress query of a job last went unanswered. */
  const queryFailedAt = new Map<string, number>();
  /** The answer readers of a job share, per tenant and job, while it is at most SHARED_READ_MS old. */
  const shared = new Map<string, { at: number; answer: Promise<JobView> }>();

  /**
   * `view`, shared: concurrent and back-to-back readers of one job within SHARED_READ_MS get one
   * answer (many dashboards or CLI watchers cost one read). A transition forgets the job's answer.
   */
  function sharedView(tenant: Tenant, id: string): Promise<JobView> {
    const key = `${tenant.tenantId}\u0000${id}`;
    const now = Date.now();
    const hit = shared.get(key);
    if (hit && now - hit.at < SHARED_READ_MS) return hit.answer;
    const answer = view(tenant, id);
    const entry = { at: now, answer };
    shared.set(key, entry);
    answer.then(
      () => setTimeout(() => shared.get(key) === entry && shared.delete(key), SHARED_READ_MS).unref(),
      () => shared.get(key) === entry && shared.delete(key),
    );
    return answer;
  }
  const forget = (tenant: Tenant, id: string) => shared.delete(`${tenant.tenantId}\u0000${id}`);

  /**
   * What a failed workflow failed with (its root cause), for a job whose row has no error: the
   * workflow could not record it (Postgres was down for longer than the bookkeeping budget).
   */
  async function failureOf(id: string): Promise<{ type: string; message: string } | undefined> {
    try {
      await withTemporalDeadline(client, () => client.workflow.getHandle(id).result());
      return undefined;
    } catch (err) {
      if (!(err instanceof WorkflowFailedError)) return undefined;
      let e: any = err.cause;
      while (e?.cause) e = e.cause;
      return e ? { type: String(e.type ?? e.name ?? 'Error'), message: String(e.message ?? '') } : undefined;
    }
  }

  /**
   * A finished job from its row alone (no Temporal): a completed job always (its result records
   * the shards), a failed or cancelled one while Temporal cannot be reached.
   */
  async function finishedView(row: JobRow): Promise<JobView> {
    const base = rowView(row);
    const status = row.status as JobStatus;
    const result = row.result as JobResultSummary | null;
    const progress = liveProgress({
      status,
      unit: deps.kinds.find(row.kind)?.unit ?? 'rows',
      total: Number(row.rowsTotal ?? 0),
      heartbeats: [],
      highWater: Number(row.rowsDone ?? 0),
      shards: status === 'completed' && result ? { total: result.shards, completed: result.shards, running: 0 } : lastShards(row),
      startedAt: row.startedAt ? new Date(row.startedAt).getTime() : Date.now(),
      finishedAt: new Date(row.finishedAt ?? Date.now()).getTime(),
      now: Date.now(),
    });
    const out: JobView = { ...base, status, progress };
    if (status === 'completed' && base.result) {
      const manifest = await readManifest(config.dataDir, row.id).catch(() => undefined);
      out.result = { ...base.result, files: manifest ? manifestFiles(manifest) : [], ...(manifest ? kindSummary(manifest) : {}) };
    }
    if (status === 'failed' && !out.error) out.error = { type: 'Failed', message: 'the job failed; its cause was not recorded' };
    return out;
  }

  async function view(tenant: Tenant, id: string): Promise<JobView> {
    let row = await findRow(tenant, id);
    // A completed job is final (it cannot be resumed) and its row holds everything a read answers.
    if (row.status === 'completed' && row.result) return finishedView(row);
    const finished = TERMINAL.includes(row.status as JobStatus);
    // The query comes before the describe: a shard that completes in between is then missed for one
    // read (and the high-water mark holds), never counted twice. A query needs a worker; with none
    // polling it would block until Temporal's own timeout, so it is bounded; after one unanswered
    // query, reads answer from Postgres for QUERY_BACKOFF_MS without asking again.
    let unreachable = false;
    const unanswered = queryFailedAt.get(id);
    const query: JobProgress | undefined =
      unanswered !== undefined && Date.now() - unanswered < QUERY_BACKOFF_MS
        ? undefined
        : await client
            .withDeadline(Date.now() + PROGRESS_QUERY_TIMEOUT_MS, () => client.workflow.getHandle(id).query(progressQuery))
            .then((q) => (queryFailedAt.delete(id), q))
            .catch((err) => {
              // Only "cannot connect" is an outage: a query also times out when no worker polls, with Temporal up.
              unreachable = isTemporalUnreachable(err);
              if (!unreachable) queryFailedAt.set(id, Date.now());
              return undefined;
            });
    // Temporal is down: a finished job is answered from its row, any other is a 503 (without a second wait).
    if (unreachable && finished) return finishedView(row);
    if (unreachable) throw ProblemError.unavailable('temporal');
    let d: WorkflowExecutionDescription | undefined;
    try {
      d = await describe(id);
    } catch (err) {
      if (finished && isTemporalUnavailable(err)) return finishedView(row);
      throw err;
    }
    if (!d) return rowView(row);
    let status = statusOf(d.status.name);
    // The workflow records its result (or its error) before it closes: a row read before that is read again.
    if ((status === 'completed' && !row.result) || (status === 'failed' && !row.error)) row = await findRow(tenant, id);
    const base = rowView(row);
    if (status === 'running') {
      if (query?.phase === 'cancelling' || row.status === 'cancelling') status = 'cancelling';
      else if (query ? query.paused : row.status === 'paused') status = 'paused';
    }
    const result = row.result as JobResultSummary | null;
    const progress = liveProgress({
      status,
      unit: deps.kinds.find(row.kind)?.unit ?? 'rows',
      // The plan's total (a kind that reads the database may count differently than at submit time).
      total: query?.total || Number(row.rowsTotal ?? 0),
      query,
      heartbeats: status === 'running' && query ? heartbeatsOf(d) : [],
      highWater: Number(row.rowsDone ?? 0),
      // Completed: its result's. Otherwise, when the workflow does not answer, the last counts it gave.
      shards: status === 'completed' && result ? { total: result.shards, completed: result.shards, running: 0 } : lastShards(row),
      startedAt: row.startedAt ? new Date(row.startedAt).getTime() : Date.now(),
      finishedAt: TERMINAL.includes(status) ? new Date(row.finishedAt ?? d.closeTime ?? Date.now()).getTime() : undefined,
      now: Date.now(),
    });
    const shardsChanged = query !== undefined && !sameShards(query.shards, lastShards(row));
    if (progress.done > Number(row.rowsDone ?? 0) || shardsChanged) await keepHighWater(id, progress.done, shardsChanged ? query!.shards : undefined);
    const out: JobView = { ...base, status, progress };
    if (status === 'completed' && base.result) {
      const manifest = await readManifest(config.dataDir, id).catch(() => undefined);
      out.result = { ...base.result, files: manifest ? manifestFiles(manifest) : [], ...(manifest ? kindSummary(manifest) : {}) };
    }
    if (status === 'failed' && !out.error) {
      out.error = (await failureOf(id)) ?? { type: d.status.name, message: `workflow ${d.status.name.toLowerCase()}` };
    }
    if (TERMINAL.includes(status) && (status !== row.status || (status === 'failed' && !row.error))) {
      // The row is what reads answer once Temporal cannot be asked: it keeps the error too.
      await db.db
        .update(jobs)
        .set({ status, finishedAt: row.finishedAt ?? new Date(), ...(status === 'failed' && !row.error ? { error: out.error } : {}) })
        .where(eq(jobs.id, id));
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

  /** A row of GET /v1/jobs: as rowView, with a completed job's files from its manifest (as GET /v1/jobs/{id} lists them). */
  async function listView(row: JobRow): Promise<JobView> {
    const v = rowView(row);
    if (row.status !== 'completed' || !v.result) return v;
    const manifest = await readManifest(config.dataDir, row.id).catch(() => undefined);
    return manifest ? { ...v, result: { ...v.result, files: manifestFiles(manifest), ...kindSummary(manifest) } } : v;
  }

  async function pause(tenant: Tenant, id: string): Promise<JobView> {
    forget(tenant, id);
    const v = await view(tenant, id);
    if (v.status === 'paused') return v;
    if (v.status !== 'running') throw ProblemError.conflict(`job ${id} is ${v.status}; only a running job can be paused`);
    await withTemporalDeadline(client, () => client.workflow.getHandle(id).signal(pauseSignal));
    await setStatus(id, 'paused');
    // Nothing moves while paused: no rate, no ETA (as GET answers from now on).
    return { ...v, status: 'paused', ...(v.progress ? { progress: { ...v.progress, ratePerSecond: null, etaSeconds: null } } : {}) };
  }

  async function resume(tenant: Tenant, id: string): Promise<JobView> {
    forget(tenant, id);
    const v = await view(tenant, id);
    if (v.status === 'running') return v;
    if (v.status === 'completed' || v.status === 'cancelling') {
      throw ProblemError.conflict(`job ${id} is ${v.status}; there is nothing to resume${v.status === 'cancelling' ? ' until it is cancelled' : ''}`);
    }
    if (v.status === 'paused') {
      await withTemporalDeadline(client, () => client.workflow.getHandle(id).signal(resumeSignal));
    } else {
      // failed or cancelled: a new run of the same workflow id; planJob reuses every completed shard.
      const row = await findRow(tenant, id);
      try {
        await startWorkflow(inputOf(row), Number(row.rowsTotal ?? 0));
      } catch (err) {
        // A concurrent resume started it first: the job runs, which is what this one asked for.
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      await db.db.update(jobs).set({ finishedAt: null, error: null }).where(eq(jobs.id, id));
    }
    await setStatus(id, 'running');
    return { ...v, status: 'running', error: null, finishedAt: null };
  }

  async function cancel(tenant: Tenant, id: string): Promise<JobView> {
    forget(tenant, id);
    const v = await view(tenant, id);
    if (v.status === 'cancelling') return v;
    if (TERMINAL.includes(v.status)) throw ProblemError.conflict(`job ${id} is ${v.status}; it cannot be cancelled`);
    await withTemporalDeadline(client, () => client.workflow.getHandle(id).cancel());
    // Unless the workflow has already recorded the end of the cancel.
    await setStatus(id, 'cancelling', ['running', 'paused']);
    return { ...v, status: 'cancelling' };
  }

  /** Resolves true once the workflow (following its continue-as-new runs) has closed, false after `ms`. */
  async function closedWithin(id: string, ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    const closed = client.workflow
      .getHandle(id)
      .result()
      .then(
        () => true,
        () => true, // cancelled or failed: closed all the same
      );
    try {
      return await Promise.race([closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * DELETE: a job whose workflow still runs (running, paused, cancelling) is cancelled and awaited;
   * then its load is released (tables it did not complete dropped, claims and markers deleted), its
   * folder removed and, last, its row — so a DELETE that fails half-way can simply be repeated.
   */
  async function remove(tenant: Tenant, id: string, targets: PostgresTargets): Promise<void> {
    forget(tenant, id);
    const row = await findRow(tenant, id);
    const d = await describe(id);
    if (d?.status.name === 'RUNNING') {
      await withTemporalDeadline(client, () => client.workflow.getHandle(id).cancel())
        .catch((err) => {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        });
      await setStatus(id, 'cancelling', ['running', 'paused']);
      if (!(await closedWithin(id, DELETE_CANCEL_WAIT_MS))) {
        await client.workflow
          .getHandle(id)
          .terminate(`DELETE /v1/jobs/${id}: the cancel did not end within ${DELETE_CANCEL_WAIT_MS / 1000} s`)
          .catch((err) => {
            if (!(err instanceof WorkflowNotFoundError)) throw err;
          });
      }
    }
    await removeJobData(
      { sql: db.sql, dataDir: config.dataDir, loadClients: oneShotLoadClients(targets, 'shardflow-api-delete') },
      { id, output: row.output as JobInput['output'] | null },
      { tenantId: tenant.tenantId },
    );
  }

  const after = <A extends unknown[], R>(fn: (tenant: Tenant, id: string, ...rest: A) => Promise<R>) =>
    (tenant: Tenant, id: string, ...rest: A): Promise<R> => fn(tenant, id, ...rest).finally(() => forget(tenant, id));
  return {
    create,
    view: sharedView,
    list,
    listView,
    pause: after(pause),
    resume: after(resume),
    cancel: after(cancel),
    remove: after(remove),
    findRow,
  };
}

export type JobService = ReturnType<typeof createJobService>;
