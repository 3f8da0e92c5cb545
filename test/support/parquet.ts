/**
 * Test helpers: read a Parquet part back with an independent reader (hyparquet, pure JS, a
 * devDependency; zstd/snappy/gzip via hyparquet-compressors). Not for production paths.
 */
import { readFile } from 'node:fs/promises';

export type ParquetRow = Record<string, string | number | bigint | null>;

/** All rows of a Parquet file as objects keyed by column name (nulls as null). */
export async function readParquetRows(path: string): Promise<ParquetRow[]> {
  const { parquetReadObjects } = await import('hyparquet');
  const { compressors } = await import('hyparquet-compressors');
  const b = await readFile(path);
  const file = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  const rows = (await parquetReadObjects({ file, compressors })) as ParquetRow[];
  for (const r of rows) for (const k of Object.keys(r)) if (r[k] === undefined) r[k] = null;
  return rows;
}

/** Footer metadata (row groups, schema, codecs) via hyparquet. */
export async function readParquetMetadata(path: string): Promise<unknown> {
  const { parquetMetadata } = await import('hyparquet');
  const b = await readFile(path);
  return parquetMetadata(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
}
