/**
 * The chunked AEAD of encrypted files (src/destinations/encrypted.ts, docs/ENCRYPTION.md), without
 * a stack: round trips at chunk boundaries, truncation, extension, tampering, a wrong key, the
 * same part written twice, and the Python reader of docs/ENCRYPTION.md decrypting what Node wrote.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  decryptStream,
  DEFAULT_CHUNK_BYTES,
  deriveKey,
  EncryptedFileOut,
  EncryptionError,
  newJobKey,
  parseHeader,
  passphraseKeys,
  rawKey,
  TAG_BYTES,
  type JobKey,
} from '../src/destinations/encrypted.js';
import { isTempFileName } from '../src/destinations/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function tmp(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'shardflow-enc-'));
}

async function encrypt(dir: string, jobKey: JobKey, plain: Buffer, opts: { chunkBytes?: number; name?: string; fileNonce?: 'name' | 'random'; writes?: number } = {}): Promise<Buffer> {
  const file = path.join(dir, `f-${randomBytes(4).toString('hex')}.enc`);
  const out = await EncryptedFileOut.open({ kind: 'encrypted-file', path: file, name: opts.name ?? 't/part-00000.csv.enc', jobKey, fileNonce: opts.fileNonce ?? 'name', chunkBytes: opts.chunkBytes });
  // Uneven writes: the chunking must not depend on how the encoder cut its bytes.
  const step = Math.max(1, Math.ceil(plain.length / (opts.writes ?? 3)));
  for (let o = 0; o < plain.length; o += step) await out.write(plain.subarray(o, o + step));
  await out.commit();
  return fs.readFile(file);
}

async function decrypt(sealed: Buffer, keyFor = rawKey(Buffer.alloc(32, 7)), pieceBytes = 1000): Promise<Buffer> {
  async function* pieces() {
    for (let o = 0; o < sealed.length; o += pieceBytes) yield sealed.subarray(o, o + pieceBytes);
  }
  const out: Buffer[] = [];
  for await (const c of decryptStream(pieces(), keyFor)) out.push(c);
  return Buffer.concat(out);
}

const key: JobKey = { key: Buffer.alloc(32, 7), salt: Buffer.alloc(16, 3), kdf: { id: 'none' } };

async function rejects(p: Promise<unknown>, code: EncryptionError['code']): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof EncryptionError && e.code === code);
}

test('round trip at chunk boundaries: 0, 1, chunk − 1, chunk, chunk + 1, 3 chunks, for small and default chunks', async () => {
  const dir = await tmp();
  for (const chunk of [16, 1000, DEFAULT_CHUNK_BYTES]) {
    for (const n of [0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk, 3 * chunk + 5]) {
      const plain = randomBytes(n);
      const sealed = await encrypt(dir, key, plain, { chunkBytes: chunk, writes: 1 + (n % 7) });
      const header = parseHeader(sealed)!;
      const chunks = Math.max(1, Math.ceil(n / chunk));
      assert.equal(sealed.length, header.raw.length + n + chunks * TAG_BYTES, `size for ${n} bytes in chunks of ${chunk}`);
      assert.deepEqual(await decrypt(sealed, rawKey(key.key), 1 + (n % 997)), plain, `${n} bytes in chunks of ${chunk}`);
    }
  }
  // Nothing but the final file: the temp name was renamed away.
  assert.deepEqual((await fs.readdir(dir)).filter(isTempFileName), []);
});

test('a missing last chunk, a cut inside a chunk, bytes appended, a changed byte (header or chunk), a wrong key: each fails cleanly', async () => {
  const dir = await tmp();
  const chunk = 64;
  const plain = randomBytes(3 * chunk); // exactly three full chunks: the third is the last
  const sealed = await encrypt(dir, key, plain, { chunkBytes: chunk });
  const h = parseHeader(sealed)!.raw.length;
  // The last chunk dropped at a chunk boundary: chunk 1 is then taken as the last, and its nonce says it is not.
  await rejects(decrypt(sealed.subarray(0, h + 2 * (chunk + TAG_BYTES))), 'AUTH_FAILED');
  await rejects(decrypt(sealed.subarray(0, sealed.length - 5)), 'AUTH_FAILED');
  await rejects(decrypt(sealed.subarray(0, h + 3)), 'TRUNCATED');
  await rejects(decrypt(sealed.subarray(0, h)), 'TRUNCATED');
  await rejects(decrypt(sealed.subarray(0, 20)), 'TRUNCATED');
  await rejects(decrypt(Buffer.concat([sealed, Buffer.from('x')])), 'AUTH_FAILED');
  // Another file's last chunk appended: still refused (chunk 3 is not the last one sealed).
  await rejects(decrypt(Buffer.concat([sealed, sealed.subarray(sealed.length - chunk - TAG_BYTES)])), 'AUTH_FAILED');
  for (const at of [h - 3 /* the writer, in the header */, h + 1, h + chunk + TAG_BYTES + 7, sealed.length - 1]) {
    const bad = Buffer.from(sealed);
    bad[at]! ^= 0x01;
    await rejects(decrypt(bad), 'AUTH_FAILED');
  }
  // Two chunks swapped.
  const c = chunk + TAG_BYTES;
  const swapped = Buffer.concat([sealed.subarray(0, h), sealed.subarray(h + c, h + 2 * c), sealed.subarray(h, h + c), sealed.subarray(h + 2 * c)]);
  await rejects(decrypt(swapped), 'AUTH_FAILED');
  await rejects(decrypt(sealed, rawKey(Buffer.alloc(32, 8))), 'WRONG_KEY');
  await rejects(decrypt(Buffer.from('PAR1 not encrypted at all')), 'NOT_ENCRYPTED');
  await rejects(decrypt(Buffer.alloc(0)), 'NOT_ENCRYPTED');
  // A wrong key is told before any plaintext is produced.
  const got: Buffer[] = [];
  await assert.rejects(async () => {
    for await (const x of decryptStream((async function* () { yield sealed; })(), rawKey(Buffer.alloc(32, 9)))) got.push(x);
  });
  assert.equal(got.length, 0);
});

test('the same part written twice is byte-identical; another name, another job salt or a random file nonce gives other bytes', async () => {
  const dir = await tmp();
  const plain = randomBytes(200_000);
  const a = await encrypt(dir, key, plain, { writes: 3 });
  const b = await encrypt(dir, key, plain, { writes: 11 });
  assert.ok(a.equals(b), 'a retried part is the same bytes');
  const other = await encrypt(dir, key, plain, { name: 't/part-00001.csv.enc' });
  assert.ok(!a.equals(other));
  const salted = await encrypt(dir, { ...key, salt: Buffer.alloc(16, 4) }, plain);
  assert.ok(!a.subarray(200).equals(salted.subarray(200)));
  const r1 = await encrypt(dir, key, plain, { fileNonce: 'random' });
  const r2 = await encrypt(dir, key, plain, { fileNonce: 'random' });
  assert.ok(!r1.equals(r2));
  assert.deepEqual(await decrypt(r1), plain);
});

test('a passphrase: scrypt (N = 2^17, r = 8, p = 1) with the salt and parameters from the header; a wrong one is WRONG_KEY', async () => {
  const dir = await tmp();
  const jobKey = await newJobKey({ passphrase: 'correct horse battery staple' });
  assert.deepEqual(jobKey.kdf, { id: 'scrypt', logN: 17, r: 8, p: 1 });
  const plain = randomBytes(70_000);
  const sealed = await encrypt(dir, jobKey, plain);
  const h = parseHeader(sealed)!;
  assert.deepEqual(h.kdf, jobKey.kdf);
  assert.ok(h.salt.equals(Buffer.from(jobKey.salt)));
  assert.deepEqual(await decrypt(sealed, passphraseKeys('correct horse battery staple')), plain);
  await rejects(decrypt(sealed, passphraseKeys('correct horse battery stapler')), 'WRONG_KEY');
  await rejects(decrypt(sealed, rawKey(Buffer.from(jobKey.key).fill(0))), 'WRONG_KEY');
  assert.ok((await deriveKey('correct horse battery staple', jobKey.salt)).equals(Buffer.from(jobKey.key)));
});

/** The Python reader of docs/ENCRYPTION.md (its first ```python block), run against files Node wrote. */
const python = spawnSync('python3', ['-c', 'import cryptography'], { encoding: 'utf8' });
test('the documented Python reader decrypts what the destination wrote', { skip: python.status === 0 ? false : 'needs python3 with the cryptography package' }, async () => {
  const doc = await fs.readFile(path.join(root, 'docs', 'ENCRYPTION.md'), 'utf8');
  const code = /```python\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(code, 'docs/ENCRYPTION.md has a python block');
  const dir = await tmp();
  const script = path.join(dir, 'decrypt.py');
  await fs.writeFile(script, code);
  const pass = 'a passphrase for Python';
  const jobKey = await newJobKey({ passphrase: pass });
  for (const n of [0, 5, DEFAULT_CHUNK_BYTES, DEFAULT_CHUNK_BYTES + 1, 150_000]) {
    const plain = randomBytes(n);
    const sealed = await encrypt(dir, jobKey, plain);
    const inFile = path.join(dir, `in-${n}.enc`);
    await fs.writeFile(inFile, sealed);
    const out = execFileSync('python3', [script, inFile], { env: { ...process.env, SHARDFLOW_PASSPHRASE: pass }, maxBuffer: 1 << 26 });
    assert.equal(createHash('sha256').update(out).digest('hex'), createHash('sha256').update(plain).digest('hex'), `${n} bytes`);
  }
  const raw = randomBytes(32);
  const sealed = await encrypt(dir, { key: raw, salt: randomBytes(16), kdf: { id: 'none' } }, Buffer.from('raw key'));
  const inFile = path.join(dir, 'raw.enc');
  await fs.writeFile(inFile, sealed);
  assert.equal(execFileSync('python3', [script, inFile], { env: { ...process.env, SHARDFLOW_KEY: raw.toString('base64') } }).toString(), 'raw key');
  // A changed byte: Python's reader fails too (InvalidTag), with a non-zero exit.
  sealed[sealed.length - 3]! ^= 1;
  await fs.writeFile(inFile, sealed);
  const bad = spawnSync('python3', [script, inFile], { env: { ...process.env, SHARDFLOW_KEY: raw.toString('base64') } });
  assert.notEqual(bad.status, 0);
});
