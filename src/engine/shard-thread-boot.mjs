// Worker-thread bootstrap: shardflow runs from its TypeScript sources, so a thread registers
// tsx's loader before importing its real entry (a thread does not inherit the parent's hooks).
import { register } from 'tsx/esm/api';

register();
await import('./shard-thread.ts');
