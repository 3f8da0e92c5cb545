/**
 * Destinations (bytes → somewhere, atomically) and openPart, which composes one with an encoder
 * from the encoder registry. Importing this module registers every destination kind.
 */
import type { Batch, ColumnSchema } from '../data/batch.js';
import { checkOutput, type Encoder } from '../encoders/index.js';
import type { Compression, EncoderOptions, OutputFormat, PartOptions, PartResult, PartSink } from '../encoders/types.js';
import './file.js';
import { openDestination } from './registry.js';
import type { Destination } from './types.js';

export type { Compression, OutputFormat, PartOptions, PartResult, PartSink } from '../encoders/types.js';
export type { Committed, Destination, DestinationFactory, DestinationTarget, FileTarget } from './types.js';
export { cleanTempFiles, isTempFileName, tempPathFor } from './file.js';
export { destinationKinds, openDestination, registerDestination } from './registry.js';
export { DEFAULT_ROW_GROUP_ROWS, DEFAULT_TEXT_GZIP_LEVEL } from '../encoders/index.js';

export interface EncodeOptions extends EncoderOptions {
  format: OutputFormat;
  compression: Compression;
  schema: ColumnSchema[];
}

/**
 * Opens one part file. Bytes go to `.<name>.tmp-<pid>-<hex>` beside opts.path (parent dirs are
 * created); finish() flushes, fsyncs and renames it to opts.path; abort() deletes it.
 */
export async function openPart(opts: PartOptions): Promise<PartSink> {
  checkOutput(opts.format, opts.compression);
  if (opts.schema.length === 0) throw new Error('schema has no columns');
  const { path, ...rest } = opts;
  return encodeTo(await openDestination({ kind: 'file', path }), rest, path);
}

/**
 * Encodes batches into an open destination: the part is committed by finish() and aborted by
 * abort() or by any failing write()/finish(). If the encoder cannot be opened, the destination is
 * aborted and the error rethrown. `label` names the part in errors.
 */
export async function encodeTo(dest: Destination, opts: EncodeOptions, label: string = opts.format): Promise<PartSink> {
  let state: 'open' | 'finished' | 'aborted' = 'open';
  let encoder: Encoder;
  try {
    if (opts.schema.length === 0) throw new Error('schema has no columns');
    encoder = await checkOutput(opts.format, opts.compression).open(dest, opts.schema, {
      compression: opts.compression,
      compressionLevel: opts.compressionLevel,
      rowGroupRows: opts.rowGroupRows,
    });
  } catch (e) {
    await dest.abort();
    throw e;
  }
  const enc = encoder;

  const abort = async (): Promise<void> => {
    if (state === 'aborted') return;
    state = 'aborted';
    enc.destroy();
    await dest.abort();
  };

  return {
    async write(batch: Batch): Promise<void> {
      if (state !== 'open') throw new Error(`part ${label} is ${state}`);
      try {
        await enc.write(batch);
      } catch (e) {
        await abort();
        throw e;
      }
    },
    async finish(): Promise<PartResult> {
      if (state !== 'open') throw new Error(`part ${label} is ${state}`);
      try {
        await enc.finish();
        const { bytes, sha256 } = await dest.commit();
        state = 'finished';
        return { rows: enc.rows, bytes, sha256 };
      } catch (e) {
        await abort();
        throw e;
      }
    },
    abort,
  };
}
export {
  createPostgresTargets,
  LOAD_SCHEMA,
  openClient,
  openPartLoad,
  quoteIdent,
  UnknownTargetError,
  type PartLoadTarget,
  type PostgresTargets,
  type PostgresTargetsConfig,
} from './postgres.js';
