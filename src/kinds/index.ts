/** Every built-in kind, one line each. The engine, worker and API take this list; they know no kind by name. */
import { createKindRegistry } from '../engine/kind.js';
import { trial } from './trial/index.js';

export const builtInKinds = createKindRegistry([trial]);
