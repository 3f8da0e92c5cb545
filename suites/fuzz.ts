/**
 * `npm run fuzz [-- --examples N --seed S --min-requests N --phases examples,coverage,fuzzing]`: schemathesis (pip) against the API's own
 * /openapi.json, on a stack of its own with a worker, as a tenant whose key allows 20,000 rows per
 * job (so the jobs the fuzzer starts are small and finish). Checks: no 5xx, every answer's status
 * code, content type, headers and body as the document declares them. Prints the requests the API
 * counted (its /metrics) and exits non-zero on any failure. Workflows still running at the end are
 * terminated.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createApiKey } from '../src/db/api-keys.js';
import { createDb } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { arg, say, startApi, startSuiteStack, startWorkerProc, type Proc } from './support.js';

const CHECKS = ['not_a_server_error', 'status_code_conformance', 'content_type_conformance', 'response_headers_conformance', 'response_schema_conformance'];

/** The schemathesis command: `st` on PATH, else `python3 -m schemathesis.cli` (a pip install into a Python whose scripts are not on PATH). */
function schemathesis(): string[] {
  for (const cmd of [['st'], ['schemathesis'], ['python3', '-m', 'schemathesis.cli']]) {
    try {
      execFileSync(cmd[0]!, [...cmd.slice(1), '--version'], { stdio: 'ignore' });
      return cmd;
    } catch {
      // next
    }
  }
  throw new Error('schemathesis is not installed: python3 -m pip install schemathesis==4.32.5');
}

/** Requests the API served, by status class, from its own http_requests_total. */
async function served(url: string): Promise<{ total: number; s5xx: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  let s5xx = 0;
  for (const m of text.matchAll(/^http_requests_total\{([^}]*)\} (\d+)/gm)) {
    if (/route="\/metrics"/.test(m[1]!)) continue;
    total += Number(m[2]);
    if (/status="5\d\d"/.test(m[1]!)) s5xx += Number(m[2]);
  }
  return { total, s5xx };
}

async function main(): Promise<number> {
  const [bin, ...binArgs] = schemathesis();
  const examples = arg('examples', '60')!;
  const minRequests = Number(arg('min-requests', '1000'));
  const phases = arg('phases', 'examples,coverage,fuzzing')!;
  const seed = arg('seed', '1')!;
  const queue = `fuzz-${process.pid}`;
  const stack = await startSuiteStack({ TEMPORAL_TASK_QUEUE: queue, SHARDFLOW_AUTH: 'required', WORKER_THREADS: '1' });
  const reports = mkdtempSync(path.join(os.tmpdir(), 'shardflow-fuzz-'));
  let api: Awaited<ReturnType<typeof startApi>> | undefined;
  let worker: Proc | undefined;
  try {
    await runMigrations(stack.env.DATABASE_URL!);
    const db = createDb(stack.env.DATABASE_URL!, { max: 1 });
    const key = await createApiKey(db.db, { name: 'fuzz', tenantId: 'fuzz', maxRows: 20_000, maxConcurrentJobs: 20 });
    await db.close();
    worker = await startWorkerProc(stack.env);
    api = await startApi(stack.env);
    say(`fuzzing ${api.url}/openapi.json with ${[bin, ...binArgs].join(' ')} (${examples} examples per operation, seed ${seed}; checks: ${CHECKS.join(', ')})`);
    const code = await new Promise<number>((resolve) => {
      const child = spawn(
        bin!,
        [
          ...binArgs,
          'run',
          `${api!.url}/openapi.json`,
          '--checks', CHECKS.join(','),
          '--max-examples', examples,
          '--seed', seed,
          '--workers', '2',
          '--request-timeout', '20',
          '--phases', phases,
          '--report', 'junit',
          '--report-dir', reports,
          '--no-color',
          '--header', `Authorization: Bearer ${key.secret}`,
        ],
        { stdio: 'inherit', env: { ...process.env, NO_COLOR: '1' } },
      );
      child.on('exit', (c) => resolve(c ?? 1));
    });
    const { total, s5xx } = await served(api.url);
    say(`\nthe API served ${total} requests: ${s5xx} answered 5xx; schemathesis exit code ${code}`);
    if (total < minRequests) say(`FAIL: fewer than ${minRequests} requests (raise --examples)`);
    return code === 0 && s5xx === 0 && total >= minRequests ? 0 : 1;
  } finally {
    // The jobs the fuzzer started: terminated, so nothing is left running in Temporal.
    try {
      const connection = await Connection.connect({ address: stack.env.TEMPORAL_ADDRESS! });
      const client = new Client({ connection });
      let n = 0;
      for await (const w of client.workflow.list({ query: `TaskQueue = '${queue}' AND ExecutionStatus = 'Running'` })) {
        await client.workflow.getHandle(w.workflowId).terminate('fuzz run over').catch(() => {});
        n++;
      }
      say(`terminated ${n} workflows the fuzzer started`);
      await connection.close();
    } catch (err) {
      say(`could not clean up workflows: ${(err as Error).message}`);
    }
    await api?.stop(5_000);
    await worker?.stop(10_000);
    await stack.stop();
    rmSync(reports, { recursive: true, force: true });
  }
}

process.exitCode = await main();
