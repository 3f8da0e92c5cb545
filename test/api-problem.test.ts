import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createRoute, z } from '@hono/zod-openapi';
import { ProblemError } from '../src/api/middleware/problem.js';
import { stackMissing, startTestApi, type TestApi } from './support/api.js';

let api: TestApi;

const Body = z.object({
  spec: z.object({
    nPerArm: z.number().int().min(1),
    visits: z.array(z.string().min(1)),
  }),
});

before(async () => {
  if (stackMissing) return;
  api = await startTestApi({
    env: { SHARDFLOW_AUTH: 'off' },
    extend: (app) => {
      app.openapi(
        createRoute({
          method: 'post',
          path: '/v1/test-echo',
          request: { body: { required: true, content: { 'application/json': { schema: Body } } } },
          responses: { 200: { description: 'echo', content: { 'application/json': { schema: Body } } } },
        }),
        (c) => c.json(c.req.valid('json'), 200),
      );
      app.get('/v1/test-problem', () => {
        throw new ProblemError({ status: 409, detail: 'not now', type: 'https://example.test/conflict' });
      });
      app.get('/v1/test-crash', () => {
        throw new Error('secret internals at /etc/passwd');
      });
    },
  });
});
after(async () => api?.close());

const post = (body: string) =>
  api.request('/v1/test-echo', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });

async function problemBody(res: Response, status: number) {
  assert.equal(res.status, status);
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  return (await res.json()) as { type: string; title: string; status: number; detail?: string; errors?: { path: string; message: string }[] };
}

test('a valid body passes', { skip: stackMissing }, async () => {
  const res = await post(JSON.stringify({ spec: { nPerArm: 3, visits: ['a'] } }));
  assert.equal(res.status, 200);
});

test('zod failures are a 400 naming dotted paths, array indices as numbers', { skip: stackMissing }, async () => {
  const body = await problemBody(await post(JSON.stringify({ spec: { nPerArm: 0, visits: ['a', 'b', ''] } })), 400);
  assert.equal(body.status, 400);
  assert.equal(body.title, 'Bad Request');
  const paths = body.errors!.map((e) => e.path).sort();
  assert.deepEqual(paths, ['spec.nPerArm', 'spec.visits.2']);
  assert.ok(body.errors!.every((e) => e.message.length > 0));
});

test('malformed JSON is a 400 problem', { skip: stackMissing }, async () => {
  const body = await problemBody(await post('{"spec": '), 400);
  assert.match(body.detail ?? '', /JSON/i);
});

test('ProblemError keeps status, type and detail', { skip: stackMissing }, async () => {
  const body = await problemBody(await api.request('/v1/test-problem'), 409);
  assert.deepEqual(body, { type: 'https://example.test/conflict', title: 'Conflict', status: 409, detail: 'not now' });
});

test('anything else is a 500 problem that leaks nothing', { skip: stackMissing }, async () => {
  const res = await api.request('/v1/test-crash');
  const text = await res.clone().text();
  await problemBody(res, 500);
  assert.doesNotMatch(text, /passwd|secret|at .*\.ts/);
});

test('responses carry X-Request-Id, echoing a sane client one', { skip: stackMissing }, async () => {
  const res = await api.request('/health/live', { headers: { 'X-Request-Id': 'req-123' } });
  assert.equal(res.headers.get('x-request-id'), 'req-123');
  assert.match((await api.request('/health/live')).headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
});

test('a path served with other methods is a 405 problem with Allow; an unknown path a 404', { skip: stackMissing }, async () => {
  for (const [method, p, allow] of [
    ['TRACE', '/v1/jobs', 'POST, GET, HEAD'],
    ['PUT', '/v1/jobs/job-abc', 'GET, DELETE, HEAD'],
    ['PATCH', '/v1/models', 'POST, GET, HEAD'],
    ['DELETE', '/v1/jobs/job-abc/pause', 'POST'],
  ] as const) {
    const res = await raw(method, p);
    assert.equal(res.status, 405, `${method} ${p}`);
    assert.equal(res.headers['content-type'], 'application/problem+json');
    assert.deepEqual(String(res.headers.allow).split(', ').sort(), allow.split(', ').sort(), `${method} ${p}`);
    const body = JSON.parse(res.body) as { status: number; detail: string };
    assert.equal(body.status, 405);
    assert.match(body.detail, new RegExp(`^${method} is not allowed on ${p.replace(/[/]/g, '\\/')}`));
  }
  assert.equal((await raw('TRACE', '/v1/nothing-here')).status, 404);
});

/** Any method (fetch refuses TRACE), with node:http. */
function raw(method: string, p: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(p, api.url), { method }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
