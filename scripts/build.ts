/**
 * `npm run build [-- --out-dir <dir>]`: compiles src/ to dist/ (tsconfig.build.json), which
 * production runs with plain `node` (no tsx): `node dist/api/main.js`, `node dist/worker/main.js`.
 *
 * The output folder is emptied first (no modules left over from deleted sources), then tsc emits
 * JavaScript only, then what src/ reads next to its code at run time is copied: src/db/migrations.
 * Paths that leave src/ (`../../../data/pilot-vitals.csv`, `../../package.json`) resolve from the
 * output folder as from src/, so the output must sit one level below a folder holding data/,
 * package.json and node_modules (the repository root, or the production image's /app).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Run-time files under src/ that tsc does not emit, copied to the same place in the output. */
export const BUILD_ASSETS = ['db/migrations'];

export function build(outDir = path.join(root, 'dist')): void {
  const out = path.resolve(outDir);
  if (out === path.resolve(root) || out === path.join(root, 'src')) throw new Error(`refusing to build into ${out}`);
  fs.rmSync(out, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', out], { cwd: root, stdio: 'inherit' });
  for (const asset of BUILD_ASSETS) fs.cpSync(path.join(root, 'src', asset), path.join(out, asset), { recursive: true });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [flag, dir, ...extra] = process.argv.slice(2);
  if (flag !== undefined && (flag !== '--out-dir' || !dir || extra.length)) {
    process.stderr.write('usage: npm run build [-- --out-dir <dir>]\n');
    process.exit(2);
  }
  const t0 = Date.now();
  const out = path.resolve(dir ?? path.join(root, 'dist'));
  build(out);
  process.stdout.write(`built ${out} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}
