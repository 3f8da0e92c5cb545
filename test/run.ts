/**
 * `npm test [-- files… | node test flags…]`
 *
 * Starts the session's Temporal dev server and embedded Postgres (unless TEMPORAL_ADDRESS /
 * DATABASE_URL are given), migrates, runs `node --test` over test/**\/*.test.ts (or the files
 * given) one file at a time with those addresses in the environment, stops everything and exits
 * with the test runner's code. The runner's summary (`# tests`, `# pass`, `# fail`, …) is
 * repeated at the very end.
 *
 * The tests' TMPDIR is a folder inside the session's temp folder, and the session removes that
 * folder when it ends, so a run leaves nothing in the system temp folder.
 * SHARDFLOW_KEEP_TEST_DATA=1 keeps the temp folder (Temporal/Postgres logs, job files).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestStack, type TestStack } from './support/stack.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (line: string) => process.stderr.write(`[test] ${line}\n`);

function findTestFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTestFiles(p));
    else if (/\.test\.(ts|mts|js|mjs)$/.test(entry.name)) out.push(p);
  }
  return out.sort();
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const flags = args.filter((a) => a.startsWith('-'));
  const named = args.filter((a) => !a.startsWith('-'));
  const files = named.length ? named.map((f) => path.resolve(f)) : findTestFiles(path.join(root, 'test'));
  for (const f of files) {
    if (!fs.existsSync(f)) {
      log(`no such test file: ${f}`);
      return 2;
    }
  }
  if (files.length === 0) {
    log('no test files (test/**/*.test.ts)');
    return 1;
  }

  const t0 = Date.now();
  let testStack: TestStack | undefined;
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    // The test processes are in our process group and get Ctrl-C themselves; we tear down after them.
    interrupted = true;
    log(`${sig}: stopping after the test runner exits`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    testStack = await startTestStack({ log });
    log(
      `stack ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: TEMPORAL_ADDRESS=${testStack.env.TEMPORAL_ADDRESS} ` +
        `DATABASE_URL=${testStack.env.DATABASE_URL!.replace(/:[^:@/]*@/, ':***@')}`,
    );
    if (interrupted) return 130;

    const tapFile = path.join(testStack.tmpRoot, 'report.tap');
    const nodeArgs = [
      '--import',
      'tsx',
      '--test',
      '--test-concurrency=1',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tapFile}`,
      ...flags,
      ...files.map((f) => path.relative(root, f)),
    ];
    log(`node ${nodeArgs.join(' ')}`);
    // Whatever a test puts in the system temp folder (os.tmpdir(), mkdtemp) lands in this run's own
    // temp root, which stop() removes: nothing stays behind, even from a test that forgets to clean up.
    const tmpDir = path.join(testStack.tmpRoot, 'tmp');
    fs.mkdirSync(tmpDir, { recursive: true });
    const child = spawn(process.execPath, nodeArgs, {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, ...testStack.env, TMPDIR: tmpDir, TMP: tmpDir, TEMP: tmpDir },
    });
    const code = await new Promise<number>((resolve) => {
      child.on('error', (err) => {
        log(`could not start the test runner: ${err.message}`);
        resolve(1);
      });
      child.on('exit', (c, signal) => resolve(c ?? (signal ? 128 + 1 : 1)));
    });

    const summary = fs.existsSync(tapFile)
      ? fs
          .readFileSync(tapFile, 'utf8')
          .split('\n')
          .filter((l) => /^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) /.test(l))
      : [];
    if (summary.length) process.stdout.write(`\n${summary.join('\n')}\n`);
    else log('the test runner wrote no summary');
    return interrupted && code === 0 ? 130 : code;
  } finally {
    if (testStack) {
      const keep = process.env.SHARDFLOW_KEEP_TEST_DATA === '1';
      await testStack.stop({ keep });
    }
    log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
