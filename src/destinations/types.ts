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
 * Registered kinds (./registry.ts): 'file' (./file.ts: temp name, fsync, atomic rename);
 * 'encrypted-file' (./encrypted.ts: AES-256-GCM in chunks, per-file key, then the same steps as
 * 'file'; its bytes/sha256 are the stored ciphertext's, which resume checks, the manifest and
 * downloads use — docs/ENCRYPTION.md).
 * Not registered, because opening it may find the part already loaded (and return null instead):
 * a part's Postgres COPY (./postgres.ts `openPartLoad`: a transaction with the part's marker, write()
 * feeds `COPY … FROM STDIN` with backpressure, commit() ends it and COMMITs, abort() ROLLBACKs),
 * paired with the COPY binary encoder (src/encoders/pgcopy.ts).
 * A later kind is a new module calling registerDestination().
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
