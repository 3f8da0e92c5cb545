/** /v1/jobs/{id}/files: the manifest and part files of a job, streamed with Range and ETag. */
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { ProblemError, problemResponses } from '../middleware/problem.js';
import { jobDir } from '../../engine/job-files.js';
import { manifestFiles as allManifestFiles, readManifest } from '../../engine/manifest.js';
import { IdParam } from '../params.js';
import { CursorText, decodeCursor, PageSchema, PaginationQuery, toPage } from '../pagination.js';
import { createJobService } from '../jobs/service.js';
import type { ApiDeps, AppEnv } from '../types.js';

interface FileEntry {
  name: string;
  rows: number | null;
  bytes: number;
  sha256: string | null;
  url: string;
}

const FileSchema = z
  .object({ name: z.string(), rows: z.number().nullable(), bytes: z.number(), sha256: z.string().nullable(), url: z.string() })
  .openapi('JobFile');

const listFiles = createRoute({
  method: 'get',
  path: '/v1/jobs/{id}/files',
  tags: ['files'],
  summary: "The job's files: manifest.json first, then by name",
  request: { params: IdParam, query: PaginationQuery },
  responses: { 200: { description: 'a page of files', content: { 'application/json': { schema: PageSchema(FileSchema) } } }, ...problemResponses(400, 401, 404) },
});

/**
 * GET /v1/jobs/{id}/files/{name}, for the OpenAPI document only: the handler is a plain route
 * below, since a name spans slashes (vitals/part-00000.parquet), which an OpenAPI path parameter
 * cannot express. HEAD is answered too (the same headers, no body).
 */
const FILE_TYPES = ['application/octet-stream', 'application/json', 'text/csv', 'application/x-ndjson'] as const;
const binary = { type: 'string', format: 'binary' } as const;
const header = (description: string, example?: string) => ({ description, schema: { type: 'string' as const, ...(example ? { example } : {}) } });
const ETAG = header('the manifest\'s sha256 of the file as a strong tag (`"<sha256>"`); a weak tag of size and time before the job has a manifest', '"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"');
const downloadFile = {
  method: 'get' as const,
  path: '/v1/jobs/{id}/files/{name}',
  tags: ['files'],
  summary: 'One file of the job, streamed; resumable with Range (one byte range) and If-Range, revalidated with If-None-Match',
  description:
    '`name` is a name from the file list and may hold slashes (`vitals/part-00000.parquet`), sent as they are or percent-encoded (`%2F`). ' +
    'Content-Type: `application/json` for .json, `text/csv` for .csv, `application/x-ndjson` for .ndjson, otherwise `application/octet-stream`. ' +
    'A Range the server does not support (another unit, several ranges) is ignored and the whole file sent; `If-Range` with a tag other than the current `ETag` does the same.',
  request: {
    params: IdParam.extend({
      name: z.string().min(1).openapi({ param: { name: 'name', in: 'path' }, description: 'the file name, slashes included', example: 'vitals/part-00000.parquet' }),
    }),
    headers: z.object({
      range: z.string().optional().openapi({ description: 'one byte range: `bytes=START-`, `bytes=START-END` or `bytes=-SUFFIX`', example: 'bytes=1048576-' }),
      'if-range': z.string().optional().openapi({ description: 'an ETag: the Range applies only while the file still has it' }),
      'if-none-match': z.string().optional().openapi({ description: 'ETags (or `*`): 304 when the file still has one of them' }),
    }),
  },
  responses: {
    200: {
      description: 'the whole file',
      headers: {
        ETag: ETAG,
        'Accept-Ranges': header('`bytes`', 'bytes'),
        'Last-Modified': header('when the file was written'),
        'Content-Length': header('bytes'),
      },
      // A whole .json file is JSON (any value: the manifest, a kind's report); .csv and .ndjson are text.
      content: Object.fromEntries(FILE_TYPES.map((t) => [t, { schema: t === 'application/json' ? z.any() : t === 'application/octet-stream' ? binary : z.string() }])),
    },
    206: {
      description: 'the requested range',
      headers: { ETag: ETAG, 'Content-Range': header('`bytes START-END/SIZE`', 'bytes 1048576-2097151/2097152'), 'Content-Length': header('bytes of the range') },
      content: Object.fromEntries(FILE_TYPES.map((t) => [t, { schema: binary }])),
    },
    304: { description: 'not modified: If-None-Match names the current ETag', headers: { ETag: ETAG } },
    416: { description: 'the range is not satisfiable (no body)', headers: { 'Content-Range': header('`bytes */SIZE`', 'bytes */2097152') } },
    ...problemResponses(401, 404),
  },
};

const MANIFEST = 'manifest.json';
/** Where a page of files starts: after the last name of the previous one. */
const FilePosition = z.object({ name: CursorText }).strict();

/** The list's order: manifest.json first, then by name (UTF-16 code units: stable, locale-free). */
export function compareFileNames(a: string, b: string): number {
  if (a === b) return 0;
  if (a === MANIFEST) return -1;
  if (b === MANIFEST) return 1;
  return a < b ? -1 : 1;
}

/** Only visible, regular files inside the job's own folder; anything else is a 404. */
export function resolveJobFile(jobDirectory: string, name: string): string {
  const parts = name.split('/');
  if (!name || parts.some((p) => p === '' || p === '.' || p === '..' || p.startsWith('.')) || name.includes('\\') || name.includes('\0')) {
    throw ProblemError.notFound(`no file ${name}`);
  }
  const full = path.resolve(jobDirectory, ...parts);
  if (!full.startsWith(jobDirectory + path.sep)) throw ProblemError.notFound(`no file ${name}`);
  return full;
}

/**
 * A name the files route may serve: `resolveJobFile`'s checks, then no symbolic link anywhere on
 * the way (each component is lstat'ed) and a real path inside the job's real folder — so a link
 * placed in a job's folder, to a file or a folder outside it, is a 404 like any unknown name.
 */
export async function servableFile(jobDirectory: string, name: string): Promise<string> {
  const full = resolveJobFile(jobDirectory, name);
  const missing = () => ProblemError.notFound(`no file ${name}`);
  let at = jobDirectory;
  for (const part of name.split('/')) {
    at = path.join(at, part);
    const st = await fs.lstat(at).catch(() => undefined);
    if (!st || st.isSymbolicLink()) throw missing();
  }
  const [realDir, realFile] = await Promise.all([fs.realpath(jobDirectory).catch(() => undefined), fs.realpath(full).catch(() => undefined)]);
  if (!realDir || !realFile || !realFile.startsWith(realDir + path.sep)) throw missing();
  return realFile;
}

/**
 * One byte range, 'invalid' (416) when it cannot be satisfied, undefined (ignore the header and send
 * the whole file, as RFC 9110 §14.2 allows) for what is not supported: other units, several ranges.
 */
function parseRange(header: string, size: number): { start: number; end: number } | 'invalid' | undefined {
  const value = header.trim();
  if (!/^bytes=/i.test(value) || value.includes(',')) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/i.exec(value);
  if (!m || (m[1] === '' && m[2] === '')) return 'invalid';
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'invalid';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) return 'invalid';
  return { start, end };
}

/** If-None-Match: `*` or a list of entity tags, compared weakly (RFC 9110 §13.1.2). */
function noneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const opaque = (t: string) => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => opaque(t) === opaque(etag));
}

export function registerFileRoutes(app: OpenAPIHono<AppEnv>, deps: ApiDeps): void {
  const service = createJobService(deps);
  const dirOf = (id: string) => jobDir(deps.config.dataDir, id);

  /** The manifest's files by name (none before the job completes). */
  async function manifestFiles(id: string): Promise<Map<string, { rows: number; sha256: string }>> {
    const m = await readManifest(deps.config.dataDir, id).catch(() => undefined);
    return new Map((m ? allManifestFiles(m) : []).map((f) => [f.name, { rows: f.rows, sha256: f.sha256 }]));
  }

  async function walk(dir: string, prefix = ''): Promise<string[]> {
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    const names: string[] = [];
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      if (e.isDirectory()) names.push(...(await walk(path.join(dir, e.name), `${prefix}${e.name}/`)));
      else if (e.isFile()) names.push(prefix + e.name);
    }
    return names;
  }

  app.openapi(listFiles, async (c) => {
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    const cursor = q.cursor ? decodeCursor(q.cursor, FilePosition) : null;
    await service.findRow(c.get('tenant'), id);
    const known = await manifestFiles(id);
    // Once there is a manifest, the job's files are what it lists (and itself).
    const names = (await walk(dirOf(id))).filter((n) => !known.size || n === MANIFEST || known.has(n)).sort(compareFileNames);
    const from = cursor ? names.findIndex((n) => compareFileNames(n, cursor.name) > 0) : 0;
    const items: FileEntry[] = [];
    // limit + 1 entries: the extra one only says there is a next page.
    for (let i = from < 0 ? names.length : from; i < names.length && items.length <= q.limit; i++) {
      const name = names[i]!;
      // A file can vanish between the walk and the stat (a job being removed): leave it out.
      const st = await fs.stat(path.join(dirOf(id), name)).catch(() => undefined);
      if (!st) continue;
      const k = known.get(name);
      items.push({ name, rows: k?.rows ?? null, bytes: st.size, sha256: k?.sha256 ?? null, url: `/v1/jobs/${id}/files/${name}` });
    }
    return c.json(toPage(items, q.limit, (f) => ({ name: f.name })), 200);
  });

  // Described in the document (downloadFile), routed here: the name spans slashes (vitals/part-00000.parquet).
  app.openAPIRegistry.registerPath(downloadFile);
  app.get('/v1/jobs/:id/files/:name{.+}', async (c) => {
    const id = c.req.param('id');
    if (!IdParam.safeParse({ id }).success) throw ProblemError.notFound(`no job ${JSON.stringify(id)}`);
    await service.findRow(c.get('tenant'), id);
    const name = c.req.param('name');
    const file = await servableFile(dirOf(id), name);
    const st = await fs.stat(file).catch(() => undefined);
    if (!st?.isFile()) throw ProblemError.notFound(`no file ${name}`);
    const listed = await manifestFiles(id);
    // Once the job has a manifest, only what it lists (and the manifest itself) is a file of the job.
    if (listed.size && name !== MANIFEST && !listed.has(name)) throw ProblemError.notFound(`no file ${name}`);
    const sha = listed.get(name)?.sha256;
    const etag = sha ? `"${sha}"` : `W/"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
    const headers: Record<string, string> = {
      ETag: etag,
      'Accept-Ranges': 'bytes',
      'Last-Modified': st.mtime.toUTCString(),
      'Content-Type': name.endsWith('.json') ? 'application/json' : name.endsWith('.csv') ? 'text/csv' : name.endsWith('.ndjson') ? 'application/x-ndjson' : 'application/octet-stream',
    };
    if (noneMatch(c.req.header('If-None-Match'), etag)) return c.body(null, 304, headers);
    const range = c.req.header('Range');
    const ifRange = c.req.header('If-Range');
    const r = range && (!ifRange || ifRange === etag) ? parseRange(range, st.size) : undefined;
    if (r === 'invalid') {
      return c.body(null, 416, { ...headers, 'Content-Range': `bytes */${st.size}` });
    }
    const { start, end } = r ?? { start: 0, end: st.size - 1 };
    const length = st.size === 0 ? 0 : end - start + 1;
    headers['Content-Length'] = String(length);
    if (r) headers['Content-Range'] = `bytes ${start}-${end}/${st.size}`;
    if (c.req.method === 'HEAD' || length === 0) return c.body(null, r ? 206 : 200, headers);
    const stream = Readable.toWeb(createReadStream(file, { start, end })) as ReadableStream;
    return c.body(stream, r ? 206 : 200, headers);
  });
}
