/** A trivial workflow round trip through a real worker on a real Temporal server. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import { echoWorkflow } from '../src/workflows/echo.js';
import { tempDataDir } from './support/jobs.js';
import { uniqueTaskQueue } from './support/stack.js';
import { startTestWorker, type TestWorker } from './support/worker.js';

let worker: TestWorker;
let connection: Connection;
const taskQueue = uniqueTaskQueue('echo');

before(async () => {
  worker = await startTestWorker({ taskQueue, dataDir: await tempDataDir() });
  connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
});
after(async () => {
  await worker?.stop();
  await connection?.close();
});

test('echoWorkflow runs its activity on the worker and returns', async () => {
  const client = new Client({ connection });
  const result = await client.workflow.execute(echoWorkflow, { taskQueue, workflowId: `echo-${taskQueue}`, args: ['hello shardflow'] });
  assert.equal(result.message, 'hello shardflow');
  assert.match(result.worker, /:\d+$/);
  const described = await client.workflow.getHandle(`echo-${taskQueue}`).describe();
  assert.equal(described.status.name, 'COMPLETED');
  assert.equal(described.taskQueue, taskQueue);
});
