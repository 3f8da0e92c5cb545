/** Fitting a model to a CSV on a worker thread of its own (src/kinds/trial/fit-thread.ts). */
import { Worker } from 'node:worker_threads';
import type { TrialModel } from './model.js';

export type FitOutcome =
  | { kind: 'ok'; json: string; summary: TrialModel; sourceRows: number }
  | { kind: 'csv'; count: number; errors: Array<{ line: number; message: string }> }
  | { kind: 'fit'; errors: Array<{ path: string; message: string }> }
  | { kind: 'error'; message: string };

const ENTRY = import.meta.url.endsWith('.ts') ? new URL('./fit-thread-boot.mjs', import.meta.url) : new URL('./fit-thread.js', import.meta.url);

export function fitCsvOffThread(csv: Uint8Array): Promise<FitOutcome> {
  const bytes = new Uint8Array(csv); // a copy the thread may own
  return new Promise((resolve, reject) => {
    const worker = new Worker(ENTRY, { workerData: { bytes }, transferList: [bytes.buffer as ArrayBuffer] });
    let settled = false;
    worker.once('message', (m: FitOutcome) => {
      settled = true;
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', (err) => {
      if (!settled) reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the model fit thread exited with code ${code}`));
    });
  });
}
