/** The dev stack's SHARDFLOW_SECRET_KEY: made once per data folder (0600), then the same one on every start. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { devSecretKey } from '../src/dev/secret-key.js';
import { loadConfig } from '../src/config.js';

test('devSecretKey: 32 random bytes kept in <data dir>/secret-key, mode 0600, reused; a config accepts it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-secret-'));
  try {
    const data = path.join(dir, 'data');
    const first = devSecretKey(data);
    assert.equal(Buffer.from(first, 'base64').length, 32);
    assert.equal(fs.statSync(path.join(data, 'secret-key')).mode & 0o777, 0o600);
    assert.equal(devSecretKey(data), first, 'the same key on the next start');
    assert.notEqual(devSecretKey(path.join(dir, 'other')), first, 'another folder, another key');
    const config = loadConfig({ SHARDFLOW_DATA_DIR: data, SHARDFLOW_SECRET_KEY: first });
    assert.ok(config.secretKey, 'the API and worker accept it');
    // A damaged file is never replaced silently (the keys of unfinished encrypted jobs are sealed with it).
    fs.writeFileSync(path.join(data, 'secret-key'), 'not a key\n');
    assert.throws(() => devSecretKey(data), /secret-key is not the base64 of 32 bytes/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
