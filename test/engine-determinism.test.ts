/**
 * The same spec and seed give the same rows however the job is cut into shards:
 * shardRows 1,000 vs 7,919 vs one shard → identical content digests and identical rows read back.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { digestRange } from '../src/data/digest.js';
import { createTrialTable } from '../src/kinds/trial/generate.js';
import { loadPilotModel } from '../src/kinds/trial/pilot.js';
import { startTestApi, type TestApi } from './support/api.js';
import { uniqueTaskQueue } from './support/stack.js';
import { startTestWorker, type TestWorker } from './support/worker.js';
import { isDone, postJob, readJobRows, readManifest, tempDataDir, waitForJob } from './support/jobs.js';

let api: TestApi;
let worker: TestWorker;
let dataDir: string;

before(async () => {
  const taskQueue = uniqueTaskQueue('determinism');
  dataDir = await tempDataDir();
  api = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: taskQueue, SHARDFLOW_DATA_DIR: dataDir } });
  worker = await startTestWorker({ taskQueue, dataDir, env: { SHARDFLOW_PART_ROWS: '3000' } });
});
after(async () => {
  await worker?.stop();
  await api?.close();
});

const spec = { method: 'mvn', nPerArm: 2500, seed: 20261122, targetEffect: -5 };
const rows = 2 * 2500 * 4;

async function run(partitioning: Record<string, number>) {
  const started = await postJob(api, { kind: 'trial', spec, partitioning });
  assert.equal(started.status, 202, JSON.stringify(started.body));
  const job = await waitForJob(api, started.body.id, isDone);
  assert.equal(job.status, 'completed', JSON.stringify(job.error));
  const manifest = await readManifest(dataDir, job.id);
  return { job, manifest };
}

test('shardRows 1,000 vs 7,919 vs one shard: same digest, same rows', async () => {
  const a = await run({ shardRows: 1000, maxParallelShards: 4 });
  const b = await run({ shardRows: 7919, maxParallelShards: 3 });
  const c = await run({ shardRows: rows, maxParallelShards: 1 });

  assert.equal(a.manifest.tables[0].rows, rows);
  assert.equal(a.job.progress.shards.total, 20);
  assert.equal(b.job.progress.shards.total, Math.ceil(rows / 7919));
  assert.equal(c.job.progress.shards.total, 1);
  // one shard of 20,000 rows in parts of 3,000: checkpoints inside a shard
  assert.equal(c.manifest.tables[0].files.length, Math.ceil(rows / 3000));

  const digests = [a, b, c].map((r) => r.manifest.tables[0].digest);
  assert.match(digests[0], /^sf1-[0-9a-f]{32}$/);
  assert.deepEqual(digests, [digests[0], digests[0], digests[0]]);
  assert.equal(a.manifest.seed, spec.seed);
  // …and it is exactly the generator's output, whose fidelity test/generators-trial.test.ts checks
  const direct = digestRange(createTrialTable(a.manifest.spec, await loadPilotModel()), 0, rows);
  assert.equal(direct.toString(), digests[0]);

  const [ra, rb, rc] = await Promise.all([a, b, c].map((r) => readJobRows(dataDir, r.job.id)));
  assert.equal(ra.length, rows);
  assert.deepEqual(rb, ra);
  assert.deepEqual(rc, ra);
  assert.deepEqual(Object.keys(ra[0]!), ['SubjectID', 'TreatmentArm', 'VisitName', 'SystolicBP', 'DiastolicBP', 'HeartRate', 'Temperature']);
});

test('another seed gives another digest', async () => {
  const started = await postJob(api, { kind: 'trial', spec: { ...spec, seed: 7 }, partitioning: { shardRows: 5000 } });
  const job = await waitForJob(api, started.body.id, isDone);
  assert.equal(job.status, 'completed');
  const reference = await run({ shardRows: 10000 });
  assert.notEqual((await readManifest(dataDir, job.id)).tables[0].digest, reference.manifest.tables[0].digest);
});
