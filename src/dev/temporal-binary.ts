/**
 * Finds (or, as a last resort, builds) the `temporal` CLI that runs the embedded dev server.
 *
 * Order, first hit wins (src/dev/go-binary.ts does steps 1-4):
 *   1. `TEMPORAL_CLI` (must point at an executable file)
 *   2. `temporal` on `PATH`
 *   3. Go's bin folder: `go env GOBIN`, else `$(go env GOPATH)/bin` (without `go`: `$GOBIN`, `$GOPATH/bin`, `~/go/bin`)
 *   4. `go install github.com/temporalio/cli/cmd/temporal@<pinned>` when `go` is on PATH (progress on stderr)
 *   5. the Temporal SDK's cached download of the CLI in the temp dir (`temporal-<version>`,
 *      `temporal-sdk-typescript-<sdk version>`; older SDKs used a `temporal-cli-` prefix). Only looked at, never fetched.
 * When all fail, the Error lists every place and why it did not qualify.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { exe, isExecutableFile, resolveGoTool, type GoTool, type ResolveGoToolOptions } from './go-binary.js';

export { findOnPath } from './go-binary.js';

/** The Temporal CLI release shardflow is developed and tested against (Server 1.29.1, UI 2.42.1). */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
export const TEMPORAL_CLI_INSTALL = `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`;

export type ResolveTemporalBinaryOptions = ResolveGoToolOptions;

export class TemporalBinaryNotFoundError extends Error {
  constructor(readonly attempts: { place: string; reason: string }[]) {
    super(
      [
        'could not find the Temporal CLI (`temporal`). Looked in:',
        ...attempts.map((a, i) => `  ${i + 1}. ${a.place}: ${a.reason}`),
        `Fix: install it (https://docs.temporal.io/cli, or \`go install ${TEMPORAL_CLI_INSTALL}\`) and/or set TEMPORAL_CLI=/path/to/temporal.`,
      ].join('\n'),
    );
    this.name = 'TemporalBinaryNotFoundError';
  }
}

/** Where the Temporal SDKs' ephemeral dev server keeps its downloaded CLI (core's `std::env::temp_dir()`). */
export function sdkCacheDir(env: NodeJS.ProcessEnv): string {
  return env.TMPDIR || env.TEMP || env.TMP || os.tmpdir();
}

function versionKey(name: string): number[] {
  return (name.match(/\d+/g) ?? []).map(Number);
}

async function findSdkCachedCli(dir: string): Promise<{ file: string | null; reason: string }> {
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch (err) {
    return { file: null, reason: `cannot read ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  const pattern = /^temporal(?:-cli)?-(?:sdk-[a-z]+-)?v?\d+\.\d+\.\d+[^/]*?(?:\.exe)?$/;
  const pinned = [`temporal-${TEMPORAL_CLI_VERSION}`, `temporal-${TEMPORAL_CLI_VERSION.slice(1)}`].map((n) => n + exe);
  const matches = entries
    .filter((n) => pattern.test(n) && !n.endsWith('.tar.gz') && !n.endsWith('.zip') && !n.endsWith('.tmp'))
    .sort((a, b) => {
      const pa = pinned.includes(a) ? 1 : 0;
      const pb = pinned.includes(b) ? 1 : 0;
      if (pa !== pb) return pb - pa;
      const ka = versionKey(a);
      const kb = versionKey(b);
      for (let i = 0; i < Math.max(ka.length, kb.length); i++) {
        const d = (kb[i] ?? 0) - (ka[i] ?? 0);
        if (d) return d;
      }
      return 0;
    });
  for (const name of matches) {
    const file = path.join(dir, name);
    if ((await isExecutableFile(file)) === null) return { file, reason: '' };
  }
  return {
    file: null,
    reason: matches.length
      ? `found ${matches.join(', ')} in ${dir} but none is an executable file`
      : `no temporal-<version> / temporal-sdk-typescript-<version> download in ${dir}`,
  };
}

/** The `temporal` command as a Go tool, with the SDK's cached download as the last place to look. */
const TEMPORAL_TOOL: GoTool = {
  command: 'temporal',
  envVar: 'TEMPORAL_CLI',
  install: TEMPORAL_CLI_INSTALL,
  what: 'the Temporal CLI',
  // -v lists packages as they compile, so a slow first build shows it is alive.
  installFlags: ['-v'],
  async fallback(env) {
    const cacheDir = sdkCacheDir(env);
    const cached = await findSdkCachedCli(cacheDir);
    return { file: cached.file, place: `Temporal SDK download cache (${cacheDir})`, reason: cached.reason, how: "Temporal SDK's cached download" };
  },
};

/**
 * Returns an absolute path to a usable `temporal` CLI, building it with Go if that is the only way.
 * Throws TemporalBinaryNotFoundError listing every place it looked.
 */
export function resolveTemporalBinary(opts: ResolveTemporalBinaryOptions = {}): Promise<string> {
  return resolveGoTool(TEMPORAL_TOOL, opts, (attempts) => new TemporalBinaryNotFoundError(attempts));
}
