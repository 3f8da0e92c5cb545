/**
 * GET /v1/jobs/{id}/files and /files/{name} on completed jobs: listing (paginated), bytes and sha256 against
 * the manifest, ETag / If-None-Match, Range, names outside the job's folder, and the CSV / NDJSON /
 * gzip outputs read back.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { stackMissing, startTestApi, type TestApi } from './support/api.js';
import { startTestWorker, type TestWorker } from './support/worker.js';
import { uniqueTaskQueue } from './support/stack.js';
import { isDone, postJob, readManifest, tempDataDir, waitForJob } from './support/jobs.js';

const COLUMNS = ['SubjectID', 'TreatmentArm', 'VisitName', 'SystolicBP', 'DiastolicBP', 'HeartRate', 'Temperature'];
const VISITS = 4;

let api: TestApi;
let worker: TestWorker;
let dataDir: string;
/** Completed jobs by output, started once and shared by the tests. */
let jobs: Promise<Record<'parquet' | 'other' | 'csv' | 'ndjson' | 'csvGzip' | 'ndjsonGzip', { id: string; rows: number; manifest: any }>>;

async function runJob(nPerArm: number, output: Record<string, unknown>, shardRows?: number) {
  const res = await postJob(api, {
    kind: 'trial',
    spec: { method: 'mvn', nPerArm, seed: 5 },
    output,
    ...(shardRows ? { partitioning: { shardRows } } : {}),
  });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const job = await waitForJob(api, res.body.id, isDone);
  assert.equal(job.status, 'completed', JSON.stringify(job));
  return { id: job.id as string, rows: 2 * nPerArm * VISITS, manifest: await readManifest(dataDir, job.id) };
}

before(async () => {
  if (stackMissing) return;
  const q = uniqueTaskQueue('files');
  dataDir = await tempDataDir();
  api = await startTestApi({ env: { TEMPORAL_TASK_QUEUE: q, SHARDFLOW_DATA_DIR: dataDir, SHARDFLOW_AUTH: 'off' } });
  worker = await startTestWorker({ taskQueue: q, dataDir });
  jobs = (async () => {
    const [parquet, other, csv, ndjson, csvGzip, ndjsonGzip] = await Promise.all([
      runJob(300, { format: 'parquet' }, 800),
      runJob(5, { format: 'parquet' }),
      runJob(120, { format: 'csv' }, 400),
      runJob(100, { format: 'ndjson' }, 300),
      runJob(110, { format: 'csv', compression: 'gzip' }, 300),
      runJob(50, { format: 'ndjson', compression: 'gzip' }),
    ]);
    return { parquet, other, csv, ndjson, csvGzip, ndjsonGzip };
  })();
  jobs.catch(() => {}); // reported by the tests that await it
});

after(async () => {
  await worker?.stop();
  await api?.close();
});

const sha256 = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');

async function getFile(id: string, name: string, headers: Record<string, string> = {}) {
  const res = await api.request(`/v1/jobs/${id}/files/${name.split('/').map(encodeURIComponent).join('/')}`, { headers });
  return { res, body: Buffer.from(await res.arrayBuffer()) };
}

async function assertProblem(res: Response, status: number, paths: string[] = []) {
  assert.equal(res.status, status, await res.clone().text());
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  const body = (await res.json()) as { status: number; errors?: { path: string }[] };
  assert.equal(body.status, status);
  for (const p of paths) assert.ok((body.errors ?? []).some((e) => e.path === p), `expected an error naming ${p}; got ${JSON.stringify(body)}`);
}

/** A request whose path goes to the server exactly as written (fetch would normalise `..` away). */
function rawGet(rawPath: string): Promise<{ status: number; body: string }> {
  const u = new URL(api.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: rawPath, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('GET /files lists manifest.json first and every part with rows, bytes and sha256; no hidden state', { skip: stackMissing }, async () => {
  const { parquet } = await jobs;
  const res = await api.request(`/v1/jobs/${parquet.id}/files`);
  assert.equal(res.status, 200);
  const list = (await res.json()) as { items: Array<{ name: string; rows: number | null; bytes: number; sha256: string | null; url: string }>; nextCursor: null };
  assert.equal(list.nextCursor, null);
  const parts = parquet.manifest.tables[0].files as Array<{ name: string; rows: number; bytes: number; sha256: string }>;
  assert.ok(parts.length >= 3, `expected several parts, got ${parts.length}`);
  assert.deepEqual(
    list.items.map((f) => f.name),
    ['manifest.json', 'quality.json', ...parts.map((p) => p.name)],
  );
  const manifestStat = await fs.stat(path.join(dataDir, 'jobs', parquet.id, 'manifest.json'));
  assert.equal(list.items[0]!.bytes, manifestStat.size);
  assert.equal(list.items[0]!.url, `/v1/jobs/${parquet.id}/files/manifest.json`);
  for (const p of parts) {
    const item = list.items.find((f) => f.name === p.name)!;
    assert.deepEqual(item, { name: p.name, rows: p.rows, bytes: p.bytes, sha256: p.sha256, url: `/v1/jobs/${parquet.id}/files/${p.name}` });
  }
  assert.equal(parts.reduce((n, p) => n + p.rows, 0), parquet.rows);
  assert.ok(!list.items.some((f) => f.name.split('/').some((s) => s.startsWith('.'))));
  await assertProblem(await api.request('/v1/jobs/job-nosuchjob/files'), 404);
});

test('GET /files pages with limit and cursor: manifest.json first, then by name, every file once', { skip: stackMissing }, async () => {
  const { parquet } = await jobs;
  const full = (await (await api.request(`/v1/jobs/${parquet.id}/files?limit=500`)).json()) as { items: any[]; nextCursor: string | null };
  assert.equal(full.nextCursor, null);
  const names = full.items.map((f) => f.name);
  assert.equal(names[0], 'manifest.json');
  assert.deepEqual(names.slice(1), [...names.slice(1)].sort());
  assert.ok(names.length >= 4, JSON.stringify(names));

  for (const limit of [1, 2, 3, names.length - 1, names.length, names.length + 1]) {
    const seen: any[] = [];
    let cursor: string | null = null;
    for (let pages = 0; ; pages++) {
      assert.ok(pages <= names.length, 'too many pages');
      const res = await api.request(`/v1/jobs/${parquet.id}/files?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(res.status, 200, await res.clone().text());
      const p = (await res.json()) as { items: any[]; nextCursor: string | null };
      assert.ok(p.items.length <= limit);
      seen.push(...p.items);
      if (p.nextCursor === null) break;
      assert.equal(p.items.length, limit, 'only the last page may be short');
      cursor = p.nextCursor;
    }
    assert.deepEqual(seen, full.items, `limit ${limit}: every file once, in order, with the same entry`);
  }

  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
  const at = '2025-03-01T12:34:56.789Z';
  for (const cursor of ['garbage!', 'e30', b64('[]'), b64('{"name":"a\u0000b"}'), b64('{"name":""}'), b64(JSON.stringify({ createdAt: at, id: 'job-x' }))]) {
    await assertProblem(await api.request(`/v1/jobs/${parquet.id}/files?cursor=${encodeURIComponent(cursor)}`), 400, ['cursor']);
  }
  await assertProblem(await api.request(`/v1/jobs/${parquet.id}/files?cursor=%00`), 400, ['cursor']);
  for (const limit of ['0', '501', 'x']) await assertProblem(await api.request(`/v1/jobs/${parquet.id}/files?limit=${limit}`), 400, ['limit']);
  // A NUL in the job id is a problem too, not a 500.
  await assertProblem(await api.request('/v1/jobs/%00/files'), 400, ['id']);
  await assertProblem(await api.request('/v1/jobs/%00/files/manifest.json'), 404);
});

test('GET a part: the bytes hash to the manifest sha256; ETag, If-None-Match → 304', { skip: stackMissing }, async () => {
  const { parquet } = await jobs;
  const part = parquet.manifest.tables[0].files[1];
  const { res, body } = await getFile(parquet.id, part.name);
  assert.equal(res.status, 200);
  assert.equal(body.length, part.bytes);
  assert.equal(sha256(body), part.sha256);
  assert.equal(res.headers.get('content-length'), String(part.bytes));
  assert.equal(res.headers.get('accept-ranges'), 'bytes');
  assert.equal(res.headers.get('content-type'), 'application/octet-stream');
  const etag = res.headers.get('etag');
  assert.equal(etag, `"${part.sha256}"`);
  // Parquet magic at both ends.
  assert.equal(body.subarray(0, 4).toString(), 'PAR1');
  assert.equal(body.subarray(-4).toString(), 'PAR1');

  const cached = await getFile(parquet.id, part.name, { 'If-None-Match': etag! });
  assert.equal(cached.res.status, 304);
  assert.equal(cached.body.length, 0);
  assert.equal(cached.res.headers.get('etag'), etag);
  assert.equal((await getFile(parquet.id, part.name, { 'If-None-Match': `"other", ${etag}` })).res.status, 304);
  assert.equal((await getFile(parquet.id, part.name, { 'If-None-Match': `W/${etag}` })).res.status, 304);
  assert.equal((await getFile(parquet.id, part.name, { 'If-None-Match': '*' })).res.status, 304);
  const stale = await getFile(parquet.id, part.name, { 'If-None-Match': '"0000"' });
  assert.equal(stale.res.status, 200);
  assert.equal(sha256(stale.body), part.sha256);

  // The name percent-encoded, as a client generated from the OpenAPI document sends it (vitals%2Fpart-00001.parquet).
  assert.ok(part.name.includes('/'));
  const encoded = await api.request(`/v1/jobs/${parquet.id}/files/${encodeURIComponent(part.name)}`);
  assert.equal(encoded.status, 200);
  assert.equal(sha256(Buffer.from(await encoded.arrayBuffer())), part.sha256);

  // Another part has another ETag.
  const first = await getFile(parquet.id, parquet.manifest.tables[0].files[0].name);
  assert.notEqual(first.res.headers.get('etag'), etag);

  // The manifest itself, as JSON.
  const m = await getFile(parquet.id, 'manifest.json');
  assert.equal(m.res.status, 200);
  assert.equal(m.res.headers.get('content-type'), 'application/json');
  assert.deepEqual(JSON.parse(m.body.toString('utf8')), parquet.manifest);
  assert.ok(m.res.headers.get('etag'));
});

test('Range: bytes=0-99 → 206 with exactly those 100 bytes; suffix, open and clipped ranges; 416 when unsatisfiable', { skip: stackMissing }, async () => {
  const { parquet } = await jobs;
  const part = parquet.manifest.tables[0].files[0];
  const full = await fs.readFile(path.join(dataDir, 'jobs', parquet.id, part.name));
  const size = full.length;
  assert.ok(size > 200, `part too small for this test: ${size}`);

  const head = await getFile(parquet.id, part.name, { Range: 'bytes=0-99' });
  assert.equal(head.res.status, 206);
  assert.equal(head.res.headers.get('content-range'), `bytes 0-99/${size}`);
  assert.equal(head.res.headers.get('content-length'), '100');
  assert.equal(head.body.length, 100);
  assert.deepEqual(head.body, full.subarray(0, 100));

  const mid = await getFile(parquet.id, part.name, { Range: 'bytes=50-149' });
  assert.equal(mid.res.status, 206);
  assert.deepEqual(mid.body, full.subarray(50, 150));

  const tail = await getFile(parquet.id, part.name, { Range: 'bytes=-10' });
  assert.equal(tail.res.status, 206);
  assert.equal(tail.res.headers.get('content-range'), `bytes ${size - 10}-${size - 1}/${size}`);
  assert.deepEqual(tail.body, full.subarray(size - 10));

  const open = await getFile(parquet.id, part.name, { Range: `bytes=${size - 5}-` });
  assert.equal(open.res.status, 206);
  assert.deepEqual(open.body, full.subarray(size - 5));

  const clipped = await getFile(parquet.id, part.name, { Range: `bytes=${size - 3}-${size + 1000}` });
  assert.equal(clipped.res.status, 206);
  assert.equal(clipped.res.headers.get('content-range'), `bytes ${size - 3}-${size - 1}/${size}`);
  assert.deepEqual(clipped.body, full.subarray(size - 3));

  const whole = await getFile(parquet.id, part.name, { Range: `bytes=-${size + 100}` });
  assert.equal(whole.res.status, 206);
  assert.equal(sha256(whole.body), part.sha256);

  for (const range of [`bytes=${size}-`, `bytes=${size + 10}-${size + 20}`, 'bytes=-0']) {
    const r = await getFile(parquet.id, part.name, { Range: range });
    assert.equal(r.res.status, 416, range);
    assert.equal(r.res.headers.get('content-range'), `bytes */${size}`, range);
  }

  // Not supported (several ranges, another unit): ignored, the whole file is sent.
  for (const range of ['bytes=0-1,5-6', 'items=0-5']) {
    const r = await getFile(parquet.id, part.name, { Range: range });
    assert.equal(r.res.status, 200, range);
    assert.equal(sha256(r.body), part.sha256, range);
  }

  // If-Range with a stale validator: the whole file; with the current one: the range.
  const etag = `"${part.sha256}"`;
  const stale = await getFile(parquet.id, part.name, { Range: 'bytes=0-9', 'If-Range': '"stale"' });
  assert.equal(stale.res.status, 200);
  assert.equal(stale.body.length, size);
  const fresh = await getFile(parquet.id, part.name, { Range: 'bytes=0-9', 'If-Range': etag });
  assert.equal(fresh.res.status, 206);
  assert.deepEqual(fresh.body, full.subarray(0, 10));
});

test("names outside the job's own folder are 404s, even when the file exists", { skip: stackMissing }, async () => {
  const { parquet, other } = await jobs;
  const base = `/v1/jobs/${parquet.id}/files`;
  // What the attacks aim at really exists, so a 404 means refused, not missing.
  await fs.access(path.join(dataDir, 'jobs', other.id, 'manifest.json'));
  await fs.access(path.join(dataDir, 'jobs', parquet.id, '.state', 'shard-00000.json'));
  await fs.access('/etc/passwd');

  const encoded = [
    '..%2F..%2Fetc%2Fpasswd',
    '..%2F..%2F..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd',
    `..%2F${other.id}%2Fmanifest.json`,
    `vitals%2F..%2F..%2F${other.id}%2Fmanifest.json`,
    `%2E%2E%2F${other.id}%2Fmanifest.json`,
    '.state/shard-00000.json',
    '.state%2Fshard-00000.json',
    '%2Fetc%2Fpasswd',
    encodeURIComponent(path.join(dataDir, 'jobs', other.id, 'manifest.json')),
    '..%5C..%5Cetc%5Cpasswd',
    'manifest.json%00',
    'vitals',
    'vitals/',
    'vitals/part-99999.parquet',
    'nope.json',
  ];
  for (const name of encoded) {
    const res = await api.request(`${base}/${name}`);
    assert.equal(res.status, 404, `${name}: ${res.status}`);
    assert.equal(res.headers.get('content-type'), 'application/problem+json', name);
    const text = await res.text();
    assert.ok(!text.includes('root:'), name);
    assert.ok(!text.includes('"manifestVersion"'), name);
  }
  // Sent verbatim, without the client resolving the dots first.
  for (const raw of [`${base}/../${other.id}/manifest.json`, `${base}/../../../../../../etc/passwd`, `${base}//etc/passwd`]) {
    const res = await rawGet(raw);
    assert.equal(res.status, 404, `${raw}: ${res.status} ${res.body.slice(0, 200)}`);
    assert.ok(!res.body.includes('root:') && !res.body.includes('"manifestVersion"'), raw);
  }
  // The same names inside the job do work.
  assert.equal((await api.request(`${base}/manifest.json`)).status, 200);
  assert.equal((await api.request(`/v1/jobs/${other.id}/files/manifest.json`)).status, 200);
});

test('symbolic links in a job folder are never followed: links to folders and files outside (and inside) are 404s and are not listed', { skip: stackMissing }, async () => {
  const { parquet, other } = await jobs;
  const dir = path.join(dataDir, 'jobs', parquet.id);
  const base = `/v1/jobs/${parquet.id}/files`;
  const made = [path.join(dir, 'etcdir'), path.join(dir, 'passwd'), path.join(dir, 'othermanifest.json'), path.join(dir, 'vitals', 'part-link.parquet'), path.join(dir, 'stray.txt')];
  const part = parquet.manifest.tables[0].files[0].name as string;
  try {
    await fs.symlink('/etc', made[0]!);
    await fs.symlink('/etc/passwd', made[1]!);
    await fs.symlink(path.join(dataDir, 'jobs', other.id, 'manifest.json'), made[2]!);
    await fs.symlink(path.join(dir, part), made[3]!); // a link to a file of the job itself
    await fs.writeFile(made[4]!, 'not a file of the job'); // a regular file the manifest does not list
    for (const name of ['etcdir/passwd', 'etcdir/hostname', 'passwd', 'othermanifest.json', 'vitals/part-link.parquet', 'stray.txt']) {
      const res = await api.request(`${base}/${name}`);
      const text = await res.text();
      assert.equal(res.status, 404, `${name}: ${res.status}`);
      assert.ok(!text.includes('root:') && !text.includes('"manifestVersion"'), name);
    }
    const listed = ((await (await api.request(`${base}?limit=500`)).json()) as any).items.map((f: any) => f.name);
    for (const name of ['etcdir/passwd', 'passwd', 'othermanifest.json', 'vitals/part-link.parquet', 'stray.txt']) assert.ok(!listed.includes(name), name);
    assert.equal((await api.request(`${base}/${part}`)).status, 200, 'the real part is still served');
  } finally {
    for (const f of made) await fs.rm(f, { force: true });
  }
});

test('CSV output: header + rows per part, parsed values, text/csv', { skip: stackMissing }, async () => {
  const { csv } = await jobs;
  const files = csv.manifest.tables[0].files as Array<{ name: string; rows: number; sha256: string }>;
  assert.ok(files.length >= 2, `expected several parts, got ${files.length}`);
  let total = 0;
  const arms = new Set<string>();
  for (const f of files) {
    assert.match(f.name, /^vitals\/part-\d{5}\.csv$/);
    const { res, body } = await getFile(csv.id, f.name);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    assert.equal(sha256(body), f.sha256);
    const text = body.toString('utf8');
    assert.ok(text.endsWith('\n'));
    const lines = text.slice(0, -1).split('\n');
    assert.equal(lines[0], COLUMNS.join(','));
    assert.equal(lines.length, f.rows + 1, f.name);
    for (const line of lines.slice(1)) {
      const cells = line.split(',');
      assert.equal(cells.length, COLUMNS.length, line);
      assert.ok(cells[0]!.length > 0, line);
      arms.add(cells[1]!);
      for (const v of cells.slice(3)) assert.ok(Number.isFinite(Number(v)) && v !== '', line);
    }
    total += f.rows;
  }
  assert.equal(total, csv.rows);
  assert.deepEqual([...arms].sort(), ['Active', 'Placebo']);
});

test('NDJSON output: one JSON object per row, with the columns', { skip: stackMissing }, async () => {
  const { ndjson } = await jobs;
  let total = 0;
  for (const f of ndjson.manifest.tables[0].files as Array<{ name: string; rows: number; sha256: string }>) {
    assert.match(f.name, /^vitals\/part-\d{5}\.ndjson$/);
    const { res, body } = await getFile(ndjson.id, f.name);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/x-ndjson');
    assert.equal(sha256(body), f.sha256);
    const lines = body.toString('utf8').split('\n').filter((l) => l !== '');
    assert.equal(lines.length, f.rows, f.name);
    for (const line of lines) {
      const row = JSON.parse(line);
      assert.deepEqual(Object.keys(row), COLUMNS);
      assert.equal(typeof row.SystolicBP, 'number');
      assert.equal(typeof row.SubjectID, 'string');
    }
    total += lines.length;
  }
  assert.equal(total, ndjson.rows);
});

test('csv + gzip and ndjson + gzip: .csv.gz / .ndjson.gz parts that gunzip to the rows', { skip: stackMissing }, async () => {
  const { csvGzip, ndjsonGzip } = await jobs;
  let total = 0;
  for (const f of csvGzip.manifest.tables[0].files as Array<{ name: string; rows: number; sha256: string }>) {
    assert.match(f.name, /^vitals\/part-\d{5}\.csv\.gz$/);
    const { res, body } = await getFile(csvGzip.id, f.name);
    assert.equal(res.status, 200);
    assert.equal(sha256(body), f.sha256);
    assert.deepEqual([...body.subarray(0, 2)], [0x1f, 0x8b]);
    const lines = gunzipSync(body).toString('utf8').split('\n').filter((l) => l !== '');
    assert.equal(lines[0], COLUMNS.join(','));
    assert.equal(lines.length, f.rows + 1, f.name);
    total += f.rows;
  }
  assert.equal(total, csvGzip.rows);

  let ndTotal = 0;
  for (const f of ndjsonGzip.manifest.tables[0].files as Array<{ name: string; rows: number }>) {
    assert.match(f.name, /^vitals\/part-\d{5}\.ndjson\.gz$/);
    const { body } = await getFile(ndjsonGzip.id, f.name);
    const lines = gunzipSync(body).toString('utf8').split('\n').filter((l) => l !== '');
    for (const l of lines) assert.deepEqual(Object.keys(JSON.parse(l)), COLUMNS);
    ndTotal += lines.length;
  }
  assert.equal(ndTotal, ndjsonGzip.rows);
});
