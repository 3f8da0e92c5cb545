/** What tests and benchmarks use of the relational kind (one import). */
export { createRelationalTables, columnSchema } from './generate.js';
export { computeLayouts } from './layout.js';
export { normalizeRelational } from './normalize.js';
export { createPermutation } from './permute.js';
export { relational, relationalTables, RELATIONAL_EXAMPLE } from './index.js';
export { DEFAULT_LIMITS, type RelationalSpec } from './spec.js';
export type { RelationalSpecBody } from './schema.js';
