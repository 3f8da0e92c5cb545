/**
 * The demo job `npm run dev` starts once the stack is ready (skip with SHARDFLOW_DEMO=off).
 */
import type { Config } from '../config.js';

export interface DemoContext {
  config: Config;
  /** e.g. http://127.0.0.1:8080 */
  apiUrl: string;
  /** Headers that authenticate against the API (empty while auth is off). */
  apiHeaders: Record<string, string>;
  temporalAddress: string;
  temporalUiUrl?: string;
  namespace: string;
  taskQueue: string;
  databaseUrl: string;
  dataDir: string;
  log: (line: string) => void;
  /** Aborted when the dev stack shuts down. */
  signal: AbortSignal;
}

export async function runDemo(ctx: DemoContext): Promise<void> {
  ctx.log('demo job: available once trial generation lands');
}
