import type { Batch } from '../data/batch.js';
import { FileOut } from './file.js';
import { GzipOut } from '../encoders/compress.js';
import type { ByteOut } from '../encoders/types.js';
import { ParquetWriter } from '../encoders/parquet.js';
import { CsvWriter, NdjsonWriter } from '../encoders/text.js';
import type { PartOptions, PartResult, PartSink } from '../encoders/types.js';

export type { Compression, OutputFormat, PartOptions, PartResult, PartSink } from '../encoders/types.js';
export { cleanTempFiles, isTempFileName, tempPathFor } from './file.js';
export { DEFAULT_ROW_GROUP_ROWS } from '../encoders/parquet.js';

/** gzip level used for CSV/NDJSON when compressionLevel is not given. */
export const DEFAULT_TEXT_GZIP_LEVEL = 1;

function validate(opts: PartOptions): void {
  const { format, compression } = opts;
  if (!['parquet', 'csv', 'ndjson'].includes(format)) throw new Error(`unsupported output.format ${JSON.stringify(format)}`);
  if (!['zstd', 'snappy', 'gzip', 'none'].includes(compression)) {
    throw new Error(`unsupported output.compression ${JSON.stringify(compression)}`);
  }
  if (format !== 'parquet' && compression !== 'none' && compression !== 'gzip') {
    throw new Error(`output.compression ${JSON.stringify(compression)} is not supported for ${format} (use 'gzip' or 'none')`);
  }
  if (opts.schema.length === 0) throw new Error('schema has no columns');
}

/**
 * Opens one part file. Bytes go to `.<name>.tmp-<pid>-<hex>` beside opts.path (parent dirs are
 * created); finish() flushes, fsyncs and renames it to opts.path; abort() deletes it.
 */
export async function openPart(opts: PartOptions): Promise<PartSink> {
  validate(opts);
  const file = await FileOut.open(opts.path);
  let state: 'open' | 'finished' | 'aborted' = 'open';
  let gz: GzipOut | undefined;
  let writeBatch: (b: Batch) => Promise<void>;
  let end: () => Promise<void>;
  let rows: () => number;
  try {
    if (opts.format === 'parquet') {
      const pw = new ParquetWriter(file, opts.schema, {
        compression: opts.compression,
        compressionLevel: opts.compressionLevel,
        rowGroupRows: opts.rowGroupRows,
      });
      await pw.start();
      writeBatch = (b) => pw.write(b);
      end = () => pw.finish();
      rows = () => pw.rows;
    } else {
      let out: ByteOut = file;
      if (opts.compression === 'gzip') out = gz = new GzipOut(file, opts.compressionLevel ?? DEFAULT_TEXT_GZIP_LEVEL);
      const tw = opts.format === 'csv' ? new CsvWriter(opts.schema, out) : new NdjsonWriter(opts.schema, out);
      writeBatch = (b) => tw.write(b);
      end = async () => {
        await tw.flush();
        await gz?.end();
      };
      rows = () => tw.rows;
    }
  } catch (e) {
    await file.abort();
    throw e;
  }

  const abort = async (): Promise<void> => {
    if (state === 'aborted') return;
    state = 'aborted';
    gz?.destroy();
    await file.abort();
  };

  return {
    async write(batch: Batch): Promise<void> {
      if (state !== 'open') throw new Error(`part ${opts.path} is ${state}`);
      try {
        await writeBatch(batch);
      } catch (e) {
        await abort();
        throw e;
      }
    },
    async finish(): Promise<PartResult> {
      if (state !== 'open') throw new Error(`part ${opts.path} is ${state}`);
      try {
        await end();
        const { bytes, sha256 } = await file.commit();
        state = 'finished';
        return { rows: rows(), bytes, sha256 };
      } catch (e) {
        await abort();
        throw e;
      }
    },
    abort,
  };
}
