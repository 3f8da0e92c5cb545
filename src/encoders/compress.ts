import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { createGzip, gzip as gzipCb, type Gzip } from 'node:zlib';
import SnappyJS from 'snappyjs';
import type { ByteOut, Compression } from './types.js';

const gzipAsync = promisify(gzipCb);

/**
 * zstd through `@mongodb-js/zstd`'s native binding itself: the package's `compress(data, level)`
 * wrapper (1.2.2) drops the level, so every page got zstd's default (3) whatever was asked. The
 * binding (napi-rs, `compress(data: Buffer, level?: number): Promise<Buffer>`) takes it.
 */
const zstd = createRequire(import.meta.url)('@mongodb-js/zstd/bindings.js') as { compress(data: Buffer, level?: number): Promise<Buffer> };

/**
 * Default page levels: zstd 1, as pyarrow (Arrow's default; DuckDB's and zstd's own is 3): on the
 * relational bench's rows 28–37 % less encode + zstd CPU than level 3 for pages 1–7 % larger, and files
 * still smaller than DuckDB's at level 3 (docs/BENCHMARKS.md); gzip 4, zlib's first level with lazy matching:
 * on 1M trial rows 16 % smaller pages than level 1 (files 0.90 × pyarrow's instead of 1.07) for
 * 6–20 % more writer CPU; level 6 is 5 % smaller again for ~1.6× level 1's CPU (docs/PARQUET.md).
 */
export const DEFAULT_LEVEL: Record<'zstd' | 'gzip', number> = { zstd: 1, gzip: 4 };

/** Compresses one Parquet page body with the given codec. zstd and gzip run off the JS thread. */
export async function compressPage(codec: Compression, data: Buffer, level?: number): Promise<Buffer> {
  switch (codec) {
    case 'none':
      return data;
    case 'zstd':
      try {
        return await zstd.compress(data, level ?? DEFAULT_LEVEL.zstd);
      } catch (e) {
        throw new Error(`zstd: ${(e as Error).message}`);
      }
    case 'gzip':
      return gzipAsync(data, { level: level ?? DEFAULT_LEVEL.gzip });
    case 'snappy': {
      const out = SnappyJS.compress(data) as Uint8Array;
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    }
  }
}

/** A streaming gzip member in front of another ByteOut; memory stays bounded to one chunk. */
export class GzipOut implements ByteOut {
  private readonly gz: Gzip;
  private chain: Promise<void> = Promise.resolve();
  private error: Error | undefined;

  constructor(private readonly out: ByteOut, level: number) {
    this.gz = createGzip({ level, chunkSize: 1 << 20 });
    this.gz.on('data', (c: Buffer) => {
      this.chain = this.chain.then(() => this.out.write(c));
      this.chain.catch((e: Error) => (this.error ??= e));
    });
    this.gz.on('error', (e: Error) => (this.error ??= e));
  }

  /** The chunk must not be modified afterwards (it is consumed asynchronously). */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.error) throw this.error;
    await new Promise<void>((resolve, reject) => this.gz.write(chunk, (e) => (e ? reject(e) : resolve())));
    await this.chain;
    if (this.error) throw this.error;
  }

  async end(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.gz.once('end', resolve);
      this.gz.once('error', reject);
      this.gz.end();
    });
    await this.chain;
    if (this.error) throw this.error;
  }

  destroy(): void {
    this.gz.destroy();
  }
}
