#!/usr/bin/env node
// The `shardflow` command: runs src/cli/main.ts through tsx's ESM loader (no build step).
import { register } from 'tsx/esm/api';

register();
await import(new URL('../src/cli/main.ts', import.meta.url).href);
