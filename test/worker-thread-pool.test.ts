/** The shard thread pool: concurrent shards each get their own thread, and all of them finish. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPilotModel } from '../src/kinds/trial/pilot.js';
import { resolveTrialSpec } from '../src/kinds/trial/spec.js';
import { ThreadPool } from '../src/engine/thread-pool.js';
import type { ShardJob } from '../src/engine/shard-work.js';
import { tempDataDir } from './support/jobs.js';

async function jobs(n: number): Promise<ShardJob[]> {
  const dataDir = await tempDataDir();
  const spec = resolveTrialSpec({ nPerArm: 12_500, seed: 1 });
  const payload = { kind: 'trial' as const, spec, model: await loadPilotModel() };
  return Array.from({ length: n }, (_, i) => ({
    dataDir,
    jobId: 'job-pool',
    format: 'parquet',
    compression: 'zstd',
    payload,
    shardIndex: i,
    rowStart: i * 1000,
    rowEnd: (i + 1) * 1000,
    partRows: 250,
    partsPerShard: 4,
    resume: [],
  }));
}

test('shards started at the same moment never share a thread; every one completes', { timeout: 60_000 }, async () => {
  for (const size of [1, 2]) {
    const pool = new ThreadPool(size);
    try {
      const work = await jobs(4);
      // all four ask for a thread in the same tick
      const handles = await Promise.all(work.map((j) => pool.run(j, () => undefined)));
      const outcomes = await Promise.all(handles.map((h) => h.result));
      assert.deepEqual(outcomes.map((o) => o.checkpoint.shardIndex), [0, 1, 2, 3]);
      for (const o of outcomes) {
        assert.equal(o.stopped, false);
        assert.equal(o.checkpoint.rowsCommitted, 1000);
        assert.equal(o.checkpoint.parts.length, 4);
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
    const job = { ...one!, rowEnd: 100_000, partsPerShard: 400 };
    let stop!: () => void;
    const handle = await pool.run(job, (cp) => {
      if (cp.parts.length === 1) stop();
    });
    stop = handle.stop;
    const outcome = await handle.result;
    assert.equal(outcome.stopped, true);
    assert.ok(outcome.checkpoint.parts.length >= 1 && outcome.checkpoint.parts.length < 400);
    assert.equal(outcome.checkpoint.rowsCommitted, outcome.checkpoint.parts.length * 250);
  } finally {
    await pool.close();
  }
});
