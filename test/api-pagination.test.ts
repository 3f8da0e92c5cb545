import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from '@hono/zod-openapi';
import { CursorText, decodeCursor, encodeCursor, PaginationQuery, toPage } from '../src/api/pagination.js';
import { canonicalJson, requestHash, isUniqueViolation } from '../src/api/idempotency.js';
import { ProblemError } from '../src/api/middleware/problem.js';

function problemOf(fn: () => unknown): ProblemError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ProblemError, String(err));
    return err;
  }
  assert.fail('expected a ProblemError');
}

test('limit: default 50, 1..500, anything else a zod issue on limit (the routes answer it as a 400 naming limit)', () => {
  const limitOf = (limit?: string) => PaginationQuery.parse(limit === undefined ? {} : { limit }).limit;
  assert.equal(limitOf(undefined), 50);
  assert.equal(limitOf('1'), 1);
  assert.equal(limitOf('500'), 500);
  assert.equal(limitOf('007'), 7);
  for (const bad of ['', '0', '501', '-1', '2.5', 'abc', '1e2', ' 5', '0x10', '99999999999']) {
    const r = PaginationQuery.safeParse({ limit: bad });
    assert.equal(r.success, false, `limit=${JSON.stringify(bad)} was accepted`);
    assert.deepEqual(r.error!.issues.map((i) => i.path.join('.')), ['limit'], JSON.stringify(r.error!.issues));
  }
  assert.equal(PaginationQuery.parse({ cursor: 'abc' }).cursor, 'abc');
});

test('cursor round-trips and rejects garbage with a 400 naming cursor', () => {
  const createdAt = new Date('2025-03-01T12:34:56.789Z');
  const c = encodeCursor({ createdAt, id: 'job-abc' });
  assert.match(c, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(decodeCursor(c), { createdAt, id: 'job-abc' });
  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
  const bad = [
    '!!!',
    '',
    '%00',
    '\0',
    'e30', // {}
    b64('null'),
    b64('[1,2]'),
    b64('not json'),
    b64('{"createdAt":"nope","id":"x"}'),
    b64('{"createdAt":"+275760-09-13T00:00:00.000Z","id":"x"}'), // the largest JS date: Postgres cannot hold it
    b64(JSON.stringify({ createdAt: new Date(8.64e15).toISOString(), id: 'x' })),
    b64('{"createdAt":"2025-02-30T00:00:00.000Z","id":"x"}'),
    b64('{"createdAt":"2025-03-01","id":"x"}'),
    b64('{"createdAt":"2025-03-01T12:34:56.789Z","id":"a\\u0000b"}'), // NUL: Postgres text refuses it
    b64('{"createdAt":"2025-03-01T12:34:56.789Z","id":""}'),
    b64('{"createdAt":"2025-03-01T12:34:56.789Z","id":7}'),
    b64('{"createdAt":"2025-03-01T12:34:56.789Z","id":"x","extra":1}'),
    Buffer.from([0xff, 0xfe, 0x7b]).toString('base64url'), // not UTF-8
    c + 'A', // not the canonical encoding of anything
    c.slice(0, -2),
    'A'.repeat(5000),
  ];
  for (const cursor of bad) {
    const p = problemOf(() => decodeCursor(cursor));
    assert.equal(p.status, 400, cursor);
    assert.deepEqual(p.errors?.map((e) => e.path), ['cursor'], cursor);
  }
});

test('each list decodes cursors with its own position schema', () => {
  const FilePosition = z.object({ name: CursorText }).strict();
  const c = encodeCursor({ name: 'vitals/part-00001.parquet' });
  assert.deepEqual(decodeCursor(c, FilePosition), { name: 'vitals/part-00001.parquet' });
  // A keyset cursor is not a file cursor, and the other way round.
  const keyset = encodeCursor({ createdAt: new Date(), id: 'job-x' });
  assert.equal(problemOf(() => decodeCursor(keyset, FilePosition)).errors?.[0]?.path, 'cursor');
  assert.equal(problemOf(() => decodeCursor(c)).errors?.[0]?.path, 'cursor');
  assert.equal(problemOf(() => decodeCursor(encodeCursor({ name: 'a\u0001b' }), FilePosition)).status, 400);
});

test('toPage: the extra row yields nextCursor from the last item kept', () => {
  const rows = [3, 2, 1].map((n) => ({ id: `job-${n}`, createdAt: new Date(n * 1000) }));
  const page = toPage(rows, 2, (r) => r, (r) => r.id);
  assert.deepEqual(page.items, ['job-3', 'job-2']);
  assert.deepEqual(decodeCursor(page.nextCursor!), { id: 'job-2', createdAt: new Date(2000) });
  assert.equal(toPage(rows, 3, (r) => r).nextCursor, null);
});

test('request hash ignores key order, not values', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [2, { y: 1, x: 2 }], c: null } }), '{"a":{"c":null,"d":[2,{"x":2,"y":1}]},"b":1}');
  assert.equal(requestHash({ kind: 'trial', spec: { a: 1, b: 2 } }), requestHash({ spec: { b: 2, a: 1 }, kind: 'trial' }));
  assert.notEqual(requestHash({ kind: 'trial', spec: { a: 1 } }), requestHash({ kind: 'trial', spec: { a: 2 } }));
  assert.match(requestHash({}), /^[0-9a-f]{64}$/);
});

test('isUniqueViolation sees through wrapping errors, and can ask for one index', () => {
  assert.equal(isUniqueViolation(Object.assign(new Error('x'), { code: '23505' })), true);
  const named = new Error('wrapped', { cause: Object.assign(new Error('x'), { code: '23505', constraint_name: 'models_tenant_name_uq' }) });
  assert.equal(isUniqueViolation(named, 'models_tenant_name_uq'), true);
  assert.equal(isUniqueViolation(named, 'models_tenant_idempotency_key_uq'), false);
  assert.equal(isUniqueViolation(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: '23505' }) })), true);
  assert.equal(isUniqueViolation(Object.assign(new Error('x'), { code: '23503' })), false);
});
