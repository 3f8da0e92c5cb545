import { createHash, randomBytes, type Hash } from 'node:crypto';
import { mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { registerDestination } from './registry.js';
import type { Committed, Destination, FileTarget } from './types.js';

/** Temp names are `.<final name>.tmp-<pid>-<hex>` in the final file's directory. */
const TEMP_RE = /^\..+\.tmp-\d+-[0-9a-f]+$/;

export function tempPathFor(finalPath: string): string {
  return join(dirname(finalPath), `.${basename(finalPath)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
}

export function isTempFileName(name: string): boolean {
  return TEMP_RE.test(name);
}

/** Small writes are gathered up to this many bytes before one file write. */
const GATHER_BYTES = 1 << 20;
/** A committed part's gather buffer, for the next part of this thread (parts follow each other). */
let spareGather: Buffer | undefined;

/**
 * The 'file' destination: writes to a temp file next to the final path, hashing and counting the
 * bytes; commit() fsyncs, renames atomically to the final path and fsyncs the directory. Chunks
 * smaller than 1 MiB are copied into one buffer and written together (fewer thread-pool round
 * trips per part).
 */
export class FileOut implements Destination {
  bytes = 0;
  private readonly hash: Hash = createHash('sha256');
  private closed = false;
  private gather: Buffer | undefined;
  private gathered = 0;

  private constructor(
    readonly finalPath: string,
    readonly tempPath: string,
    private readonly fh: FileHandle,
  ) {}

  static async open(finalPath: string): Promise<FileOut> {
    await mkdir(dirname(finalPath), { recursive: true });
    const tempPath = tempPathFor(finalPath);
    const fh = await open(tempPath, 'wx');
    return new FileOut(finalPath, tempPath, fh);
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (chunk.length === 0) return;
    this.bytes += chunk.length;
    if (this.gathered + chunk.length <= GATHER_BYTES) {
      if (!this.gather) {
        this.gather = spareGather ?? Buffer.allocUnsafe(GATHER_BYTES);
        spareGather = undefined;
      }
      this.gather.set(chunk, this.gathered);
      this.gathered += chunk.length;
      return;
    }
    await this.flush();
    if (chunk.length >= GATHER_BYTES) return this.writeAll(chunk);
    this.gather!.set(chunk, 0);
    this.gathered = chunk.length;
  }

  private async flush(): Promise<void> {
    if (this.gathered === 0) return;
    const n = this.gathered;
    this.gathered = 0;
    await this.writeAll(this.gather!.subarray(0, n));
  }

  private async writeAll(data: Uint8Array): Promise<void> {
    this.hash.update(data);
    let off = 0;
    while (off < data.length) {
      const { bytesWritten } = await this.fh.write(data, off, data.length - off);
      off += bytesWritten;
    }
  }

  async commit(): Promise<Committed> {
    await this.flush();
    if (this.gather) {
      spareGather = this.gather;
      this.gather = undefined;
    }
    await this.fh.sync();
    await this.fh.close();
    this.closed = true;
    await rename(this.tempPath, this.finalPath);
    await syncDir(dirname(this.finalPath));
    return { bytes: this.bytes, sha256: this.hash.digest('hex') };
  }

  async abort(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await this.fh.close().catch(() => undefined);
    }
    await unlink(this.tempPath).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }
}

async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the rename itself is still atomic.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

registerDestination<FileTarget>({ kind: 'file', open: (t) => FileOut.open(t.path) });

/**
 * Removes the temp files (`.<name>.tmp-<pid>-<hex>`) that an interrupted writer left in `dir`
 * (not recursive). With `olderThanMs`, only those not modified for that long, so that writers
 * still running in the same directory are spared. Returns the names removed; a missing dir is
 * not an error.
 */
export async function cleanTempFiles(dir: string, opts: { olderThanMs?: number } = {}): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const removed: string[] = [];
  const now = Date.now();
  for (const name of names) {
    if (!isTempFileName(name)) continue;
    const p = join(dir, name);
    try {
      if (opts.olderThanMs !== undefined) {
        const st = await stat(p);
        if (!st.isFile() || now - st.mtimeMs < opts.olderThanMs) continue;
      }
      await unlink(p);
      removed.push(name);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return removed;
}
