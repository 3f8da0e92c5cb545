/**
 * Finds (or, as a last resort, builds) the `temporal` CLI that runs the embedded dev server.
 *
 * Order, first hit wins:
 *   1. `TEMPORAL_CLI` (must point at an executable file)
 *   2. `temporal` on `PATH`
 *   3. Go's bin folder: `go env GOBIN`, else `$(go env GOPATH)/bin` (without `go`: `$GOBIN`, `$GOPATH/bin`, `~/go/bin`)
 *   4. `go install github.com/temporalio/cli/cmd/temporal@<pinned>` when `go` is on PATH (progress on stderr)
 *   5. the Temporal SDK's cached download of the CLI in the temp dir (`temporal-<version>`,
 *      `temporal-sdk-typescript-<sdk version>`; older SDKs used a `temporal-cli-` prefix). Only looked at, never fetched.
 * When all fail, the Error lists every place and why it did not qualify.
 */
import { spawn, execFile } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** The Temporal CLI release shardflow is developed and tested against (Server 1.29.1, UI 2.42.1). */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
export const TEMPORAL_CLI_INSTALL = `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`;

export interface ResolveTemporalBinaryOptions {
  /** Environment to resolve in (PATH, TEMPORAL_CLI, GOBIN, GOPATH, HOME, TMPDIR). Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Progress lines (which place matched, that a build starts). Defaults to stderr. */
  log?: (line: string) => void;
  /** Set false to never run `go install` (only look). Default true. */
  allowBuild?: boolean;
}

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

const exe = process.platform === 'win32' ? '.exe' : '';

async function isExecutableFile(file: string): Promise<string | null> {
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) return 'not a regular file';
    await fs.access(file, fsConstants.X_OK);
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'does not exist';
    if (code === 'EACCES') return 'not executable';
    return String((err as Error).message);
  }
}

/** Like `which`: the first executable `name` on the PATH of `env`. */
export async function findOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  const dirs = (env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const dir of dirs) {
    const candidate = path.join(dir, name + exe);
    if ((await isExecutableFile(candidate)) === null) return candidate;
  }
  return null;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(file)} ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

async function goBinDirs(goBin: string | null, env: NodeJS.ProcessEnv): Promise<{ dirs: string[]; note?: string }> {
  if (goBin) {
    try {
      const [gobin = '', gopath = ''] = (await run(goBin, ['env', 'GOBIN', 'GOPATH'], env)).split('\n').map((s) => s.trim());
      if (gobin) return { dirs: [gobin] };
      const first = gopath.split(path.delimiter).find(Boolean);
      if (first) return { dirs: [path.join(first, 'bin')] };
    } catch (err) {
      return { dirs: fallbackGoBinDirs(env), note: (err as Error).message };
    }
  }
  return { dirs: fallbackGoBinDirs(env) };
}

function fallbackGoBinDirs(env: NodeJS.ProcessEnv): string[] {
  const dirs: string[] = [];
  if (env.GOBIN) dirs.push(env.GOBIN);
  const gopath = env.GOPATH?.split(path.delimiter).find(Boolean);
  if (gopath) dirs.push(path.join(gopath, 'bin'));
  const home = env.HOME ?? env.USERPROFILE;
  if (home) dirs.push(path.join(home, 'go', 'bin'));
  return [...new Set(dirs)];
}

async function goInstall(goBin: string, env: NodeJS.ProcessEnv, log: (l: string) => void): Promise<void> {
  log(`building the Temporal CLI: go install ${TEMPORAL_CLI_INSTALL} (takes a few minutes the first time)`);
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    // -v lists packages as they compile, so a slow first build shows it is alive.
    const child = spawn(goBin, ['install', '-v', TEMPORAL_CLI_INSTALL], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`go install exited with ${signal ?? `code ${code}`}`)),
    );
  });
  log(`built the Temporal CLI in ${((Date.now() - started) / 1000).toFixed(0)} s`);
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

/**
 * Returns an absolute path to a usable `temporal` CLI, building it with Go if that is the only way.
 * Throws TemporalBinaryNotFoundError listing every place it looked.
 */
export async function resolveTemporalBinary(opts: ResolveTemporalBinaryOptions = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((line: string) => process.stderr.write(`[temporal-cli] ${line}\n`));
  const attempts: { place: string; reason: string }[] = [];
  const found = (file: string, how: string): string => {
    log(`using ${file} (${how})`);
    return path.resolve(file);
  };

  // 1. explicit
  if (env.TEMPORAL_CLI) {
    const why = await isExecutableFile(env.TEMPORAL_CLI);
    if (why === null) return found(env.TEMPORAL_CLI, 'TEMPORAL_CLI');
    // An explicit setting that is wrong is an error in itself: do not silently pick another binary.
    throw new TemporalBinaryNotFoundError([{ place: `TEMPORAL_CLI=${env.TEMPORAL_CLI}`, reason: why }]);
  }
  attempts.push({ place: 'TEMPORAL_CLI', reason: 'not set' });

  // 2. PATH
  const onPath = await findOnPath('temporal', env);
  if (onPath) return found(onPath, 'PATH');
  attempts.push({ place: 'PATH', reason: env.PATH ? `no executable "temporal" in ${env.PATH}` : 'PATH is empty' });

  // 3. Go's bin folder
  const goBin = await findOnPath('go', env);
  const { dirs, note } = await goBinDirs(goBin, env);
  for (const dir of dirs) {
    const candidate = path.join(dir, 'temporal' + exe);
    const why = await isExecutableFile(candidate);
    if (why === null) return found(candidate, "Go's bin folder");
    attempts.push({ place: candidate, reason: why + (note ? ` (${note})` : '') });
  }
  if (dirs.length === 0) attempts.push({ place: "Go's bin folder", reason: 'no go on PATH and none of GOBIN, GOPATH, HOME set' });

  // 4. build with go
  if (!goBin) {
    attempts.push({ place: `go install ${TEMPORAL_CLI_INSTALL}`, reason: 'no "go" on PATH' });
  } else if (opts.allowBuild === false) {
    attempts.push({ place: `go install ${TEMPORAL_CLI_INSTALL}`, reason: 'building was not allowed (allowBuild: false)' });
  } else {
    try {
      await goInstall(goBin, env, log);
      const after = await goBinDirs(goBin, env);
      for (const dir of after.dirs) {
        const candidate = path.join(dir, 'temporal' + exe);
        if ((await isExecutableFile(candidate)) === null) return found(candidate, 'just built with go install');
      }
      attempts.push({
        place: `go install ${TEMPORAL_CLI_INSTALL}`,
        reason: `succeeded but no temporal binary appeared in ${after.dirs.join(', ')}`,
      });
    } catch (err) {
      attempts.push({ place: `go install ${TEMPORAL_CLI_INSTALL}`, reason: (err as Error).message });
    }
  }

  // 5. the SDK's cached download
  const cacheDir = sdkCacheDir(env);
  const cached = await findSdkCachedCli(cacheDir);
  if (cached.file) return found(cached.file, "Temporal SDK's cached download");
  attempts.push({ place: `Temporal SDK download cache (${cacheDir})`, reason: cached.reason });

  throw new TemporalBinaryNotFoundError(attempts);
}
