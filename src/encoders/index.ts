/**
 * The encoding layer: batches → bytes. Each format registers itself (parquet.ts, text.ts) in
 * the registry; importing this module loads them all.
 */
import './parquet.js';
import './text.js';
import './json-documents.js';

export { checkOutput, encoderFor, outputFormats, partExtension, registerEncoder, type FormatInfo } from './registry.js';
export { DEFAULT_ROW_GROUP_ROWS } from './parquet.js';
export { DEFAULT_TEXT_GZIP_LEVEL } from './text.js';
export { GzipOut } from './compress.js';
export type { ByteOut, Compression, Encoder, EncoderFactory, EncoderOptions, OutputFormat } from './types.js';
export { openPgCopy } from './pgcopy.js';
