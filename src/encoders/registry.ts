/**
 * Encoder registry: each format module calls registerEncoder() when it is loaded; index.ts loads
 * them all. Lookups are by format name, so callers (openPart, the API's validation) need no
 * hard-coded list of formats or of the compressions each allows.
 */
import type { Compression, EncoderFactory, OutputFormat } from './types.js';

const encoders = new Map<string, EncoderFactory>();

export function registerEncoder(f: EncoderFactory): void {
  if (encoders.has(f.format)) throw new Error(`encoder ${f.format} registered twice`);
  if (f.compressions.length === 0) throw new Error(`encoder ${f.format} lists no compression`);
  encoders.set(f.format, f);
}

/** The registered encoder for a format; throws naming output.format when there is none. */
export function encoderFor(format: string): EncoderFactory {
  const f = encoders.get(format);
  if (!f) throw new Error(`unsupported output.format ${JSON.stringify(format)} (one of ${[...encoders.keys()].join(', ')})`);
  return f;
}

export interface FormatInfo {
  format: OutputFormat;
  /** Allowed compressions, the default first. */
  compressions: readonly Compression[];
  defaultCompression: Compression;
}

/** Every registered format with its compressions, in registration order. */
export function outputFormats(): FormatInfo[] {
  return [...encoders.values()].map((f) => ({ format: f.format, compressions: f.compressions, defaultCompression: f.compressions[0] }));
}

/**
 * Throws (naming output.format or output.compression) unless the format is registered and allows
 * the compression. Returns the factory.
 */
export function checkOutput(format: string, compression: string): EncoderFactory {
  const f = encoderFor(format);
  if (!(f.compressions as readonly string[]).includes(compression)) {
    throw new Error(
      `output.compression ${JSON.stringify(compression)} is not supported for ${format} (use ${f.compressions.map((c) => `'${c}'`).join(' or ')})`,
    );
  }
  return f;
}

/** File name ending of a part: '.parquet', '.csv', '.csv.gz', '.ndjson', '.ndjson.gz'. */
export function partExtension(format: OutputFormat, compression: Compression): string {
  return checkOutput(format, compression).extension(compression);
}
