import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCursor, encodeCursor, parseLimit, toPage } from '../src/api/pagination.js';
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

test('limit: default 50, 1..500, anything else a 400 naming limit', () => {
  assert.equal(parseLimit(undefined), 50);
  assert.equal(parseLimit(''), 50);
  assert.equal(parseLimit('1'), 1);
  assert.equal(parseLimit('500'), 500);
  for (const bad of ['0', '501', '-1', '2.5', 'abc', '1e2']) {
    const p = problemOf(() => parseLimit(bad));
    assert.equal(p.status, 400);
    assert.equal(p.errors?.[0]?.path, 'limit');
  }
});

test('cursor round-trips and rejects garbage with a 400 naming cursor', () => {
  const createdAt = new Date('2025-03-01T12:34:56.789Z');
  const c = encodeCursor({ createdAt, id: 'job-abc' });
  assert.match(c, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(decodeCursor(c), { createdAt, id: 'job-abc' });
  for (const bad of ['!!!', 'e30', Buffer.from('{"createdAt":"nope","id":"x"}').toString('base64url')]) {
    const p = problemOf(() => decodeCursor(bad));
    assert.equal(p.status, 400);
    assert.equal(p.errors?.[0]?.path, 'cursor');
  }
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
