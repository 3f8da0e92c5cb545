/**
 * Shared engine suite, for every kind: the same spec and seed give the same rows however the job
 * is cut into shards — shardRows 1,000 vs 7,919 vs one shard per table → identical content
 * digests (equal to the generator's own) and identical rows read back; another seed differs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApi, type TestApi } from './support/api.js';
import { digestsOf, engineCases } from './support/engine-cases.js';
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
  for (const c of engineCases) await c.cleanup?.(api);
  await worker?.stop();
  await api?.close();
});

const UNITS = 20_000;

for (const c of engineCases) {
  describe(`kind ${c.kind}`, () => {
    async function run(body: object, partitioning: Record<string, number>) {
      const started = await postJob(api, { ...body, partitioning });
      assert.equal(started.status, 202, JSON.stringify(started.body));
      const job = await waitForJob(api, started.body.id, isDone);
      assert.equal(job.status, 'completed', JSON.stringify(job.error));
      return { job, manifest: await readManifest(dataDir, job.id) };
    }

    test('shardRows 1,000 vs 7,919 vs one shard per table: same digests, same rows', async () => {
      const { body, tables } = await c.job(api, UNITS, { seed: 20261122, multipleOf: 1000 });
      const a = await run(body, { shardRows: 1000, maxParallelShards: 4 });
      const b = await run(body, { shardRows: 7919, maxParallelShards: 3 });
      const one = await run(body, { shardRows: Math.max(...tables.map((t) => t.rows)), maxParallelShards: 1 });

      const shards = (size: number) => tables.reduce((n, t) => n + Math.ceil(t.rows / size), 0);
      assert.equal(a.job.progress.shards.total, shards(1000));
      assert.equal(b.job.progress.shards.total, shards(7919));
      assert.equal(one.job.progress.shards.total, tables.length);
      assert.deepEqual(
        a.manifest.tables.map((t: any) => ({ name: t.name, rows: t.rows })),
        tables,
      );
      assert.equal(a.job.result.rows, UNITS);
      // one shard per table in parts of 3,000: checkpoints inside a shard
      for (const t of one.manifest.tables) assert.equal(t.files.length, Math.ceil(t.rows / 3000));

      const digests = [a, b, one].map((r) => digestsOf(r.manifest));
      for (const d of Object.values(digests[0]!)) assert.match(d, /^sf1-[0-9a-f]{32}$/);
      assert.deepEqual(digests[1], digests[0]);
      assert.deepEqual(digests[2], digests[0]);
      if (c.expectedDigests) assert.deepEqual(await c.expectedDigests(a.manifest), digests[0], 'the digests are the generator’s own');
      assert.equal(a.manifest.seed, 20261122);

      const [ra, rb, rc] = await Promise.all([a, b, one].map((r) => readJobRows(dataDir, r.job.id)));
      for (const t of tables) assert.equal(ra![t.name]!.length, t.rows);
      assert.deepEqual(rb, ra);
      assert.deepEqual(rc, ra);
    });

    test('another seed gives other digests', async () => {
      const x = await c.job(api, UNITS, { seed: 7, multipleOf: 1000 });
      const y = await c.job(api, UNITS, { seed: 8, multipleOf: 1000 });
      const [dx, dy] = await Promise.all([run(x.body, { shardRows: 5000 }), run(y.body, { shardRows: 10_000 })]);
      for (const t of x.tables) assert.notEqual(digestsOf(dx.manifest)[t.name], digestsOf(dy.manifest)[t.name]);
    });
  });
}
