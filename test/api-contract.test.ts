/** docs/API.md and the served OpenAPI document agree: the route index's `available` rows are exactly its operations. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { JOB_STATUSES } from '../src/engine/types.js';
import { SEARCH_ATTRIBUTE_KEYS } from '../src/engine/search-attributes.js';
import { builtInKinds } from '../src/kinds/index.js';
import { startTestApi, stackMissing, type TestApi } from './support/api.js';

let api: TestApi;
let doc: string;
before(async () => {
  if (stackMissing) return;
  api = await startTestApi();
  doc = await readFile(new URL('../docs/API.md', import.meta.url), 'utf8');
});
after(async () => {
  await api?.close();
});

test('every available route of docs/API.md is an operation of /openapi.json, and every operation is documented', { skip: stackMissing }, async () => {
  const rows = [...doc.matchAll(/^\| (GET|POST|PUT|DELETE|PATCH) \| (\S+) \| ([^|]+) \|$/gm)].map((m) => ({ op: `${m[1]} ${m[2]}`, status: m[3]!.trim() }));
  assert.ok(rows.length > 10, 'docs/API.md has a route index');
  const documented = rows.filter((r) => r.status === 'available').map((r) => r.op).sort();
  const openapi = (await (await api.request('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
  const served = Object.entries(openapi.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
  assert.deepEqual(documented, served);
  assert.ok(rows.every((r) => ['available', 'planned'].includes(r.status) || /^with \w+$/.test(r.status)), 'statuses are available, planned or "with <kind>"');
});

test('the job statuses and Temporal names in docs/API.md are the ones the code uses', { skip: stackMissing }, async () => {
  const statusLine = /"status": "([a-z]+(?: \| [a-z]+)+)",/.exec(doc)?.[1];
  assert.deepEqual(statusLine?.split(' | '), [...JOB_STATUSES]);
  for (const key of SEARCH_ATTRIBUTE_KEYS) assert.match(doc, new RegExp(`\`${key.name}\` \\(${key.type.charAt(0)}${key.type.slice(1).toLowerCase()}\\)`));
  const openapi = (await (await api.request('/openapi.json')).json()) as any;
  assert.deepEqual(openapi.components.schemas.Job.properties.status.enum, [...JOB_STATUSES]);
});

test('the document describes the download route with Range, If-Range and ETag, and /metrics as Prometheus text', { skip: stackMissing }, async () => {
  const openapi = (await (await api.request('/openapi.json')).json()) as any;
  const download = openapi.paths['/v1/jobs/{id}/files/{name}']?.get;
  assert.ok(download, 'GET /v1/jobs/{id}/files/{name} is in the document');
  const params = download.parameters.map((p: any) => `${p.in}:${p.name.toLowerCase()}`);
  for (const p of ['path:id', 'path:name', 'header:range', 'header:if-range', 'header:if-none-match']) assert.ok(params.includes(p), p);
  assert.deepEqual(Object.keys(download.responses).sort(), ['200', '206', '304', '401', '404', '416']);
  assert.ok(download.responses['200'].headers.ETag && download.responses['200'].headers['Accept-Ranges']);
  assert.ok(download.responses['206'].headers['Content-Range']);
  assert.equal(download.responses['200'].content['application/octet-stream'].schema.format, 'binary');

  const metrics = openapi.paths['/metrics']?.get;
  assert.ok(metrics, 'GET /metrics is in the document');
  assert.deepEqual(metrics.security, [], 'public');
  const [type] = Object.keys(metrics.responses['200'].content);
  assert.equal(type, 'text/plain; version=0.0.4');
  const served = await api.request('/metrics');
  assert.ok(served.headers.get('content-type')!.startsWith(type!), `served as ${served.headers.get('content-type')}`);
  await served.arrayBuffer();
});

test('POST /v1/jobs: one request example per kind, each one a valid job; the 202 declares Location; 415 is documented', { skip: stackMissing }, async () => {
  const openapi = (await (await api.request('/openapi.json')).json()) as any;
  const post = openapi.paths['/v1/jobs'].post;
  const examples = post.requestBody.content['application/json'].examples as Record<string, { value: any }>;
  assert.deepEqual(Object.keys(examples).sort(), [...api.deps.kinds.names].sort());
  for (const [kind, { value }] of Object.entries(examples)) {
    assert.equal(value.kind, kind);
    const res = await api.request('/v1/jobs/validate', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(value) });
    // Every built-in kind's example is a job as it stands (the test-only ledger's reads a table no one made here).
    if (builtInKinds.find(kind)) assert.equal(res.status, 200, `${kind} example: ${await res.clone().text()}`);
    else assert.notEqual(res.status, 400, `${kind} example has the documented shape: ${await res.clone().text()}`);
    await res.arrayBuffer();
  }
  assert.ok(builtInKinds.names.every((k) => k in examples));
  assert.deepEqual(Object.keys(openapi.paths['/v1/jobs/validate'].post.requestBody.content['application/json'].examples).sort(), Object.keys(examples).sort());
  assert.equal(post.responses['202'].headers.Location.schema.type, 'string');
  for (const op of [post, openapi.paths['/v1/jobs/validate'].post]) assert.ok(op.responses['415'], 'a body sent as something else than JSON');
});

test('the document names exactly the kinds this server runs: the create discriminator, Job.kind and the list filter', { skip: stackMissing }, async () => {
  const openapi = (await (await api.request('/openapi.json')).json()) as any;
  const runs = [...api.deps.kinds.names].sort();
  const schemas = openapi.components.schemas;
  const variants = (schemas.CreateJob.oneOf ?? schemas.CreateJob.anyOf) as any[];
  assert.deepEqual(variants.map((v) => v.properties.kind.const ?? v.properties.kind.enum?.[0]).sort(), runs);
  assert.deepEqual([...schemas.Job.properties.kind.enum].sort(), runs);
  assert.deepEqual([...schemas.ValidatedJob.properties.kind.enum].sort(), runs);
  const filter = openapi.paths['/v1/jobs'].get.parameters.find((p: any) => p.name === 'kind');
  assert.deepEqual([...filter.schema.enum].sort(), runs);
  // Every `kind` anywhere in the document (a property or a parameter) allows only kinds this server runs.
  const seen: string[] = [];
  const walk = (node: unknown, where: string): void => {
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, any>;
    const kindSchemas = [o.properties?.kind, o.name === 'kind' ? o.schema : undefined].filter(Boolean);
    for (const k of kindSchemas) {
      const values: string[] = k.enum ?? (k.const !== undefined ? [k.const] : []);
      assert.ok(values.length > 0, `${where}: kind is an enum`);
      for (const v of values) assert.ok(runs.includes(v), `${where}: kind ${v} is not run by this server`);
      seen.push(where);
    }
    for (const [key, value] of Object.entries(o)) walk(value, `${where}/${key}`);
  };
  walk(openapi, '#');
  assert.ok(seen.length >= 5, seen.join(', '));
});
