/**
 * The keys of encrypted jobs (`output.encryption`; docs/ENCRYPTION.md, "How the key reaches the
 * workers"). The API derives a job's master key once and stores it in `job_keys`, sealed with
 * SHARDFLOW_SECRET_KEY (AES-256-GCM, the job id as additional data); workers unseal it for the
 * shards and the finalize of that job; the row is deleted when the job completes or is removed.
 * Nothing here logs, and no error message carries key material.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type postgres from 'postgres';
import type { JobKey, KdfParams } from '../destinations/index.js';

/** A job's key cannot be had (no server key, no row, another server key): not retryable. */
export class JobKeyUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncryptionKeyUnavailable';
  }
}

const aad = (jobId: string) => Buffer.from(`shardflow job key v1\0${jobId}`, 'utf8');

/** base64 of IV (12) ‖ AES-256-GCM(secret, IV, aad = job id)(key) ‖ tag (16). */
export function sealJobKey(secret: Uint8Array, jobId: string, key: Uint8Array): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', secret, iv);
  c.setAAD(aad(jobId));
  return Buffer.concat([iv, c.update(key), c.final(), c.getAuthTag()]).toString('base64');
}

export function unsealJobKey(secret: Uint8Array, jobId: string, sealed: string): Buffer {
  const b = Buffer.from(sealed, 'base64');
  try {
    const d = createDecipheriv('aes-256-gcm', secret, b.subarray(0, 12));
    d.setAAD(aad(jobId));
    d.setAuthTag(b.subarray(b.length - 16));
    return Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]);
  } catch {
    throw new JobKeyUnavailable(`the key of job ${jobId} does not unseal: this process's SHARDFLOW_SECRET_KEY is not the one the API sealed it with`);
  }
}

/** The `job_keys` row of a new job (drizzle's insert shape). */
export function jobKeyRow(secret: Uint8Array, jobId: string, k: JobKey): { jobId: string; sealed: string; salt: string; kdf: KdfParams } {
  return { jobId, sealed: sealJobKey(secret, jobId, k.key), salt: Buffer.from(k.salt).toString('base64'), kdf: k.kdf };
}

/** Reads and unseals a job's key. Throws JobKeyUnavailable, or the database's own error (an outage is retried by the caller). */
export async function loadJobKey(sql: postgres.Sql, secret: Uint8Array | undefined, jobId: string): Promise<JobKey> {
  if (!secret) throw new JobKeyUnavailable(`this worker has no SHARDFLOW_SECRET_KEY: it cannot write the encrypted files of job ${jobId}`);
  const [row] = await sql<{ sealed: string; salt: string; kdf: KdfParams }[]>`select sealed, salt, kdf from job_keys where job_id = ${jobId}`;
  if (!row) throw new JobKeyUnavailable(`job ${jobId} has no key any more (it completed or was deleted): its encrypted files cannot be written`);
  return { key: unsealJobKey(secret, jobId, row.sealed), salt: Buffer.from(row.salt, 'base64'), kdf: row.kdf };
}

export async function forgetJobKey(sql: postgres.Sql, jobId: string): Promise<void> {
  await sql`delete from job_keys where job_id = ${jobId}`;
}

/** Keys of recent jobs, per process: read once per job, not once per shard. */
export function jobKeyCache(load: (jobId: string) => Promise<JobKey>, size = 64) {
  const keys = new Map<string, Promise<JobKey>>();
  return {
    get(jobId: string): Promise<JobKey> {
      let k = keys.get(jobId);
      if (!k) {
        k = load(jobId);
        k.catch(() => keys.delete(jobId));
        keys.set(jobId, k);
        if (keys.size > size) keys.delete(keys.keys().next().value!);
      }
      return k;
    },
    forget(jobId: string): void {
      keys.delete(jobId);
    },
  };
}
