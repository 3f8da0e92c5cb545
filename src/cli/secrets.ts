/**
 * Secrets the CLI reads for encrypted jobs (docs/ENCRYPTION.md): a passphrase from a file or an
 * environment variable, or a 32-byte key from a file — never from an argument value, which other
 * users of the machine could read in the process list. Used by `decrypt` and by `run --encrypt-…`.
 */
import { promises as fs } from 'node:fs';
import { UsageError } from './io.js';

export interface SecretFlags {
  passphraseFile?: string;
  passphraseEnv?: string;
  keyFile?: string;
}

export type Secret = { passphrase: string } | { key: Buffer };

async function readOrUsage(file: string, flag: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    throw new UsageError(`${flag}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** A key file: the 32 raw bytes, or their base64 (standard or URL-safe) on one line. */
function keyFromFile(bytes: Buffer, flag: string): Buffer {
  if (bytes.length === 32) return bytes;
  const text = bytes.toString('utf8').trim();
  const key = /^[A-Za-z0-9+/_-]{43}=?$/.test(text) ? Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64') : undefined;
  if (!key || key.length !== 32) throw new UsageError(`${flag} must hold a 32-byte key: the raw bytes or their base64`);
  return key;
}

/**
 * The one secret the flags name (`names` are the flags as the command spells them); undefined when
 * `optional` and none is given; a usage error for none (unless optional), two, or an empty one.
 */
export async function readSecret(o: SecretFlags, env: NodeJS.ProcessEnv, names: Record<keyof SecretFlags, string>, optional = false): Promise<Secret | undefined> {
  const given = (Object.keys(names) as (keyof SecretFlags)[]).filter((k) => o[k] !== undefined);
  if (given.length === 0 && optional) return undefined;
  if (given.length !== 1) throw new UsageError(`give exactly one of ${Object.values(names).join(', ')}`);
  if (o.keyFile !== undefined) return { key: keyFromFile(await readOrUsage(o.keyFile, names.keyFile), names.keyFile) };
  let passphrase: string;
  if (o.passphraseFile !== undefined) {
    // One trailing newline (as `echo` and editors leave it) is not part of the passphrase.
    passphrase = (await readOrUsage(o.passphraseFile, names.passphraseFile)).toString('utf8').replace(/\r?\n$/, '');
  } else {
    const v = env[o.passphraseEnv!];
    if (v === undefined || v === '') throw new UsageError(`${names.passphraseEnv}: the variable ${o.passphraseEnv} is not set`);
    passphrase = v;
  }
  if (passphrase === '') throw new UsageError('the passphrase is empty');
  return { passphrase };
}
