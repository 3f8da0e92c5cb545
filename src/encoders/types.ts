import type { Batch, ColumnSchema } from '../data/batch.js';

export type OutputFormat = 'parquet' | 'csv' | 'ndjson';
export type Compression = 'zstd' | 'snappy' | 'gzip' | 'none';

export interface PartOptions {
  /** Final path of the part file; it appears there only once complete (temp name, fsync, rename). */
  path: string;
  format: OutputFormat;
  compression: Compression;
  schema: ColumnSchema[];
  /** Parquet only: rows per row group (default DEFAULT_ROW_GROUP_ROWS). Memory is O(row group). */
  rowGroupRows?: number;
  /** Codec level: zstd 1..22 (default 3), gzip 1..9 (default 1, for speed). */
  compressionLevel?: number;
}

export interface PartResult {
  rows: number;
  bytes: number;
  sha256: string;
}

/** One part file being written. Call write() sequentially (await each); then finish() or abort(). */
export interface PartSink {
  write(batch: Batch): Promise<void>;
  /** Flush, fsync, rename to opts.path; rows/bytes/sha256 describe the final file. */
  finish(): Promise<PartResult>;
  /** Removes the temp file; nothing appears at opts.path. Safe to call more than once. */
  abort(): Promise<void>;
}

/** Sequential byte destination (a file, or a compressor in front of one). */
export interface ByteOut {
  write(chunk: Uint8Array): Promise<void>;
}
