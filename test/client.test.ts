/**
 * The typed client (src/client, published from packages/client): its types are what
 * `npm run client:generate` writes from the API's OpenAPI document today, the package folder
 * builds with its own tsconfig, and the built package talks to a real API.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { CLIENT_TYPES, clientTypes } from '../scripts/generate-client.js';
import { parseEventStream, problemLine } from '../src/client/index.js';
import { stackMissing, startTestApi, type TestApi } from './support/api.js';
import { tempDataDir } from './support/jobs.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);
let api: TestApi;
let out: string;

before(async () => {
  out = await tempDataDir('shardflow-client-');
  if (!stackMissing) api = await startTestApi();
});
after(async () => {
  await api?.close();
  await fs.rm(out, { recursive: true, force: true });
});

test('src/client/openapi.ts is what npm run client:generate writes from the current routes', async () => {
  const committed = await fs.readFile(CLIENT_TYPES, 'utf8');
  assert.ok(committed === (await clientTypes()), 'src/client/openapi.ts is stale: run `npm run client:generate` and commit it');
  assert.match(committed, /"\/v1\/jobs\/\{id\}": \{/);
  assert.match(committed, /delete: operations|delete: \{/);
});

test('the package folder builds, and the built client talks to the API', { skip: stackMissing }, async () => {
  const dist = path.join(out, 'dist');
  await run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'packages/client/tsconfig.json'), '--outDir', dist], { cwd: root });
  for (const f of ['index.js', 'index.d.ts', 'openapi.d.ts']) assert.ok(await fs.stat(path.join(dist, f)), f);
  // As an installed package would resolve openapi-fetch: from a node_modules beside it.
  await fs.symlink(path.join(root, 'node_modules'), path.join(out, 'node_modules'));
  const pkg = JSON.parse(await fs.readFile(path.join(root, 'packages/client/package.json'), 'utf8'));
  assert.equal(pkg.exports['.'].default, './dist/index.js');
  const rootPkg = JSON.parse(await fs.readFile(path.join(root, 'package.json'), 'utf8'));
  assert.equal(pkg.dependencies['openapi-fetch'], rootPkg.dependencies['openapi-fetch'], 'the package pins the same openapi-fetch as the repo');
  const { createShardflowClient, ApiError } = await import(pathToFileURL(path.join(dist, 'index.js')).href);
  const sf = createShardflowClient({ url: api.url });
  const page = await sf.listJobs({ limit: 1 });
  assert.ok(Array.isArray(page.items));
  const v = await sf.validateJob({ kind: 'trial', spec: { method: 'mvn', nPerArm: 10, seed: 1 } });
  assert.equal(v.estimate.rows, 80);
  await assert.rejects(sf.getJob('job-nosuchjob'), (err: any) => err instanceof ApiError && err.status === 404 && /no job job-nosuchjob/.test(err.message));
  await assert.rejects(
    sf.createJob({ kind: 'trial', spec: { method: 'mvn', nPerArm: 0 } }),
    (err: any) => err.status === 400 && err.problem.errors[0].path === 'spec.nPerArm',
  );
});

test('the event stream parser follows the SSE rules: ids, event names, multi-line data, comments, CRLF', async () => {
  const text = ': hello\r\nid: 1\r\nevent: progress\r\ndata: {"done":1}\r\n\r\nid: 2\nevent: status\ndata: line one\ndata: line two\n\ndata: no event name\n\n';
  const bytes = new TextEncoder().encode(text);
  // split into awkward chunks
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < bytes.length; i += 7) c.enqueue(bytes.subarray(i, i + 7));
      c.close();
    },
  });
  const events = [];
  for await (const e of parseEventStream(body)) events.push(e);
  assert.deepEqual(events, [
    { id: '1', event: 'progress', data: { done: 1 } },
    { id: '2', event: 'status', data: 'line one\nline two' },
    { id: '2', event: 'message', data: 'no event name' },
  ]);
});

test('a problem is one readable line', () => {
  assert.equal(problemLine({ status: 422, title: 'Unprocessable Content', errors: [{ path: 'spec.tables.0.rows', message: 'too many' }] }), '422 Unprocessable Content: spec.tables.0.rows: too many');
  assert.equal(problemLine({ status: 404, title: 'Not Found', detail: 'no job job-x' }), '404 Not Found: no job job-x');
  assert.equal(problemLine({ status: 500, title: 'Internal Server Error' }), '500 Internal Server Error');
});
