import type { Batch, ColumnSchema } from '../data/batch.js';

export type OutputFormat = 'parquet' | 'csv' | 'ndjson' | 'fhir' | 'fhir-bulk';
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

/** Sequential byte destination (a file, or a compressor in front of one). Await each write. */
export interface ByteOut {
  /** The chunk may be kept until the returned promise settles; the caller must not modify it before. */
  write(chunk: Uint8Array): Promise<void>;
}

export interface EncoderOptions {
  compression: Compression;
  /** zstd 1..22 (default 3), gzip 1..9 (default 1). */
  compressionLevel?: number;
  /** Parquet only: rows per row group (default DEFAULT_ROW_GROUP_ROWS). */
  rowGroupRows?: number;
}

/**
 * Turns batches of one table into bytes on a ByteOut. write() sequentially (await each), then
 * finish() once, which writes everything still buffered (Parquet footer, gzip trailer). It does not
 * commit or close the ByteOut: that is the destination's job. After a failure, call destroy().
 */
export interface Encoder {
  /** Rows accepted so far. */
  readonly rows: number;
  write(batch: Batch): Promise<void>;
  finish(): Promise<void>;
  /** Releases resources (e.g. a gzip stream) without finishing. Idempotent. */
  destroy(): void;
}

/** One output format, as registered in the encoder registry (./registry.ts). */
export interface EncoderFactory {
  format: OutputFormat;
  /** Compressions this format accepts, default first. */
  compressions: readonly Compression[];
  /** File name ending for a compression, with the dot: '.parquet', '.csv.gz'. */
  extension(compression: Compression): string;
  /** Writes any header (Parquet magic, CSV header row) before resolving. */
  open(out: ByteOut, schema: readonly ColumnSchema[], opts: EncoderOptions): Promise<Encoder>;
}
