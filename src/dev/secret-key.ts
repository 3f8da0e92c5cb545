/**
 * The dev stack's SHARDFLOW_SECRET_KEY (docs/ENCRYPTION.md) when the environment has none: 32 random
 * bytes made once and kept in `<data dir>/secret-key` (mode 0600), so jobs with `output.encryption`
 * work on `npm run dev` and survive its restarts. Production sets the variable itself.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export function devSecretKey(dataDir: string): string {
  const file = path.join(dataDir, 'secret-key');
  const valid = (k: string) => Buffer.from(k, 'base64').length === 32;
  const read = (): string => {
    const kept = fs.readFileSync(file, 'utf8').trim();
    if (!valid(kept)) throw new Error(`${file} is not the base64 of 32 bytes: remove it (encrypted jobs not yet completed then cannot finish) or set SHARDFLOW_SECRET_KEY`);
    return kept;
  };
  if (fs.existsSync(file)) return read();
  const key = randomBytes(32).toString('base64');
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    // wx: of two stacks starting at once on one folder, the second reads the first one's key.
    fs.writeFileSync(file, key + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return read();
    throw err;
  }
  return key;
}
