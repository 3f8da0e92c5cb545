/**
 * `shardflow jobs download <id> [--out dir]`: every file of a completed job, streamed to disk. A file
 * is written as `<name>.part`; an interrupted transfer (a dropped connection, or a previous run
 * stopped half-way) continues from the part's size with `Range` and `If-Range` (the file's ETag is
 * its manifest sha256, so a changed file starts over); each file is checked against the manifest's
 * sha256 before it is renamed into place. A file already there with the right sha256 is skipped.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import type { JobFile, ShardflowClient } from '../client/index.js';
import { bytes } from './format.js';
import { CommandFailed, type CliIo } from './io.js';
import { bar } from './progress.js';

/** Attempts per file after a dropped connection (each one resumes). */
const MAX_ATTEMPTS = 6;

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

const sizeOf = (file: string) => fs.stat(file).then((s) => s.size, () => -1);

export interface DownloadedFile {
  name: string;
  path: string;
  bytes: number;
  sha256: string | null;
  verified: boolean;
  /** downloaded, resumed (continued a part), or skipped (already there, checksum equal). */
  action: 'downloaded' | 'resumed' | 'skipped';
  attempts: number;
}

interface Meter {
  add(n: number): void;
  file(name: string): void;
}

function meter(io: CliIo, total: number, json: boolean): Meter & { done(): void } {
  const tty = !json && io.tty === true && typeof io.write === 'function';
  let got = 0;
  let current = '';
  let lastDraw = 0;
  const t0 = Date.now();
  const draw = (force = false) => {
    if (!tty) return;
    const now = Date.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    const rate = got / Math.max(0.001, (now - t0) / 1000);
    io.write!(`\r\x1b[2K${bar(total ? got / total : 1, 24)} ${bytes(got)}/${bytes(total)} ${bytes(rate)}/s ${current}`.slice(0, (io.columns?.() ?? 100) - 1));
  };
  return {
    add(n) {
      got += n;
      draw();
    },
    file(name) {
      current = name;
      draw(true);
    },
    done() {
      if (tty) io.write!('\r\x1b[2K');
    },
  };
}

/** One file to `dest`, resuming `dest.part`. */
async function downloadFile(sf: ShardflowClient, jobId: string, f: JobFile, dest: string, m: Meter): Promise<DownloadedFile> {
  m.file(f.name);
  const base = { name: f.name, path: dest, bytes: f.bytes, sha256: f.sha256 };
  if (f.sha256 && (await sizeOf(dest)) === f.bytes && (await sha256File(dest)) === f.sha256) {
    m.add(f.bytes);
    return { ...base, verified: true, action: 'skipped', attempts: 0 };
  }
  await fs.mkdir(path.dirname(dest), { recursive: true });
  const part = `${dest}.part`;
  let resumed = false;
  let restarted = false;
  for (let attempt = 1; ; attempt++) {
    // Only a file with a strong ETag (its sha256) can be continued safely.
    let have = f.sha256 ? Math.max(0, await sizeOf(part)) : 0;
    if (have > f.bytes) {
      await fs.rm(part, { force: true });
      have = 0;
    }
    if (have > 0 && have === f.bytes) {
      // Complete already (stopped before the check): nothing to fetch.
    } else {
      const headers: Record<string, string> = have > 0 ? { Range: `bytes=${have}-`, 'If-Range': `"${f.sha256}"` } : {};
      let res: Response;
      try {
        res = await sf.fetchFile(jobId, f.name, { headers });
      } catch (err) {
        if (attempt >= MAX_ATTEMPTS) throw new CommandFailed(`${f.name}: ${(err as Error).message}`);
        continue;
      }
      if (res.status === 416) {
        await fs.rm(part, { force: true });
        if (attempt >= MAX_ATTEMPTS) throw new CommandFailed(`${f.name}: the server refused the range ${have}- of a ${f.bytes}-byte file`);
        continue;
      }
      const append = res.status === 206;
      if (append) resumed = true;
      else if (have > 0) m.add(-have); // the server sent it all again
      if (append) m.add(have);
      const out = createWriteStream(part, { flags: append ? 'a' : 'w' });
      let dropped = false;
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          if (!out.write(chunk)) await once(out, 'drain');
          m.add(chunk.byteLength);
        }
      } catch {
        dropped = true; // the connection broke mid-body: resume from what reached the disk
      } finally {
        out.end();
        await once(out, 'close');
      }
      const size = await sizeOf(part);
      if (dropped || size !== f.bytes) {
        m.add(-(size > 0 ? size : 0));
        if (attempt >= MAX_ATTEMPTS) throw new CommandFailed(`${f.name}: the transfer kept breaking (${attempt} attempts); run the command again to continue`);
        continue;
      }
    }
    if (f.sha256) {
      const got = await sha256File(part);
      if (got !== f.sha256) {
        await fs.rm(part, { force: true });
        // A part left by something else (or a file replaced on the server): start over once.
        if (!restarted && attempt < MAX_ATTEMPTS) {
          restarted = true;
          resumed = false;
          m.add(-f.bytes);
          continue;
        }
        throw new CommandFailed(`${f.name}: sha256 ${got} does not match the manifest's ${f.sha256}`);
      }
    }
    await fs.rename(part, dest);
    return { ...base, verified: f.sha256 !== null, action: resumed ? 'resumed' : 'downloaded', attempts: attempt };
  }
}

/** A name from the server becomes a path under `outDir`, never outside it. */
function destination(outDir: string, name: string): string {
  const full = path.resolve(outDir, ...name.split('/'));
  if (!full.startsWith(path.resolve(outDir) + path.sep)) throw new CommandFailed(`refusing file name ${JSON.stringify(name)}: outside ${outDir}`);
  return full;
}

export async function downloadJob(
  sf: ShardflowClient,
  jobId: string,
  outDir: string,
  io: CliIo,
  opts: { json: boolean; only?: string[] },
): Promise<DownloadedFile[]> {
  const job = await sf.getJob(jobId);
  if (job.status !== 'completed') throw new CommandFailed(`job ${jobId} is ${job.status}; its files can be downloaded once it has completed`);
  let files = await sf.listFiles(jobId);
  if (opts.only?.length) {
    const missing = opts.only.filter((n) => !files.some((f) => f.name === n));
    if (missing.length) throw new CommandFailed(`job ${jobId} has no file ${missing.join(', ')}`);
    files = files.filter((f) => opts.only!.includes(f.name));
  }
  const m = meter(io, files.reduce((s, f) => s + f.bytes, 0), opts.json);
  const out: DownloadedFile[] = [];
  try {
    for (const f of files) {
      const d = await downloadFile(sf, jobId, f, destination(outDir, f.name), m);
      out.push(d);
      if (!opts.json && !io.tty) io.out(`${d.action.padEnd(10)} ${d.name} (${bytes(d.bytes)}${d.verified ? ', sha256 ok' : ', no checksum in the manifest'})`);
    }
  } finally {
    m.done();
  }
  return out;
}
