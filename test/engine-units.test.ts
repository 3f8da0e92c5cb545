/** The engine's pure parts: range bookkeeping, the shard grid, and the progress arithmetic. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { addToRanges, countRanges, inRanges, type Ranges } from '../src/engine/ranges.js';
import { partsPerShard, shardAt, shardCount } from '../src/engine/plan.js';
import { liveProgress, type ProgressReading } from '../src/engine/progress.js';
import type { JobProgress, PlanSegment } from '../src/engine/types.js';

describe('ranges', () => {
  test('adding in any order gives the same merged ranges', () => {
    const order = [5, 1, 3, 2, 9, 4, 0, 8, 7, 6];
    let r: Ranges = [];
    const seen: Ranges[] = [];
    for (const i of order) seen.push((r = addToRanges(r, i)));
    assert.deepEqual(seen[1], [[1, 1], [5, 5]]);
    assert.deepEqual(seen[3], [[1, 3], [5, 5]]);
    assert.deepEqual(seen[5], [[1, 5], [9, 9]], '4 joins [1,3] and [5,5]');
    assert.deepEqual(r, [[0, 9]]);
    assert.equal(countRanges(r), 10);
  });

  test('adding a member again changes nothing; the input is not mutated', () => {
    const r: Ranges = [[0, 2], [6, 8]];
    assert.deepEqual(addToRanges(r, 7), r);
    const copy = structuredClone(r);
    addToRanges(r, 4);
    assert.deepEqual(r, copy);
    assert.deepEqual(addToRanges(r, 4), [[0, 2], [4, 4], [6, 8]]);
    assert.deepEqual(addToRanges(r, 3), [[0, 3], [6, 8]]);
    assert.deepEqual(addToRanges(addToRanges(r, 3), 5), [[0, 3], [5, 8]]);
    assert.deepEqual(addToRanges(addToRanges(addToRanges(r, 3), 5), 4), [[0, 8]]);
  });

  test('membership and count agree with a set, over random additions', () => {
    let r: Ranges = [];
    const set = new Set<number>();
    let x = 12345;
    for (let k = 0; k < 2000; k++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const i = x % 500;
      set.add(i);
      r = addToRanges(r, i);
    }
    assert.equal(countRanges(r), set.size);
    for (let i = 0; i < 500; i++) assert.equal(inRanges(r, i), set.has(i), String(i));
    for (let k = 1; k < r.length; k++) assert.ok(r[k]![0] > r[k - 1]![1] + 1, 'disjoint and not adjacent');
  });
});

describe('shard grid', () => {
  const seg = (table: string, start: number, end: number, shardSize: number, partSize: number): PlanSegment => ({ table, start, end, shardSize, partSize, units: end - start });

  test('segments are cut into shards; part numbers run on within a table and restart for the next', () => {
    const plan = { segments: [seg('a', 0, 25, 10, 4), seg('b', 0, 7, 10, 4), seg('a', 100, 105, 10, 4)] };
    assert.equal(shardCount(plan.segments), 3 + 1 + 1);
    assert.equal(partsPerShard(plan.segments[0]!), 3);
    const shards = Array.from({ length: 5 }, (_, i) => shardAt(plan, i));
    assert.deepEqual(
      shards.map((s) => [s.table, s.start, s.end, s.firstPart]),
      [
        ['a', 0, 10, 0],
        ['a', 10, 20, 3],
        ['a', 20, 25, 6],
        ['b', 0, 7, 0],
        ['a', 100, 105, 9],
      ],
    );
    assert.throws(() => shardAt(plan, 5), RangeError);
  });

  test('every index of every segment is in exactly one shard', () => {
    const plan = { segments: [seg('x', 0, 1001, 7, 3), seg('y', 0, 0, 7, 3), seg('z', 0, 64, 64, 64)] };
    const covered = new Map<string, number>();
    for (let i = 0; i < shardCount(plan.segments); i++) {
      const s = shardAt(plan, i);
      assert.ok(s.end > s.start && s.end - s.start <= 64);
      for (let r = s.start; r < s.end; r++) covered.set(`${s.table}:${r}`, (covered.get(`${s.table}:${r}`) ?? 0) + 1);
    }
    assert.equal(covered.size, 1001 + 64);
    assert.ok([...covered.values()].every((n) => n === 1));
  });
});

describe('progress arithmetic', () => {
  const query = (q: Partial<JobProgress> = {}): JobProgress => ({
    unit: 'rows',
    done: 400,
    total: 1000,
    fraction: 0.4,
    ratePerSecond: null,
    etaSeconds: null,
    shards: { total: 10, completed: 4, running: 2 },
    paused: false,
    phase: 'running',
    runningShards: [4, 5],
    runs: 0,
    ...q,
  });
  const reading = (r: Partial<ProgressReading> = {}): ProgressReading => ({
    status: 'running',
    unit: 'rows',
    total: 1000,
    query: query(),
    heartbeats: [],
    highWater: 0,
    startedAt: 0,
    now: 10_000,
    ...r,
  });

  test('running: completed shards plus the running shards’ heartbeats; rate and ETA from them', () => {
    const p = liveProgress(reading({ heartbeats: [{ shardIndex: 4, unitsDone: 50 }, { shardIndex: 5, unitsDone: 50 }, { shardIndex: 3, unitsDone: 99 }] }));
    assert.equal(p.done, 500, 'the heartbeat of shard 3, no longer running, is not counted');
    assert.equal(p.fraction, 0.5);
    assert.equal(p.ratePerSecond, 50);
    assert.equal(p.etaSeconds, 10);
    assert.deepEqual(p.shards, { total: 10, completed: 4, running: 2 });
  });

  test('never below the previous answer, never above the total', () => {
    assert.equal(liveProgress(reading({ highWater: 600 })).done, 600);
    assert.equal(liveProgress(reading({ heartbeats: [{ shardIndex: 4, unitsDone: 5000 }] })).done, 1000);
    assert.equal(liveProgress(reading({ query: undefined, highWater: 300 })).done, 300, 'no answer from the workflow: the last good value');
  });

  test('paused: no rate and no ETA (they would decay while nothing runs)', () => {
    const p = liveProgress(reading({ status: 'paused', query: query({ paused: true, runningShards: [], shards: { total: 10, completed: 4, running: 0 } }), now: 1_000_000 }));
    assert.equal(p.done, 400);
    assert.equal(p.ratePerSecond, null);
    assert.equal(p.etaSeconds, null);
  });

  test('completed: everything done, the rate over the whole run, ETA 0, shards from the result', () => {
    const p = liveProgress(reading({ status: 'completed', query: undefined, shards: { total: 10, completed: 10, running: 0 }, finishedAt: 20_000, now: 99_000 }));
    assert.deepEqual(p, { unit: 'rows', done: 1000, total: 1000, fraction: 1, ratePerSecond: 50, etaSeconds: 0, shards: { total: 10, completed: 10, running: 0 }, phase: 'done' });
  });

  test('finalizing (a load adding its keys): the phase says so; all rows done, no rate or ETA yet', () => {
    const p = liveProgress(reading({ query: query({ phase: 'finalizing', done: 1000, fraction: 1, runningShards: [], shards: { total: 10, completed: 10, running: 0 } }) }));
    assert.deepEqual([p.phase, p.done, p.fraction, p.ratePerSecond, p.etaSeconds], ['finalizing', 1000, 1, null, null]);
    assert.equal(liveProgress(reading()).phase, 'running');
    assert.equal(liveProgress(reading({ query: undefined })).phase, null, 'no answer from the workflow');
  });

  test('failed or cancelled: what was done stays, no rate', () => {
    for (const status of ['failed', 'cancelled'] as const) {
      const p = liveProgress(reading({ status, query: undefined, highWater: 450, finishedAt: 5000 }));
      assert.equal(p.done, 450);
      assert.equal(p.ratePerSecond, null);
      assert.equal(p.etaSeconds, null);
    }
  });
});
