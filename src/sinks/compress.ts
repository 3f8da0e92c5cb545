import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { compress as zstdCompress } from '@mongodb-js/zstd';
import SnappyJS from 'snappyjs';
import type { Compression } from './types.js';

const gzipAsync = promisify(gzipCb);

/** Default levels: zstd 3 (zstd's own default), gzip 1 (level 6 is ~4x slower for ~20% smaller files). */
export const DEFAULT_LEVEL: Record<'zstd' | 'gzip', number> = { zstd: 3, gzip: 1 };

/** Compresses one Parquet page body with the given codec. zstd and gzip run off the JS thread. */
export async function compressPage(codec: Compression, data: Buffer, level?: number): Promise<Buffer> {
  switch (codec) {
    case 'none':
      return data;
    case 'zstd':
      return zstdCompress(data, level ?? DEFAULT_LEVEL.zstd);
    case 'gzip':
      return gzipAsync(data, { level: level ?? DEFAULT_LEVEL.gzip });
    case 'snappy': {
      const out = SnappyJS.compress(data) as Uint8Array;
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    }
  }
}
