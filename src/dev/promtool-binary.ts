/**
 * Finds (or, as a last resort, builds) Prometheus' `promtool`, which the tests use to check the
 * alert rules, the Prometheus config and the /metrics output (deploy/prometheus/).
 *
 * Order, first hit wins (src/dev/go-binary.ts, as for the Temporal CLI):
 *   1. `PROMTOOL` (must point at an executable file; a wrong one is an error, never skipped over)
 *   2. `promtool` on `PATH`
 *   3. Go's bin folder: `go env GOBIN`, else `$(go env GOPATH)/bin` (without `go`: `$GOBIN`, `$GOPATH/bin`, `~/go/bin`)
 *   4. `go install github.com/prometheus/prometheus/cmd/promtool@<pinned>` when `go` is on PATH
 *      (progress on stderr; its go.mod needs Go >= 1.26.7)
 * When all fail, the Error lists every place and why it did not qualify.
 */
import { resolveGoTool, type GoTool, type ResolveGoToolOptions } from './go-binary.js';

/** The Prometheus release whose promtool checks deploy/prometheus/ (the compose stack runs prom/prometheus v3.5.0). */
export const PROMTOOL_VERSION = 'v0.316.0';
export const PROMTOOL_MODULE = 'github.com/prometheus/prometheus/cmd/promtool';
export const PROMTOOL_INSTALL = `${PROMTOOL_MODULE}@${PROMTOOL_VERSION}`;

export type ResolvePromtoolOptions = ResolveGoToolOptions;

export class PromtoolNotFoundError extends Error {
  constructor(readonly attempts: { place: string; reason: string }[]) {
    super(
      [
        'could not find promtool (Prometheus). Looked in:',
        ...attempts.map((a, i) => `  ${i + 1}. ${a.place}: ${a.reason}`),
        `Fix: \`go install ${PROMTOOL_INSTALL}\` (Go >= 1.26.7), or put promtool on PATH, or set PROMTOOL=/path/to/promtool.`,
      ].join('\n'),
    );
    this.name = 'PromtoolNotFoundError';
  }
}

/**
 * Returns an absolute path to a usable `promtool`, building it with Go if that is the only way.
 * Throws PromtoolNotFoundError listing every place it looked.
 */
export function resolvePromtoolBinary(opts: ResolvePromtoolOptions = {}): Promise<string> {
  // Without -v: a cold build prints its `go: downloading …` lines, and the package list is long.
  const tool: GoTool = { command: 'promtool', envVar: 'PROMTOOL', install: PROMTOOL_INSTALL, what: 'promtool' };
  return resolveGoTool(tool, opts, (attempts) => new PromtoolNotFoundError(attempts));
}

/** `promtool`'s absolute path from process.env (PROMTOOL → PATH → Go's bin folder → go install). */
export function resolvePromtool(): Promise<string> {
  return resolvePromtoolBinary();
}
