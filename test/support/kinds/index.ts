/** The kinds tests run: every built-in kind, plus the test-only `ledger` (one line, as for any kind). */
import { createKindRegistry } from '../../../src/engine/kind.js';
import { builtInKinds } from '../../../src/kinds/index.js';
import { ledger } from './ledger/index.js';

export const testKinds = createKindRegistry([...builtInKinds.list, ledger]);
