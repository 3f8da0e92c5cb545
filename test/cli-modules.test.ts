/**
 * The CLI's modules load in any order: src/cli/commands/keys.ts imported first (before cli.ts) used to hit
 * the cli.ts <-> keys.ts cycle and throw a ReferenceError. Each check runs in a fresh process, so
 * the import order is exactly the one written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);

/** Runs an ES module snippet with tsx in a fresh node; returns its stdout. */
async function fresh(code: string): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, timeout: 60_000 });
  return stdout.trim();
}

const url = (rel: string) => JSON.stringify(pathToFileURL(path.join(root, rel)).href);

test('importing src/cli/commands/keys.ts first works, and a usage error is still a UsageError', async () => {
  const out = await fresh(`
    const keys = await import(${url('src/cli/commands/keys.ts')});
    const { UsageError } = await import(${url('src/cli/io.ts')});
    const cli = await import(${url('src/cli/cli.ts')});
    let caught;
    try { await keys.runKeys(['frobnicate'], async () => { throw new Error('no db needed'); }, { out() {}, err() {} }); }
    catch (err) { caught = err; }
    const errs = [];
    const code = await cli.runCli(['keys'], {}, { out() {}, err: (t) => errs.push(t) });
    console.log(JSON.stringify({ usage: typeof keys.KEYS_USAGE, isUsage: caught instanceof UsageError, message: caught?.message, code, err: errs.join('') }));
  `);
  const r = JSON.parse(out);
  assert.equal(r.usage, 'string');
  assert.equal(r.isUsage, true);
  assert.equal(r.message, 'unknown keys subcommand "frobnicate"');
  assert.equal(r.code, 2);
  assert.match(r.err, /keys needs a subcommand/);
});

test('importing src/cli/cli.ts first works too', async () => {
  const out = await fresh(`
    const cli = await import(${url('src/cli/cli.ts')});
    const keys = await import(${url('src/cli/commands/keys.ts')});
    console.log(JSON.stringify({ usage: cli.USAGE.includes(keys.KEYS_USAGE) }));
  `);
  assert.deepEqual(JSON.parse(out), { usage: true });
});
