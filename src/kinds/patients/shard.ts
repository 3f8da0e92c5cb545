/**
 * Patients shards, on a shard thread: patients [start, end) of the job, part by part. A part is
 * the same patient range in every table of the format (patients, timeline, … with the same part
 * number); its patients are generated in chunks, each chunk turned into every table's rows
 * (tables.ts) and written, then all of the part's files are closed and committed together with the
 * summary counts. A retry resumes after the last committed part. ndjson writes the nested record,
 * one patient per line, through the same destination (and gzip) as the other text formats.
 */
import path from 'node:path';
import { TableDigest } from '../../data/digest.js';
import { ENCRYPTED_EXTENSION, openDestination, openPart, type Destination, type PartEncryption, type PartSink } from '../../destinations/index.js';
import { DEFAULT_TEXT_GZIP_LEVEL, GzipOut, partExtension } from '../../encoders/index.js';
import type { ShardRunner } from '../../engine/kind.js';
import { partName } from '../../engine/job-files.js';
import type { FileRecord } from '../../engine/types.js';
import { patient, patientModel, type Patient, type PatientModel } from './generate.js';
import type { PatientsSpec } from './spec.js';
import { PatientStats } from './summary.js';
import { ROLES } from './scenario.js';
import { LOCATION_TABLE, locationPart, patientParts, patientTables, type FhirContext } from './tables.js';

/** Patients generated and written at a time (bounded memory whatever the part size): a FHIR patient is ~20 KB of JSON, a record ~2.5 KB. */
const CHUNK = 2000;
const FHIR_CHUNK = 500;
const PROGRESS_EVERY_MS = 200;

interface Writer {
  write(part: ReturnType<typeof patientParts>[number]): Promise<void>;
  finish(): Promise<{ rows: number; bytes: number; sha256: string }>;
  abort(): Promise<void>;
}

/** The nested record, one JSON line per patient. */
async function ndjsonWriter(file: string, gzip: boolean, encryption?: PartEncryption): Promise<Writer> {
  // An encrypted part's nonce is a function of its name (as every part's: docs/ENCRYPTION.md), so a rewrite is the same bytes.
  const dest: Destination = encryption
    ? await openDestination({ kind: 'encrypted-file', path: file, name: encryption.name, jobKey: encryption.jobKey, fileNonce: 'name' })
    : await openDestination({ kind: 'file', path: file });
  const gz = gzip ? new GzipOut(dest, DEFAULT_TEXT_GZIP_LEVEL) : undefined;
  const out = gz ?? dest;
  let rows = 0;
  return {
    async write(part) {
      const col = part.batch.columns[0] as { values: string[] };
      if (col.values.length) await out.write(Buffer.from(col.values.join('\n') + '\n', 'utf8'));
      rows += part.batch.length;
    },
    async finish() {
      await gz?.end();
      return { rows, ...(await dest.commit()) };
    },
    async abort() {
      gz?.destroy();
      await dest.abort();
    },
  };
}

function sinkWriter(sink: PartSink): Writer {
  return { write: (part) => sink.write(part.batch), finish: () => sink.finish(), abort: () => sink.abort() };
}

const models = new Map<string, PatientModel>();

export const runShard: ShardRunner<unknown> = async ({ input, shard, resume, io }) => {
  const spec = input.spec as unknown as PatientsSpec;
  let model = models.get(input.jobId);
  if (!model) {
    model = patientModel(spec.resolvedScenario);
    models.set(input.jobId, model);
    if (models.size > 8) models.delete(models.keys().next().value!);
  }
  const { format, compression } = input.output;
  if (input.output.encryption && !io.encryption) throw new Error(`job ${input.jobId} is encrypted, and the shard has no key`);
  const ext = partExtension(format, compression) + (io.encryption ? ENCRYPTED_EXTENSION : '');
  const tables = patientTables(format);
  const fhir: FhirContext = { seed: spec.seed, roles: ROLES.filter((r) => spec.resolvedScenario.facilities[r].enabled) };
  const done: FileRecord[] = resume?.files ?? [];
  const stats = PatientStats.fromTotals(Date.parse(spec.resolvedScenario.start), resume?.totals);
  const partsDone = done.filter((f) => f.table === tables[0]!.name).length;
  let units = resume?.unitsCommitted ?? 0;
  let lastReport = 0;
  for (let k = partsDone; shard.start + k * shard.partSize < shard.end; k++) {
    if (io.shouldStop()) return { stopped: true };
    const partStart = shard.start + k * shard.partSize;
    const partEnd = Math.min(shard.end, partStart + shard.partSize);
    // fhir-bulk's Location resources (the roles) go once, with the job's first part.
    const partTables = tables.filter((t) => t.name !== LOCATION_TABLE || partStart === 0);
    const names = partTables.map((t) => partName(t.name, shard.firstPart + k, ext));
    const writers: Writer[] = [];
    const digests = partTables.map(() => new TableDigest());
    try {
      for (const [i, t] of partTables.entries()) {
        const file = path.join(io.jobDir, names[i]!);
        const encryption = io.encryption ? { jobKey: io.encryption, name: names[i]! } : undefined;
        writers.push(
          format === 'ndjson'
            ? await ndjsonWriter(file, compression === 'gzip', encryption)
            : sinkWriter(await openPart({ path: file, format, compression, schema: t.schema, ...(encryption ? { encryption } : {}) })),
        );
      }
      const chunk = format === 'fhir' || format === 'fhir-bulk' ? FHIR_CHUNK : CHUNK;
      // A chunk's writes (gzip and file, off this thread) overlap the next chunk's generation;
      // the writes themselves stay in order, one chunk after the other.
      let writing: Promise<void> = Promise.resolve();
      for (let a = partStart; a < partEnd; a += chunk) {
        const b = Math.min(partEnd, a + chunk);
        const patients: Patient[] = [];
        for (let i = a; i < b; i++) {
          const p = patient(model, spec.seed, i);
          patients.push(p);
          stats.add(p);
        }
        const parts = patientParts(format, patients, fhir);
        if (a === 0 && partTables.some((t) => t.name === LOCATION_TABLE)) parts.push(locationPart(fhir));
        await writing;
        writing = (async () => {
          for (const part of parts) {
            const i = partTables.findIndex((t) => t.name === part.table);
            digests[i]!.merge(part.digest);
            await writers[i]!.write(part);
          }
        })();
        // Not awaited until the next chunk (or the part's end); a failure then throws there.
        writing.catch(() => undefined);
        const now = Date.now();
        if (now - lastReport > PROGRESS_EVERY_MS) {
          lastReport = now;
          io.progress(units + (a - partStart));
        }
      }
      await writing;
      const files: FileRecord[] = [];
      for (const [i, w] of writers.entries()) files.push({ name: names[i]!, table: partTables[i]!.name, ...(await w.finish()), digest: digests[i]!.toString() });
      units += partEnd - partStart;
      await io.commit({ checkpoint: null, files, units, totals: stats.toTotals() });
    } catch (err) {
      for (const w of writers) await w.abort().catch(() => undefined);
      throw err;
    }
  }
  return { stopped: false };
};
