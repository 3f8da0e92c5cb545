/** A worker process for tests: the real worker (src/worker/run.ts) with the test kinds too. */
import { runWorkerProcess } from '../../src/worker/run.js';
import { testKinds } from './kinds/index.js';

await runWorkerProcess(testKinds);
