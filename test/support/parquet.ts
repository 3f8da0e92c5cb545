/**
 * Test helpers: read a Parquet part back with an independent reader (hyparquet, pure JS, a
 * devDependency; zstd/snappy/gzip via hyparquet-compressors). Not for production paths.
 *
 * Values come back as: string, boolean, number (int32, float64, date as days since 1970-01-01),
 * bigint (int64, timestamp as microseconds since the epoch), uuid as its 8-4-4-4-12 string, and
 * null for nulls. Dates and timestamps are not turned into Date objects (which would drop µs).
 */
import { readFile } from 'node:fs/promises';

export type ParquetRow = Record<string, string | number | bigint | boolean | null>;

const RAW_PARSERS = {
  dateFromDays: (days: number) => days,
  timestampFromMicroseconds: (us: bigint) => us,
};

function arrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** All rows of a Parquet file as objects keyed by column name (nulls as null). */
export async function readParquetRows(path: string): Promise<ParquetRow[]> {
  const { parquetReadObjects } = await import('hyparquet');
  const { compressors } = await import('hyparquet-compressors');
  const file = arrayBuffer(await readFile(path));
  const rows = (await parquetReadObjects({ file, compressors, parsers: RAW_PARSERS as never })) as ParquetRow[];
  for (const r of rows) for (const k of Object.keys(r)) if (r[k] === undefined) r[k] = null;
  return rows;
}

/** Footer metadata (row groups, schema, codecs, statistics decoded with the same conventions). */
export async function readParquetMetadata(path: string): Promise<any> {
  const { parquetMetadata } = await import('hyparquet');
  return parquetMetadata(arrayBuffer(await readFile(path)), { parsers: RAW_PARSERS as never });
}
