/**
 * Destinations (bytes → somewhere, atomically) and openPart, which composes one with an encoder
 * from the encoder registry. Importing this module registers every destination kind.
 */
import type { Batch, ColumnSchema } from '../data/batch.js';
import { checkOutput, type Encoder } from '../encoders/index.js';
import type { Compression, EncoderOptions, OutputFormat, PartOptions, PartResult, PartSink } from '../encoders/types.js';
import './file.js';
import './encrypted.js';
import type { JobKey } from './encrypted.js';
import { openDestination } from './registry.js';
import type { Destination } from './types.js';

export type { Compression, OutputFormat, PartOptions, PartResult, PartSink } from '../encoders/types.js';
export type { Committed, Destination, DestinationFactory, DestinationTarget, FileTarget } from './types.js';
export { cleanTempFiles, isTempFileName, tempPathFor } from './file.js';
export {
  decryptStream,
  deriveKey,
  ENCRYPTED_EXTENSION,
  EncryptionError,
  keyIdOf,
  newJobKey,
  passphraseKeys,
  rawKey,
  type EncryptedFileTarget,
  type JobKey,
  type KdfParams,
  type KeyForHeader,
} from './encrypted.js';
export { destinationKinds, openDestination, registerDestination } from './registry.js';
export { DEFAULT_ROW_GROUP_ROWS, DEFAULT_TEXT_GZIP_LEVEL } from '../encoders/index.js';

export interface EncodeOptions extends EncoderOptions {
  format: OutputFormat;
  compression: Compression;
  schema: ColumnSchema[];
}

/** An encrypted part: the job's key, and the part's name in the job folder (it goes into the file key). */
export interface PartEncryption {
  jobKey: JobKey;
  name: string;
}

/**
 * Opens one part file. Bytes go to `.<name>.tmp-<pid>-<hex>` beside opts.path (parent dirs are
 * created); finish() flushes, fsyncs and renames it to opts.path; abort() deletes it. With
 * `encryption`, the encoded bytes are encrypted on the way ('encrypted-file', its file nonce
 * fixed by the name: a part is a pure function of its name, so a rewrite is byte-identical).
 */
export async function openPart(opts: PartOptions & { encryption?: PartEncryption }): Promise<PartSink> {
  checkOutput(opts.format, opts.compression);
  if (opts.schema.length === 0) throw new Error('schema has no columns');
  const { path, encryption, ...rest } = opts;
  const dest = encryption
    ? await openDestination({ kind: 'encrypted-file', path, name: encryption.name, jobKey: encryption.jobKey, fileNonce: 'name' })
    : await openDestination({ kind: 'file', path });
  return encodeTo(dest, rest, path);
}

/**
 * Opens a file of the job's own (schema.sql, a kind's report): plain, or encrypted with a random
 * file nonce (its content is not fixed by its name: a retried finalize may write other bytes).
 */
export function openJobFile(path: string, encryption?: PartEncryption): Promise<Destination> {
  return encryption
    ? openDestination({ kind: 'encrypted-file', path, name: encryption.name, jobKey: encryption.jobKey, fileNonce: 'random' })
    : openDestination({ kind: 'file', path });
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
