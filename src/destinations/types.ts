import type { ByteOut } from '../encoders/types.js';

export interface Committed {
  /** Bytes received (before any transformation the destination applies itself). */
  bytes: number;
  /** sha256 (hex) of those bytes. */
  sha256: string;
}

/**
 * Where an encoder's bytes go, all or nothing: write() sequentially (await each), then commit()
 * or abort(). Nothing is visible to readers before commit() resolves; after abort() nothing is
 * left behind. abort() is idempotent and safe after a failed write() or commit().
 *
 * Registered kinds (./registry.ts): 'file' (./file.ts: temp name, fsync, atomic rename).
 * Seams for later kinds, each a new module calling registerDestination():
 *  - an encrypted file: encrypt in write() (streaming AEAD, per-file key from the target), write
 *    the ciphertext through the same temp-then-rename steps as FileOut; bytes/sha256 report the
 *    plaintext unless the target asks otherwise;
 *  - a Postgres COPY stream: open a transaction and `COPY t FROM STDIN (FORMAT csv, HEADER true)`
 *    in open, write() feeds the copy stream (with backpressure), commit() ends the COPY and
 *    COMMITs, abort() ROLLBACKs. Paired with the csv encoder, compression 'none'.
 */
export interface Destination extends ByteOut {
  write(chunk: Uint8Array): Promise<void>;
  commit(): Promise<Committed>;
  abort(): Promise<void>;
}

/** What to open: `kind` selects the registered destination; the rest is that kind's. */
export interface DestinationTarget {
  kind: string;
  [option: string]: unknown;
}

/** A local file at `path` (parent directories are created). */
export interface FileTarget extends DestinationTarget {
  kind: 'file';
  path: string;
}

export interface DestinationFactory<T extends DestinationTarget = DestinationTarget> {
  kind: T['kind'];
  open(target: T): Promise<Destination>;
}
