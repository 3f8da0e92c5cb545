/**
 * Finds (or, as a last resort, builds) Prometheus' `promtool`, which the tests use to check the
 * alert rules, the Prometheus config and the /metrics output (deploy/prometheus/).
 *
 * Order, first hit wins (the same as src/dev/temporal-binary.ts):
 *   1. `PROMTOOL` (must point at an executable file; a wrong one is an error, never skipped over)
 *   2. `promtool` on `PATH`
 *   3. Go's bin folder: `go env GOBIN`, else `$(go env GOPATH)/bin` (without `go`: `$GOBIN`, `$GOPATH/bin`, `~/go/bin`)
 *   4. `go install github.com/prometheus/prometheus/cmd/promtool@<pinned>` when `go` is on PATH
 *      (progress on stderr; its go.mod needs Go >= 1.26.7)
 * When all fail, the Error lists every place and why it did not qualify.
 */
import { execFile, spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { findOnPath } from './temporal-binary.js';

/** The Prometheus release whose promtool checks deploy/prometheus/ (the compose stack runs prom/prometheus v3.5.0). */
export const PROMTOOL_VERSION = 'v0.316.0';
export const PROMTOOL_MODULE = 'github.com/prometheus/prometheus/cmd/promtool';
export const PROMTOOL_INSTALL = `${PROMTOOL_MODULE}@${PROMTOOL_VERSION}`;

export interface ResolvePromtoolOptions {
  /** Environment to resolve in (PATH, PROMTOOL, GOBIN, GOPATH, HOME). Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Progress lines (which place matched, that a build starts). Defaults to stderr. */
  log?: (line: string) => void;
  /** Set false to never run `go install` (only look). Default true. */
  allowBuild?: boolean;
}

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

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(file)} ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
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

async function goInstall(goBin: string, env: NodeJS.ProcessEnv, log: (l: string) => void): Promise<void> {
  log(`building promtool: go install ${PROMTOOL_INSTALL} (a few minutes the first time)`);
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    // Without -v: a cold build prints its `go: downloading …` lines, and the package list is long.
    const child = spawn(goBin, ['install', PROMTOOL_INSTALL], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`go install exited with ${signal ?? `code ${code}`}`)),
    );
  });
  log(`built promtool in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/**
 * Returns an absolute path to a usable `promtool`, building it with Go if that is the only way.
 * Throws PromtoolNotFoundError listing every place it looked.
 */
export async function resolvePromtoolBinary(opts: ResolvePromtoolOptions = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((line: string) => process.stderr.write(`[promtool] ${line}\n`));
  const attempts: { place: string; reason: string }[] = [];
  const found = (file: string, how: string): string => {
    log(`using ${file} (${how})`);
    return path.resolve(file);
  };

  // 1. explicit
  if (env.PROMTOOL) {
    const why = await isExecutableFile(env.PROMTOOL);
    if (why === null) return found(env.PROMTOOL, 'PROMTOOL');
    throw new PromtoolNotFoundError([{ place: `PROMTOOL=${env.PROMTOOL}`, reason: why }]);
  }
  attempts.push({ place: 'PROMTOOL', reason: 'not set' });

  // 2. PATH
  const onPath = await findOnPath('promtool', env);
  if (onPath) return found(onPath, 'PATH');
  attempts.push({ place: 'PATH', reason: env.PATH ? `no executable "promtool" in ${env.PATH}` : 'PATH is empty' });

  // 3. Go's bin folder
  const goBin = await findOnPath('go', env);
  const { dirs, note } = await goBinDirs(goBin, env);
  for (const dir of dirs) {
    const candidate = path.join(dir, 'promtool' + exe);
    const why = await isExecutableFile(candidate);
    if (why === null) return found(candidate, "Go's bin folder");
    attempts.push({ place: candidate, reason: why + (note ? ` (${note})` : '') });
  }
  if (dirs.length === 0) attempts.push({ place: "Go's bin folder", reason: 'no go on PATH and none of GOBIN, GOPATH, HOME set' });

  // 4. build with go
  if (!goBin) {
    attempts.push({ place: `go install ${PROMTOOL_INSTALL}`, reason: 'no "go" on PATH' });
  } else if (opts.allowBuild === false) {
    attempts.push({ place: `go install ${PROMTOOL_INSTALL}`, reason: 'building was not allowed (allowBuild: false)' });
  } else {
    try {
      await goInstall(goBin, env, log);
      const after = await goBinDirs(goBin, env);
      for (const dir of after.dirs) {
        const candidate = path.join(dir, 'promtool' + exe);
        if ((await isExecutableFile(candidate)) === null) return found(candidate, 'just built with go install');
      }
      attempts.push({
        place: `go install ${PROMTOOL_INSTALL}`,
        reason: `succeeded but no promtool binary appeared in ${after.dirs.join(', ')}`,
      });
    } catch (err) {
      attempts.push({ place: `go install ${PROMTOOL_INSTALL}`, reason: (err as Error).message });
    }
  }

  throw new PromtoolNotFoundError(attempts);
}

/** `promtool`'s absolute path from process.env (PROMTOOL → PATH → Go's bin folder → go install). */
export function resolvePromtool(): Promise<string> {
  return resolvePromtoolBinary();
}
