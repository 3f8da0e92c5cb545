/**
 * Encrypted files (`output.encryption`, docs/ENCRYPTION.md): the 'encrypted-file' destination and
 * the reader that `shardflow decrypt` uses. AES-256-GCM over 64 KiB chunks (a STREAM construction:
 * a per-file key, a counter nonce per chunk, the last chunk marked), so memory stays flat whatever
 * the file's size, a reader can stream too, and a truncated, extended, reordered or altered file
 * fails authentication. The ciphertext goes through FileOut (temp name, fsync, rename), so an
 * encrypted part appears only complete, exactly like a plain one.
 *
 * Keys: the job's 32-byte master key K (scrypt of the passphrase, or the raw key) and the job's
 * random 16-byte salt S give each file its own key, HKDF-SHA256(K, S, info = file nonce ‖ name ‖
 * writer). A table part's file nonce is zero, so a part written twice (a retried shard) is
 * byte-identical; a file whose content is not fixed by its name gets a random file nonce.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import { FileOut } from './file.js';
import { registerDestination } from './registry.js';
import type { Committed, Destination, DestinationTarget } from './types.js';

export const ENCRYPTION_MAGIC = Buffer.from('SFLOWENC', 'ascii');
export const ENCRYPTION_FORMAT_VERSION = 1;
/** Plaintext bytes per chunk (the last chunk may be shorter, down to 0). */
export const DEFAULT_CHUNK_BYTES = 64 * 1024;
export const TAG_BYTES = 16;
export const KEY_BYTES = 32;
export const SALT_BYTES = 16;
export const FILE_NONCE_BYTES = 16;
export const KEY_CHECK_BYTES = 16;
/** What an encrypted file's name ends with (after the format's own extension). */
export const ENCRYPTED_EXTENSION = '.enc';
/** The most chunks a file may have: the nonce's counter is 32 bits. */
const MAX_CHUNKS = 2 ** 32;

const KDF_NONE = 0;
const KDF_SCRYPT = 1;

/** How the master key was made: scrypt of a passphrase (N = 2^logN), or given as a raw key. */
export type KdfParams = { id: 'scrypt'; logN: number; r: number; p: number } | { id: 'none' };

/** scrypt N = 2^17, r = 8, p = 1: 128 MiB and about half a second per derivation (OWASP's minimum). */
export const DEFAULT_SCRYPT: KdfParams = { id: 'scrypt', logN: 17, r: 8, p: 1 };
/** The most a file header may ask of a reader's scrypt (1 GiB of memory): a hostile header cannot exhaust it. */
const SCRYPT_LIMITS = { logN: 20, r: 32, p: 16, memory: 2 ** 30 };

/** A job's key material, as the writers of its files get it (never stored in clear, never logged). */
export interface JobKey {
  /** The 32-byte master key K. */
  key: Uint8Array;
  /** The job's random 16-byte salt S (scrypt's salt, and HKDF's). */
  salt: Uint8Array;
  kdf: KdfParams;
}

export type EncryptionErrorCode = 'NOT_ENCRYPTED' | 'UNSUPPORTED' | 'WRONG_KEY' | 'AUTH_FAILED' | 'TRUNCATED';

/** A file that cannot be decrypted; the message says why (never with key material). */
export class EncryptionError extends Error {
  constructor(
    readonly code: EncryptionErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EncryptionError';
  }
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};

function checkScrypt(kdf: Extract<KdfParams, { id: 'scrypt' }>): void {
  const { logN, r, p } = kdf;
  const ok = Number.isInteger(logN) && logN >= 1 && logN <= SCRYPT_LIMITS.logN && Number.isInteger(r) && r >= 1 && r <= SCRYPT_LIMITS.r && Number.isInteger(p) && p >= 1 && p <= SCRYPT_LIMITS.p;
  if (!ok || 128 * 2 ** logN * r > SCRYPT_LIMITS.memory) {
    throw new EncryptionError('UNSUPPORTED', `scrypt parameters N=2^${logN}, r=${r}, p=${p} are beyond what this reader accepts (N ≤ 2^${SCRYPT_LIMITS.logN}, r ≤ ${SCRYPT_LIMITS.r}, p ≤ ${SCRYPT_LIMITS.p}, 1 GiB)`);
  }
}

/** The master key from a passphrase (its UTF-8 bytes, as given) with scrypt. Runs on libuv's thread pool. */
export function deriveKey(passphrase: string | Uint8Array, salt: Uint8Array, kdf: KdfParams = DEFAULT_SCRYPT): Promise<Buffer> {
  if (kdf.id !== 'scrypt') throw new Error('deriveKey needs scrypt parameters');
  checkScrypt(kdf);
  const N = 2 ** kdf.logN;
  const pass = typeof passphrase === 'string' ? Buffer.from(passphrase, 'utf8') : passphrase;
  return new Promise((resolve, reject) =>
    scrypt(pass, salt, KEY_BYTES, { N, r: kdf.r, p: kdf.p, maxmem: 128 * N * kdf.r + (32 << 20) }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** Tells a wrong key from a damaged file: HMAC-SHA256(K, "shardflow-enc v1 key check" ‖ S), first 16 bytes. */
export function keyCheck(key: Uint8Array, salt: Uint8Array): Buffer {
  return createHmac('sha256', key).update('shardflow-enc v1 key check').update(salt).digest().subarray(0, KEY_CHECK_BYTES);
}

/** A job's key id (shown in its `output.encryption.keyId`): hex of the key check's first 8 bytes. */
export function keyIdOf(k: Pick<JobKey, 'key' | 'salt'>): string {
  return keyCheck(k.key, k.salt).subarray(0, 8).toString('hex');
}

/** A fresh job key: a new random salt, and K from the passphrase (scrypt) or the raw key itself. */
export async function newJobKey(secret: { passphrase: string } | { key: Uint8Array }, kdf: KdfParams = DEFAULT_SCRYPT): Promise<JobKey> {
  const salt = randomBytes(SALT_BYTES);
  if ('key' in secret) {
    if (secret.key.length !== KEY_BYTES) throw new Error(`a raw key is ${KEY_BYTES} bytes`);
    return { key: Buffer.from(secret.key), salt, kdf: { id: 'none' } };
  }
  return { key: await deriveKey(secret.passphrase, salt, kdf), salt, kdf };
}

let writerId: string | undefined;
/** `shardflow/<version>`: the writer goes into each file key, so another version's bytes never share a nonce with these. */
export function defaultWriter(): string {
  if (!writerId) {
    let version = '0';
    try {
      version = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
    } catch {
      // not in a checkout or a build with its package.json
    }
    writerId = `shardflow/${version}`;
  }
  return writerId;
}

export interface FileHeader {
  version: number;
  kdf: KdfParams;
  salt: Buffer;
  keyCheck: Buffer;
  chunkBytes: number;
  fileNonce: Buffer;
  /** The file's name when written (its path in the job folder). */
  name: string;
  writer: string;
  /** The header as stored: every chunk's additional authenticated data. */
  raw: Buffer;
}

/** The header, byte by byte as docs/ENCRYPTION.md lists it. */
export function encodeHeader(h: Omit<FileHeader, 'raw' | 'version'>): Buffer {
  const name = Buffer.from(h.name, 'utf8');
  const writer = Buffer.from(h.writer, 'utf8');
  if (name.length > 0xffff || writer.length > 0xffff) throw new Error('file name or writer too long');
  const kdf = Buffer.alloc(10);
  if (h.kdf.id === 'scrypt') {
    kdf[0] = KDF_SCRYPT;
    kdf[1] = h.kdf.logN;
    kdf.writeUInt32BE(h.kdf.r, 2);
    kdf.writeUInt32BE(h.kdf.p, 6);
  } else kdf[0] = KDF_NONE;
  return Buffer.concat([ENCRYPTION_MAGIC, Buffer.of(ENCRYPTION_FORMAT_VERSION), kdf, h.salt, h.keyCheck, u32(h.chunkBytes), h.fileNonce, u16(name.length), name, u16(writer.length), writer]);
}

const FIXED_HEADER = 8 + 1 + 10 + SALT_BYTES + KEY_CHECK_BYTES + 4 + FILE_NONCE_BYTES + 2;

/** The header at the start of `buf`, or null when `buf` is too short to hold all of it yet. */
export function parseHeader(buf: Buffer): FileHeader | null {
  const head = Math.min(buf.length, ENCRYPTION_MAGIC.length);
  if (!buf.subarray(0, head).equals(ENCRYPTION_MAGIC.subarray(0, head))) throw new EncryptionError('NOT_ENCRYPTED', 'not a shardflow encrypted file (no SFLOWENC header)');
  if (buf.length < FIXED_HEADER) return null;
  const version = buf[8]!;
  if (version !== ENCRYPTION_FORMAT_VERSION) throw new EncryptionError('UNSUPPORTED', `encryption format version ${version} is not supported (this reader knows ${ENCRYPTION_FORMAT_VERSION})`);
  let o = 9;
  const kdfId = buf[o]!;
  let kdf: KdfParams;
  if (kdfId === KDF_SCRYPT) kdf = { id: 'scrypt', logN: buf[o + 1]!, r: buf.readUInt32BE(o + 2), p: buf.readUInt32BE(o + 6) };
  else if (kdfId === KDF_NONE) kdf = { id: 'none' };
  else throw new EncryptionError('UNSUPPORTED', `unknown key derivation ${kdfId}`);
  o += 10;
  const salt = Buffer.from(buf.subarray(o, (o += SALT_BYTES)));
  const check = Buffer.from(buf.subarray(o, (o += KEY_CHECK_BYTES)));
  const chunkBytes = buf.readUInt32BE(o);
  o += 4;
  if (chunkBytes < 1 || chunkBytes > 1 << 24) throw new EncryptionError('UNSUPPORTED', `chunk size ${chunkBytes} is out of range`);
  const fileNonce = Buffer.from(buf.subarray(o, (o += FILE_NONCE_BYTES)));
  const nameLen = buf.readUInt16BE(o);
  o += 2;
  if (buf.length < o + nameLen + 2) return null;
  const name = buf.subarray(o, (o += nameLen)).toString('utf8');
  const writerLen = buf.readUInt16BE(o);
  o += 2;
  if (buf.length < o + writerLen) return null;
  const writer = buf.subarray(o, (o += writerLen)).toString('utf8');
  return { version, kdf, salt, keyCheck: check, chunkBytes, fileNonce, name, writer, raw: Buffer.from(buf.subarray(0, o)) };
}

/** The file's own key: HKDF-SHA256(ikm K, salt S, info "shardflow-enc v1 file key" 0x00 ‖ file nonce ‖ u16 name ‖ u16 writer). */
export function fileKey(key: Uint8Array, h: Pick<FileHeader, 'salt' | 'fileNonce' | 'name' | 'writer'>): Buffer {
  const name = Buffer.from(h.name, 'utf8');
  const writer = Buffer.from(h.writer, 'utf8');
  const info = Buffer.concat([Buffer.from('shardflow-enc v1 file key\0', 'ascii'), h.fileNonce, u16(name.length), name, u16(writer.length), writer]);
  return Buffer.from(hkdfSync('sha256', key, h.salt, info, KEY_BYTES));
}

/** Chunk i's 96-bit nonce: 7 zero bytes ‖ i as u32 big-endian ‖ 0x01 for the last chunk, else 0x00. */
export function chunkNonce(index: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  n.writeUInt32BE(index, 7);
  n[11] = last ? 1 : 0;
  return n;
}

/** Seals the chunks of one file in order: ciphertext ‖ 16-byte tag each. */
export class ChunkSealer {
  private index = 0;
  private done = false;
  constructor(
    private readonly key: Buffer,
    private readonly aad: Buffer,
  ) {}
  seal(plain: Uint8Array, last: boolean): Buffer {
    if (this.done) throw new Error('the last chunk was sealed already');
    if (this.index >= MAX_CHUNKS) throw new Error('file too large for one key (2^32 chunks)');
    const c = createCipheriv('aes-256-gcm', this.key, chunkNonce(this.index++, last));
    c.setAAD(this.aad);
    const out = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
    if (last) this.done = true;
    return out;
  }
}

/** Opens the chunks of one file in order; a chunk that does not authenticate throws AUTH_FAILED. */
export class ChunkOpener {
  private index = 0;
  constructor(
    private readonly key: Buffer,
    private readonly aad: Buffer,
  ) {}
  open(sealed: Uint8Array, last: boolean): Buffer {
    if (sealed.length < TAG_BYTES) throw new EncryptionError('TRUNCATED', 'the file is truncated (a chunk is shorter than its tag)');
    const i = this.index++;
    const d = createDecipheriv('aes-256-gcm', this.key, chunkNonce(i, last));
    d.setAAD(this.aad);
    d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      return Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG_BYTES)), d.final()]);
    } catch {
      throw new EncryptionError(
        'AUTH_FAILED',
        `chunk ${i} does not authenticate${last ? ' as the last chunk' : ''}: the file is damaged, truncated or was altered`,
      );
    }
  }
}

/** An encrypted file at `path`: `name` (its path in the job folder) goes into the header and the file key. */
export interface EncryptedFileTarget extends DestinationTarget {
  kind: 'encrypted-file';
  path: string;
  name: string;
  jobKey: JobKey;
  /**
   * 'name' (table parts): the file nonce is zero, so the same name written again gives the same
   * bytes — only right when the content is fixed by the name. 'random' (default): a fresh nonce.
   */
  fileNonce?: 'name' | 'random';
  chunkBytes?: number;
  writer?: string;
}

/**
 * The 'encrypted-file' destination: write() takes plaintext, FileOut gets the header and the
 * sealed chunks. A full chunk is held back until the next byte arrives (or commit), because only
 * then is it known whether it is the last one. commit()'s bytes and sha256 are the stored file's
 * (the ciphertext): what the shard record checks, the manifest lists and downloads verify.
 */
export class EncryptedFileOut implements Destination {
  private readonly pending: Buffer;
  private filled = 0;

  private constructor(
    private readonly out: FileOut,
    private readonly sealer: ChunkSealer,
    private readonly chunkBytes: number,
  ) {
    this.pending = Buffer.allocUnsafe(chunkBytes);
  }

  static async open(t: EncryptedFileTarget): Promise<EncryptedFileOut> {
    const chunkBytes = t.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (t.jobKey.key.length !== KEY_BYTES || t.jobKey.salt.length !== SALT_BYTES) throw new Error('encrypted-file: bad job key');
    const fields = {
      kdf: t.jobKey.kdf,
      salt: Buffer.from(t.jobKey.salt),
      keyCheck: keyCheck(t.jobKey.key, t.jobKey.salt),
      chunkBytes,
      fileNonce: t.fileNonce === 'name' ? Buffer.alloc(FILE_NONCE_BYTES) : randomBytes(FILE_NONCE_BYTES),
      name: t.name,
      writer: t.writer ?? defaultWriter(),
    };
    const header = encodeHeader(fields);
    const out = await FileOut.open(t.path);
    try {
      await out.write(header);
    } catch (err) {
      await out.abort();
      throw err;
    }
    return new EncryptedFileOut(out, new ChunkSealer(fileKey(t.jobKey.key, fields), header), chunkBytes);
  }

  async write(chunk: Uint8Array): Promise<void> {
    let off = 0;
    while (off < chunk.length) {
      if (this.filled === this.chunkBytes) {
        await this.out.write(this.sealer.seal(this.pending, false));
        this.filled = 0;
      }
      const n = Math.min(this.chunkBytes - this.filled, chunk.length - off);
      this.pending.set(chunk.subarray(off, off + n), this.filled);
      this.filled += n;
      off += n;
    }
  }

  async commit(): Promise<Committed> {
    await this.out.write(this.sealer.seal(this.pending.subarray(0, this.filled), true));
    return this.out.commit();
  }

  abort(): Promise<void> {
    return this.out.abort();
  }
}

registerDestination<EncryptedFileTarget>({ kind: 'encrypted-file', open: (t) => EncryptedFileOut.open(t) });

/** Gives the master key for a file's header (e.g. scrypt of a passphrase with the header's salt). */
export type KeyForHeader = (h: FileHeader) => Promise<Uint8Array>;

/** A key source for a passphrase: one scrypt per distinct (salt, parameters), however many files. */
export function passphraseKeys(passphrase: string | Uint8Array): KeyForHeader {
  const cache = new Map<string, Promise<Uint8Array>>();
  return (h) => {
    if (h.kdf.id !== 'scrypt') throw new EncryptionError('WRONG_KEY', 'this file was encrypted with a raw key, not a passphrase: use a key file');
    const id = `${h.salt.toString('hex')}:${h.kdf.logN}:${h.kdf.r}:${h.kdf.p}`;
    let k = cache.get(id);
    if (!k) cache.set(id, (k = deriveKey(passphrase, h.salt, h.kdf)));
    return k;
  };
}

/** A key source for a raw 32-byte key. */
export function rawKey(key: Uint8Array): KeyForHeader {
  if (key.length !== KEY_BYTES) throw new Error(`a raw key is ${KEY_BYTES} bytes`);
  return async () => key;
}

/**
 * Decrypts a stream: yields the plaintext chunk by chunk, each only after it authenticated. Throws
 * EncryptionError: WRONG_KEY (the key check differs) before anything is yielded, AUTH_FAILED or
 * TRUNCATED at the first bad chunk — a reader that must not keep a partial result (the CLI) writes
 * to a temp file and renames it only after the last chunk.
 */
export async function* decryptStream(source: AsyncIterable<Uint8Array>, keyFor: KeyForHeader): AsyncGenerator<Buffer> {
  const pieces: Buffer[] = [];
  let buffered = 0;
  const take = (n: number): Buffer => {
    const all = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
    pieces.length = 0;
    const head = all.subarray(0, n);
    if (all.length > n) pieces.push(all.subarray(n));
    buffered -= n;
    return head;
  };
  let header: FileHeader | null = null;
  let opener: ChunkOpener | undefined;
  let sealedBytes = 0;
  for await (const piece of source) {
    pieces.push(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
    buffered += piece.length;
    if (!header) {
      header = parseHeader(Buffer.concat(pieces));
      if (!header) continue;
      take(header.raw.length);
      const key = await keyFor(header);
      if (!timingSafeEqual(keyCheck(key, header.salt), header.keyCheck)) {
        throw new EncryptionError('WRONG_KEY', header.kdf.id === 'scrypt' ? 'wrong passphrase (the file’s key check does not match)' : 'wrong key (the file’s key check does not match)');
      }
      opener = new ChunkOpener(fileKey(key, header), header.raw);
      sealedBytes = header.chunkBytes + TAG_BYTES;
    }
    // A chunk is known not to be the last only once a byte after it has arrived.
    while (buffered > sealedBytes) yield opener!.open(take(sealedBytes), false);
  }
  if (!header) {
    if (buffered === 0) throw new EncryptionError('NOT_ENCRYPTED', 'the file is empty');
    parseHeader(Buffer.concat(pieces)); // throws NOT_ENCRYPTED for a wrong start
    throw new EncryptionError('TRUNCATED', 'the file is truncated (its header is incomplete)');
  }
  if (buffered < TAG_BYTES) throw new EncryptionError('TRUNCATED', 'the file is truncated (its last chunk is missing)');
  yield opener!.open(take(buffered), true);
}
