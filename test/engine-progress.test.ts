/**
 * Shared engine suite, for every kind — progress: counts rows inside running shards (from
 * heartbeats), never goes backwards between two reads, and streams as server-sent events
 * (`progress` at least once a second, then one `status`).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApi, type TestApi } from './support/api.js';
import { engineCases, engineCasesForMillions, type EngineCase } from './support/engine-cases.js';
import { getJob, isDone, postJob, tempDataDir, waitForJob } from './support/jobs.js';
import { uniqueTaskQueue } from './support/stack.js';
import { startTestWorker, type TestWorker } from './support/worker.js';

let api: TestApi;
let worker: TestWorker;

before(async () => {
  const taskQueue = uniqueTaskQueue('progress');
  const dataDir = await tempDataDir();
  api = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: taskQueue, SHARDFLOW_DATA_DIR: dataDir } });
  worker = await startTestWorker({ taskQueue, dataDir, env: { SHARDFLOW_PART_ROWS: '250000', WORKER_THREADS: '2' } });
});
after(async () => {
  for (const c of engineCases) await c.cleanup?.(api);
  await worker?.stop();
  await api?.close();
});

// One shard per table, in parts of 250,000: progress inside a shard can only come from its heartbeats.
const UNITS = 6_000_000;
const jobOf = async (c: EngineCase) => ({
  ...(await c.job(api, UNITS, { seed: 3, multipleOf: 100_000, output: { format: 'csv', compression: 'gzip' } })).body,
  partitioning: { shardRows: UNITS, maxParallelShards: 1 },
});

for (const c of engineCasesForMillions) describe(`kind ${c.kind}`, () => suite(c));

function suite(c: EngineCase) {

  test('progress moves inside a running shard and never goes backwards', async () => {
    const job = await c.job(api, UNITS, { seed: 3, multipleOf: 100_000, output: { format: 'csv', compression: 'gzip' } });
    const { body } = await postJob(api, { ...job.body, partitioning: { shardRows: UNITS, maxParallelShards: 1 } });
    // One shard per table, one at a time: between shards, progress sits at a sum of whole tables.
    const boundaries = new Set(job.tables.map((_, i) => job.tables.slice(0, i + 1).reduce((n, t) => n + t.rows, 0)).concat(0));
    const seen: number[] = [];
    let inside = false;
    let last: any;
    for (;;) {
      last = await getJob(api, body.id);
      seen.push(last.progress.done);
      // Rows of a shard that has not completed: only its heartbeats can tell them.
      if (last.status === 'running' && !boundaries.has(last.progress.done)) inside = true;
      if (isDone(last)) break;
    }
    assert.equal(last.status, 'completed');
    assert.ok(inside, `never saw rows of a running shard: ${seen.join(',')}`);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! >= seen[i - 1]!, `went backwards at read ${i}: ${seen[i - 1]} -> ${seen[i]}`);
    assert.equal(seen.at(-1), UNITS);
    assert.equal(last.progress.fraction, 1);
    assert.ok(last.progress.ratePerSecond > 0);
  });

  test('events: numbered progress at least once a second, then one status; a reconnect with Last-Event-ID continues', async () => {
    const { body } = await postJob(api, await jobOf(c));
    // First connection: two events, then the client drops it.
    const first = await api.request(`/v1/jobs/${body.id}/events`);
    assert.equal(first.status, 200);
    assert.match(first.headers.get('content-type') ?? '', /text\/event-stream/);
    const before = await readEvents(first, 2);
    assert.deepEqual(before.map((e) => e.id), [1, 2]);
    // Second connection, as an EventSource reconnects: numbering carries on, then the final status.
    const events = await readEvents(await api.request(`/v1/jobs/${body.id}/events`, { headers: { 'Last-Event-ID': '2' } }));
    assert.deepEqual(events.map((e) => e.id), events.map((_, i) => 3 + i), 'ids carry on from Last-Event-ID, one by one');
    const progress = events.filter((e) => e.event === 'progress');
    const status = events.filter((e) => e.event === 'status');
    assert.ok(progress.length >= 1, 'no progress events');
    assert.equal(status.length, 1);
    assert.equal(events.at(-1)!.event, 'status');
    assert.equal(status[0]!.data.status, 'completed');
    assert.equal(status[0]!.data.progress.done, UNITS);
    for (let i = 1; i < progress.length; i++) {
      assert.ok(progress[i]!.at - progress[i - 1]!.at <= 1000, 'a gap of more than a second between progress events');
      assert.ok(progress[i]!.data.done >= progress[i - 1]!.data.done);
    }
    assert.equal((await waitForJob(api, body.id, isDone)).status, 'completed');
  });
}

/** Server-sent events of a response until the stream ends (or `max` events, then the connection is dropped). */
async function readEvents(res: Response, max = Infinity): Promise<Array<{ id: number; event: string; data: any; at: number }>> {
  const events: Array<{ id: number; event: string; data: any; at: number }> = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  while (events.length < max) {
    const { value, done } = await reader.read();
    if (done) return events;
    buffer += value;
    let idx: number;
    while (events.length < max && (idx = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, idx);
      buffer = buffer.slice(idx + 2);
      events.push({
        id: Number(/^id: (.*)$/m.exec(block)?.[1]),
        event: /^event: (.*)$/m.exec(block)?.[1] ?? 'message',
        data: JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null'),
        at: Date.now(),
      });
    }
  }
  await reader.cancel();
  return events;
}
