/** The shard thread pool: concurrent shards each get their own thread, and all of them finish. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPilotModel } from '../src/kinds/trial/pilot.js';
import { resolveTrialSpec } from '../src/kinds/trial/spec.js';
import { trial } from '../src/kinds/trial/index.js';
import { ThreadPool, type ShardListener } from '../src/engine/thread-pool.js';
import type { ShardThreadJob } from '../src/engine/shard-thread.js';
import type { ShardState } from '../src/engine/types.js';
import { tempDataDir } from './support/jobs.js';

async function jobs(n: number): Promise<ShardThreadJob[]> {
  const dataDir = await tempDataDir();
  const spec = resolveTrialSpec({ nPerArm: 12_500, seed: 1 });
  const payload = { spec, model: await loadPilotModel() };
  const input = {
    jobId: 'job-pool',
    tenantId: 'local',
    kind: 'trial',
    spec: spec as unknown as Record<string, unknown>,
    output: { format: 'parquet', compression: 'zstd' },
    partitioning: { shardRows: 1000, maxParallelShards: 4 },
  } as const;
  return Array.from({ length: n }, (_, i) => ({
    module: trial.shardModule.href,
    dataDir,
    input,
    shard: { index: i, table: 'vitals', start: i * 1000, end: (i + 1) * 1000, partSize: 250, firstPart: i * 4 },
    payload,
    resume: undefined,
  }));
}

const quiet: ShardListener = { progress: () => undefined, commit: () => undefined };

test('shards started at the same moment never share a thread; every one completes', { timeout: 60_000 }, async () => {
  for (const size of [1, 2]) {
    const pool = new ThreadPool(size);
    try {
      const work = await jobs(4);
      // all four ask for a thread in the same tick
      const handles = await Promise.all(work.map((j) => pool.run(j, quiet)));
      const outcomes = await Promise.all(handles.map((h) => h.result));
      assert.deepEqual(outcomes.map((o) => o.state.shardIndex), [0, 1, 2, 3]);
      for (const o of outcomes) {
        assert.equal(o.stopped, false);
        assert.equal(o.state.complete, true);
        assert.equal(o.state.unitsCommitted, 1000);
        assert.equal(o.state.files.length, 4);
      }
      assert.equal(pool.busy, 0);
    } finally {
      await pool.close();
    }
  }
});

test('stop: a shard stops after its current part and reports its checkpoint', { timeout: 60_000 }, async () => {
  const pool = new ThreadPool(1);
  try {
    // a long shard of 400 parts: the stop request lands long before its end
    const [one] = await jobs(1);
    const job = { ...one!, shard: { ...one!.shard, end: 100_000 } };
    let stop!: () => void;
    const commits: ShardState[] = [];
    const handle = await pool.run(job, {
      progress: () => undefined,
      commit: (s) => {
        commits.push(s);
        if (s.files.length === 1) stop();
      },
    });
    stop = handle.stop;
    const outcome = await handle.result;
    assert.equal(outcome.stopped, true);
    assert.equal(outcome.state.complete, false);
    assert.ok(outcome.state.files.length >= 1 && outcome.state.files.length < 400);
    assert.equal(outcome.state.unitsCommitted, outcome.state.files.length * 250);
    assert.deepEqual(commits.at(-1), outcome.state, 'the last commit is the outcome');
    assert.equal(outcome.state.files[0]!.name, 'vitals/part-00000.parquet');
  } finally {
    await pool.close();
  }
});
