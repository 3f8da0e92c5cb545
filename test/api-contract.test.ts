/** docs/API.md and the served OpenAPI document agree: the route index's `available` rows are exactly its operations. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { JOB_STATUSES } from '../src/engine/types.js';
import { SEARCH_ATTRIBUTE_KEYS } from '../src/engine/search-attributes.js';
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
