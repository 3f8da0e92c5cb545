import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { resolveTemporalBinary, TemporalBinaryNotFoundError, TEMPORAL_CLI_VERSION } from '../src/dev/temporal-binary.js';
import { probeTemporal, temporalDevServerArgs } from '../src/dev/temporal-server.js';
import { pickFreePorts } from '../src/dev/process.js';
import { stackMissing, testEnv } from './support/stack.js';

const quiet = () => {};

function tmp(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `shardflow-${prefix}-`));
}

function fakeExecutable(dir: string, name: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, '#!/bin/sh\necho "temporal version fake"\n', { mode: 0o755 });
  return file;
}

test('resolveTemporalBinary honours TEMPORAL_CLI before PATH', async () => {
  const dir = tmp('cli');
  try {
    const explicit = fakeExecutable(dir, 'my-temporal');
    const pathDir = path.join(dir, 'bin');
    fs.mkdirSync(pathDir);
    fakeExecutable(pathDir, 'temporal');
    const found = await resolveTemporalBinary({ env: { TEMPORAL_CLI: explicit, PATH: pathDir }, log: quiet });
    assert.equal(found, explicit);
    // without TEMPORAL_CLI, PATH wins
    assert.equal(await resolveTemporalBinary({ env: { PATH: pathDir }, log: quiet }), path.join(pathDir, 'temporal'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('resolveTemporalBinary rejects a TEMPORAL_CLI that does not exist, naming it', async () => {
  await assert.rejects(
    resolveTemporalBinary({ env: { TEMPORAL_CLI: '/nonexistent/temporal', PATH: '' }, log: quiet }),
    (err: Error) => err instanceof TemporalBinaryNotFoundError && /TEMPORAL_CLI=\/nonexistent\/temporal: does not exist/.test(err.message),
  );
});

test('resolveTemporalBinary lists every place it looked when nothing is found', async () => {
  const empty = tmp('nothing');
  try {
    // no TEMPORAL_CLI, empty PATH (so no temporal and no go), empty HOME and TMPDIR
    const env = { PATH: '', HOME: empty, TMPDIR: empty };
    await assert.rejects(resolveTemporalBinary({ env, log: quiet }), (err: Error) => {
      assert.ok(err instanceof TemporalBinaryNotFoundError);
      const places = err.attempts.map((a) => a.place);
      assert.deepEqual(places, [
        'TEMPORAL_CLI',
        'PATH',
        path.join(empty, 'go', 'bin', 'temporal'),
        `go install github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`,
        `Temporal SDK download cache (${empty})`,
      ]);
      assert.match(err.message, /TEMPORAL_CLI: not set/);
      assert.match(err.message, /PATH: PATH is empty/);
      assert.match(err.message, /does not exist/);
      assert.match(err.message, /no "go" on PATH/);
      assert.match(err.message, /no temporal-<version>/);
      return true;
    });
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
});

test("resolveTemporalBinary finds the SDK's cached download in the temp dir", async () => {
  const cache = tmp('sdkcache');
  try {
    const cached = fakeExecutable(cache, 'temporal-sdk-typescript-1.24.0');
    const found = await resolveTemporalBinary({ env: { PATH: '', HOME: cache, TMPDIR: cache }, log: quiet });
    assert.equal(found, cached);
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
});

test('dev server arguments carry persistence, search attributes and the long-poll setting', () => {
  const args = temporalDevServerArgs({ binary: 't', dbFile: '/d/t.sqlite', port: 7233, uiPort: 8233, namespace: 'default' });
  const joined = args.join(' ');
  assert.match(joined, /--db-filename \/d\/t\.sqlite/);
  assert.match(joined, /--ui-port 8233/);
  for (const sa of ['ShardflowKind=Keyword', 'ShardflowTenant=Keyword', 'ShardflowRowsTotal=Int', 'ShardflowRowsDone=Int']) {
    assert.ok(args.includes(sa), sa);
  }
  assert.ok(args.includes('matching.longPollExpirationInterval="10s"'));
  assert.ok(temporalDevServerArgs({ binary: 't', dbFile: null, port: 1, uiPort: null, namespace: 'x' }).includes('--headless'));
});

test('pickFreePorts returns distinct ports', async () => {
  const ports = await pickFreePorts(5);
  assert.equal(new Set(ports).size, 5);
});

test('the session Postgres answers select 1 via DATABASE_URL', { skip: stackMissing }, async () => {
  const sql = postgres(testEnv().databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql`select 1 as one, current_database() as db`;
    assert.equal(row!.one, 1);
  } finally {
    await sql.end({ timeout: 5 });
  }
});

test('the session Temporal is up with the shardflow search attributes', { skip: stackMissing }, async () => {
  const env = testEnv();
  assert.equal(await probeTemporal(env.temporalAddress, env.namespace), null);
});
