// Worker-thread bootstrap when shardflow runs from its TypeScript sources (tsx): a thread registers
// tsx's loader before importing its real entry (a thread does not inherit the parent's hooks).
// Compiled code (`npm run build`) starts dist/engine/shard-thread.js directly; this file is not built.
import { register } from 'tsx/esm/api';

register();
await import('./shard-thread.ts');
