/**
 * Finding (or, as a last resort, building with `go install`) a Go tool the project runs: the
 * Temporal CLI (src/dev/temporal-binary.ts) and promtool (src/dev/promtool-binary.ts).
 *
 * Order, first hit wins:
 *   1. the tool's variable (must point at an executable file; a wrong one is an error, never skipped over)
 *   2. the command on `PATH`
 *   3. Go's bin folder: `go env GOBIN`, else `$(go env GOPATH)/bin` (without `go`: `$GOBIN`, `$GOPATH/bin`, `~/go/bin`)
 *   4. `go install <module>@<pinned>` when `go` is on PATH (progress on stderr)
 *   5. the tool's own fallback, if it has one
 * Every place that did not qualify is kept with its reason, for the error.
 */
import { execFile, spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

export const exe = process.platform === 'win32' ? '.exe' : '';

export interface Attempt {
  place: string;
  reason: string;
}

export interface GoTool {
  /** The command, e.g. `temporal`. */
  command: string;
  /** The variable that names the binary, e.g. `TEMPORAL_CLI`. */
  envVar: string;
  /** `module@version` for `go install`. */
  install: string;
  /** For progress lines, e.g. "the Temporal CLI". */
  what: string;
  /** Extra `go install` flags (e.g. `-v`). */
  installFlags?: string[];
  /** Where to look last when everything else failed (step 5). */
  fallback?: (env: NodeJS.ProcessEnv) => Promise<{ file: string | null; place: string; reason: string; how: string }>;
}

export interface ResolveGoToolOptions {
  /** Environment to resolve in (PATH, the tool's variable, GOBIN, GOPATH, HOME, TMPDIR). Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Progress lines (which place matched, that a build starts). Defaults to stderr. */
  log?: (line: string) => void;
  /** Set false to never run `go install` (only look). Default true. */
  allowBuild?: boolean;
}

/** null when `file` is an executable regular file, else why not. */
export async function isExecutableFile(file: string): Promise<string | null> {
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

async function goInstall(tool: GoTool, goBin: string, env: NodeJS.ProcessEnv, log: (l: string) => void): Promise<void> {
  log(`building ${tool.what}: go install ${tool.install} (takes a few minutes the first time)`);
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(goBin, ['install', ...(tool.installFlags ?? []), tool.install], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`go install exited with ${signal ?? `code ${code}`}`))));
  });
  log(`built ${tool.what} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/**
 * An absolute path to a usable binary of `tool`, building it with Go if that is the only way;
 * otherwise throws `notFound(attempts)` (every place and why it did not qualify).
 */
export async function resolveGoTool(tool: GoTool, opts: ResolveGoToolOptions, notFound: (attempts: Attempt[]) => Error): Promise<string> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((line: string) => process.stderr.write(`[${tool.command}] ${line}\n`));
  const attempts: Attempt[] = [];
  const found = (file: string, how: string): string => {
    log(`using ${file} (${how})`);
    return path.resolve(file);
  };

  // 1. explicit: a wrong setting is an error in itself, never silently replaced by another binary
  const named = env[tool.envVar];
  if (named) {
    const why = await isExecutableFile(named);
    if (why === null) return found(named, tool.envVar);
    throw notFound([{ place: `${tool.envVar}=${named}`, reason: why }]);
  }
  attempts.push({ place: tool.envVar, reason: 'not set' });

  // 2. PATH
  const onPath = await findOnPath(tool.command, env);
  if (onPath) return found(onPath, 'PATH');
  attempts.push({ place: 'PATH', reason: env.PATH ? `no executable "${tool.command}" in ${env.PATH}` : 'PATH is empty' });

  // 3. Go's bin folder
  const goBin = await findOnPath('go', env);
  const { dirs, note } = await goBinDirs(goBin, env);
  for (const dir of dirs) {
    const candidate = path.join(dir, tool.command + exe);
    const why = await isExecutableFile(candidate);
    if (why === null) return found(candidate, "Go's bin folder");
    attempts.push({ place: candidate, reason: why + (note ? ` (${note})` : '') });
  }
  if (dirs.length === 0) attempts.push({ place: "Go's bin folder", reason: 'no go on PATH and none of GOBIN, GOPATH, HOME set' });

  // 4. build with go
  const building = `go install ${tool.install}`;
  if (!goBin) {
    attempts.push({ place: building, reason: 'no "go" on PATH' });
  } else if (opts.allowBuild === false) {
    attempts.push({ place: building, reason: 'building was not allowed (allowBuild: false)' });
  } else {
    try {
      await goInstall(tool, goBin, env, log);
      const after = await goBinDirs(goBin, env);
      for (const dir of after.dirs) {
        const candidate = path.join(dir, tool.command + exe);
        if ((await isExecutableFile(candidate)) === null) return found(candidate, 'just built with go install');
      }
      attempts.push({ place: building, reason: `succeeded but no ${tool.command} binary appeared in ${after.dirs.join(', ')}` });
    } catch (err) {
      attempts.push({ place: building, reason: (err as Error).message });
    }
  }

  // 5. the tool's own fallback
  if (tool.fallback) {
    const f = await tool.fallback(env);
    if (f.file) return found(f.file, f.how);
    attempts.push({ place: f.place, reason: f.reason });
  }
  throw notFound(attempts);
}
