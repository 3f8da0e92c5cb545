/** Every built-in kind, one line each. The engine, worker and API take this list; they know no kind by name. */
import { createKindRegistry, type KindRegistry } from '../engine/kind.js';
import { emissions } from './emissions/index.js';
import { patients } from './patients/index.js';
import { createRelationalKind } from './relational/index.js';
import type { RelationalLimits } from './relational/spec.js';
import { trial } from './trial/index.js';

export interface BuiltInKindOptions {
  relational?: RelationalLimits;
}

export function createBuiltInKinds(o: BuiltInKindOptions = {}): KindRegistry {
  return createKindRegistry([trial, createRelationalKind(o.relational), emissions, patients]);
}

/** With default limits (workers, tests); the API passes its configured ones. */
export const builtInKinds = createBuiltInKinds();
