#!/usr/bin/env node
// The `shardflow` command. In a checkout (src/ present) it runs src/cli/main.ts through tsx's ESM
// loader, so it never runs a stale build; without src/ (the production image) it runs the compiled
// dist/cli/main.js (`npm run build`), which needs no tsx.
import { existsSync } from 'node:fs';

const sources = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(sources.href);
} else {
  await import(new URL('../dist/cli/main.js', import.meta.url).href);
}
