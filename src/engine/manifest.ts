/**
 * `manifest.json`: what a completed job made. Written last and atomically by `finalizeJob`; read
 * by the API (result files, downloads). Per table: columns, rows, files (rows, bytes, sha256) and
 * a content digest that does not depend on how the job was partitioned.
 */
import type { ColumnSchema } from '../data/batch.js';
import { manifestPath, readJson, writeJsonAtomic } from './job-files.js';
import type { FileRecord, JobInput, JobPlan, LoadSummary } from './types.js';

export const MANIFEST_VERSION = 2;

export interface ManifestFile {
  name: string;
  rows: number;
  bytes: number;
  sha256: string;
}

export interface ManifestTable {
  name: string;
  columns: ColumnSchema[];
  rows: number;
  digest: string | null;
  files: ManifestFile[];
}

export interface Manifest {
  manifestVersion: number;
  jobId: string;
  kind: string;
  spec: Record<string, unknown>;
  /** The spec's seed, when the kind has one: the same spec and seed give the same bytes. */
  seed: number | null;
  output: JobInput['output'];
  partitioning: JobInput['partitioning'];
  unit: JobPlan['unit'];
  /** Work units of the job (rows for generated tables). */
  units: number;
  rows: number;
  bytes: number;
  shards: number;
  tables: ManifestTable[];
  /** Files that belong to no table (schema.sql, a diff, …). */
  files: ManifestFile[];
  totals?: Record<string, number>;
  kindResult?: Record<string, unknown>;
  /** The Postgres load (`output.postgres`): target name (never a URL), schema, rows per table, keys and indexes. */
  load?: LoadSummary;
}

export const fileEntry = (f: FileRecord): ManifestFile => ({ name: f.name, rows: f.rows, bytes: f.bytes, sha256: f.sha256 });

export function readManifest(dataDir: string, jobId: string): Promise<Manifest | undefined> {
  return readJson<Manifest>(manifestPath(dataDir, jobId));
}

export function writeManifest(dataDir: string, manifest: Manifest): Promise<void> {
  return writeJsonAtomic(manifestPath(dataDir, manifest.jobId), manifest);
}

/** Every file of the manifest, tables first (in table order), then the job's own files. */
export function manifestFiles(m: Pick<Manifest, 'tables' | 'files'>): ManifestFile[] {
  return [...m.tables.flatMap((t) => t.files), ...(m.files ?? [])];
}
