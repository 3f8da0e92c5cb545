/**
 * promtool for tests: PROMTOOL, PATH or Go's bin folder (src/dev/promtool-binary.ts; .ci/run builds
 * it with `go install` and exports PROMTOOL). Tests only look, never build. Missing under CI (CI
 * set, not "false"/"0"): the tests that need it fail saying so; elsewhere they are skipped with
 * the reason and the command that installs it.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PROMTOOL_INSTALL, PromtoolNotFoundError, resolvePromtoolBinary } from '../../src/dev/promtool-binary.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const inCi = Boolean(process.env.CI) && !['false', '0'].includes(process.env.CI!.toLowerCase());

let promtool: string | undefined;
export const promtoolMissing: string | false = await resolvePromtoolBinary({ allowBuild: false, log: () => {} }).then(
  (file) => {
    promtool = file;
    return false;
  },
  (err: unknown) =>
    `promtool not found (${err instanceof PromtoolNotFoundError ? err.attempts.map((a) => `${a.place}: ${a.reason}`).join('; ') : String(err)}); ` +
    `install it with \`go install ${PROMTOOL_INSTALL}\` or set PROMTOOL`,
);
/** Under CI a missing promtool is a failure, never a skip. */
export const needsPromtool = { skip: inCi ? false : promtoolMissing };

function requirePromtool(): string {
  if (!promtool) throw new Error(`CI=${process.env.CI}: these checks need promtool and it is missing: ${promtoolMissing}`);
  return promtool;
}

/** Runs promtool in the repository root (`input` on its stdin); its exit code and output. */
export function runPromtool(args: string[], input?: string): Promise<{ code: number; out: string }> {
  const bin = requirePromtool();
  return new Promise((resolve) => {
    const child = execFile(bin, args, { cwd: root, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}
