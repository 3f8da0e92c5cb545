// Worker-thread bootstrap when shardflow runs from its TypeScript sources (tsx): a thread registers
// tsx's loader before importing its real entry. Compiled code starts dist/kinds/trial/fit-thread.js.
import { register } from 'tsx/esm/api';

register();
await import('./fit-thread.ts');
