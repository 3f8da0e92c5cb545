/** `npm run worker`: a worker process for the built-in kinds (src/worker/run.ts). */
import { builtInKinds } from '../kinds/index.js';
import { runWorkerProcess } from './run.js';

await runWorkerProcess(builtInKinds);
