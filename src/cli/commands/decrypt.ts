/**
 * `shardflow decrypt <files…> [-o out] (--passphrase-file F | --passphrase-env VAR | --key-file F) [--force]`:
 * the files of a job with `output.encryption` back to plaintext (docs/ENCRYPTION.md). Works offline:
 * the salt and the KDF parameters are in each file's header. Each file is decrypted as it streams to
 * a temp name beside its output, renamed only once its last chunk authenticated: a wrong passphrase,
 * a damaged or truncated file leaves no output. The passphrase is never taken as an argument value
 * (it would show in `ps` and shell history).
 */
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { decryptStream, ENCRYPTED_EXTENSION, EncryptionError, passphraseKeys, rawKey, tempPathFor, type KeyForHeader } from '../../destinations/index.js';
import { CommandFailed, UsageError } from '../io.js';
import type { Ctx } from './context.js';
import { readSecret } from '../secrets.js';

interface DecryptOptions {
  out?: string;
  passphraseFile?: string;
  passphraseEnv?: string;
  keyFile?: string;
  force?: boolean;
}

async function keySource(o: DecryptOptions, env: NodeJS.ProcessEnv): Promise<KeyForHeader> {
  const secret = (await readSecret(o, env, { passphraseFile: '--passphrase-file', passphraseEnv: '--passphrase-env', keyFile: '--key-file' }))!;
  return 'key' in secret ? rawKey(secret.key) : passphraseKeys(secret.passphrase);
}

/** Decrypts one file to `out` (temp name, fsync, rename); nothing is left at `out` or beside it on failure. */
export async function decryptFile(input: string, out: string, keyFor: KeyForHeader): Promise<number> {
  const tmp = tempPathFor(out);
  await fs.mkdir(path.dirname(path.resolve(out)), { recursive: true });
  const fh = await fs.open(tmp, 'wx');
  let bytes = 0;
  try {
    for await (const chunk of decryptStream(createReadStream(input, { highWaterMark: 1 << 20 }), keyFor)) {
      let off = 0;
      while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
      bytes += chunk.length;
    }
    await fh.sync();
    await fh.close();
    await fs.rename(tmp, out);
    return bytes;
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fs.unlink(tmp).catch(() => undefined);
    throw err;
  }
}

export function registerDecrypt(program: Command, ctx: Ctx): void {
  program
    .command('decrypt')
    .description('decrypt files of a job with output.encryption (X.enc → X); needs no API (docs/ENCRYPTION.md)')
    .argument('<files...>', 'encrypted files (….enc)')
    .option('-o, --out <file>', 'the plaintext file (one input only; default: the input without .enc)')
    .option('--passphrase-file <file>', 'read the passphrase from this file (one trailing newline is dropped)')
    .option('--passphrase-env <var>', 'read the passphrase from this environment variable')
    .option('--key-file <file>', 'the raw key: 32 bytes, or their base64')
    .option('--force', 'replace output files that exist')
    .action(async (files: string[], o: DecryptOptions, cmd: Command) => {
      if (o.out !== undefined && files.length !== 1) throw new UsageError('-o/--out takes one input file');
      const keyFor = await keySource(o, ctx.env);
      const json = ctx.json(cmd);
      const plan = files.map((input) => {
        const out = o.out ?? (input.endsWith(ENCRYPTED_EXTENSION) ? input.slice(0, -ENCRYPTED_EXTENSION.length) : undefined);
        if (!out) throw new UsageError(`${input} does not end in ${ENCRYPTED_EXTENSION}: name the output with -o`);
        if (path.resolve(out) === path.resolve(input)) throw new UsageError(`${input}: the output would replace the input`);
        return { input, out };
      });
      const done: Array<{ input: string; out: string; bytes: number }> = [];
      for (const { input, out } of plan) {
        if (!o.force && (await fs.stat(out).then(() => true, () => false))) throw new CommandFailed(`${out} exists (--force replaces it)`);
        let bytes: number;
        try {
          bytes = await decryptFile(input, out, keyFor);
        } catch (err) {
          if (err instanceof EncryptionError) throw new CommandFailed(`${input}: ${err.message}`);
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') throw new CommandFailed(`${input}: cannot read it (${code})`);
          throw err;
        }
        done.push({ input, out, bytes });
        if (!json) ctx.io.out(`${input} → ${out} (${bytes} bytes)`);
      }
      if (json) ctx.io.out(JSON.stringify(done));
    });
}
