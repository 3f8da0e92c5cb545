/** Helpers for job tests: start jobs over HTTP, wait for states, read files back. */
import { promises as fs, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readParquetRows } from './parquet.js';
import type { TestApi } from './api.js';

const created: string[] = [];

/**
 * Removes every folder tempDataDir made, when the test file's process exits: after its own `after`
 * hooks have stopped the workers and APIs writing there. (node:test's `after` cannot be used here:
 * called from a `before` hook it runs right after that hook.) SHARDFLOW_KEEP_TEST_DATA=1 keeps them.
 */
function removeOnExit(dir: string): void {
  if (created.length === 0) {
    process.once('exit', () => {
      if (process.env.SHARDFLOW_KEEP_TEST_DATA === '1') return;
      for (const d of created) rmSync(d, { recursive: true, force: true });
    });
  }
  created.push(dir);
}

/** A fresh SHARDFLOW_DATA_DIR for one test file; removed when that file's process exits. */
export async function tempDataDir(prefix = 'shardflow-test-'): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  removeOnExit(dir);
  return dir;
}

export async function postJob(api: TestApi, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await api.request('/v1/jobs', { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

export async function getJob(api: TestApi, id: string): Promise<any> {
  const res = await api.request(`/v1/jobs/${id}`);
  if (res.status !== 200) throw new Error(`GET /v1/jobs/${id}: ${res.status} ${await res.text()}`);
  return res.json();
}

export async function control(api: TestApi, id: string, action: 'pause' | 'resume' | 'cancel'): Promise<{ status: number; body: any }> {
  const res = await api.request(`/v1/jobs/${id}/${action}`, { method: 'POST' });
  return { status: res.status, body: await res.json() };
}

/** Polls GET /v1/jobs/{id} until `until(job)` holds (a state, not a time); fails after `timeoutMs`. */
export async function waitForJob(api: TestApi, id: string, until: (job: any) => boolean, timeoutMs = 120_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let job: any;
  for (;;) {
    job = await getJob(api, id);
    if (until(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} never reached the awaited state; last: ${JSON.stringify(job).slice(0, 800)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const isDone = (j: any) => ['completed', 'failed', 'cancelled'].includes(j.status);

export async function readManifest(dataDir: string, id: string): Promise<any> {
  return JSON.parse(await fs.readFile(path.join(dataDir, 'jobs', id, 'manifest.json'), 'utf8'));
}

/** The rows of a Parquet part, or the records of an NDJSON part (`.ndjson`, `.ndjson.gz`). */
export async function readPartRows(file: string): Promise<Record<string, unknown>[]> {
  if (!/\.ndjson(\.gz)?$/.test(file)) return readParquetRows(file);
  const raw = await fs.readFile(file);
  const text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** Every row of every table of a finished Parquet (or NDJSON) job, per table in file (= row) order. */
export async function readJobRows(dataDir: string, id: string): Promise<Record<string, Record<string, unknown>[]>> {
  const manifest = await readManifest(dataDir, id);
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const t of manifest.tables) {
    const rows: Record<string, unknown>[] = (out[t.name] = []);
    for (const f of t.files) rows.push(...(await readPartRows(path.join(dataDir, 'jobs', id, f.name))));
  }
  return out;
}

/** Files under a job folder whose names mark them as temporary. */
export async function tempFilesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await fs.readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.includes('.tmp-')) out.push(p);
    }
  };
  await walk(dir);
  return out;
}

/** Units the job's shards have committed so far, from their records (`.state/shard-NNNNN.json`). */
export function committedUnits(dataDir: string, jobId: string): number {
  const dir = path.join(dataDir, 'jobs', jobId, '.state');
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => /^shard-\d+\.json$/.test(n));
  } catch {
    return 0;
  }
  let units = 0;
  for (const n of names) {
    try {
      units += Number(JSON.parse(readFileSync(path.join(dir, n), 'utf8')).unitsCommitted) || 0;
    } catch {
      // being replaced this very moment (written atomically): the next poll reads it
    }
  }
  return units;
}
