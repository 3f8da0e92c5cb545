/** Which errors say that a dependency is down (503 + Retry-After) and which are ordinary failures (src/api/unavailable.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import { drizzle } from 'drizzle-orm/postgres-js';
import { sql as dsql } from 'drizzle-orm';
import { Connection, ServiceError } from '@temporalio/client';
import { pickFreePort } from '../src/dev/process.js';
import { isTemporalUnreachable, unavailableDependency } from '../src/api/unavailable.js';
import { temporalConnectionOptions } from '../src/api/temporal.js';

const grpcError = (code: number, details = 'x') => Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
const pgServerError = (code: string) => Object.assign(new Error('server said no'), { name: 'PostgresError', code });

test('a refused Postgres connection, through postgres.js and drizzle, is "postgres"', async () => {
  const port = await pickFreePort();
  const sql = postgres(`postgres://u:secret@127.0.0.1:${port}/db`, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    const raw = await sql`select 1`.then(() => undefined, (e: unknown) => e);
    assert.equal(unavailableDependency(raw), 'postgres', String(raw));
    const wrapped = await drizzle(sql).execute(dsql`select 1`).then(() => undefined, (e: unknown) => e);
    assert.ok(wrapped instanceof Error && (wrapped as Error).cause, 'drizzle wraps the error');
    assert.equal(unavailableDependency(wrapped), 'postgres');
  } finally {
    await sql.end({ timeout: 1 });
  }
});

test('postgres.js connection codes and shutdown SQLSTATEs are "postgres"; other database errors are not', () => {
  for (const code of ['CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT', 'ECONNRESET']) {
    assert.equal(unavailableDependency(Object.assign(new Error(code), { code })), 'postgres', code);
  }
  for (const code of ['57P01', '57P02', '57P03', '53300', '08006', '08001']) assert.equal(unavailableDependency(pgServerError(code)), 'postgres', code);
  for (const code of ['23505', '42P01', '22P02', '40001']) assert.equal(unavailableDependency(pgServerError(code)), undefined, code);
  // A SQLSTATE-like code on some other error is not a database's answer.
  assert.equal(unavailableDependency(Object.assign(new Error('x'), { code: '57P01' })), undefined);
  assert.equal(unavailableDependency(Object.assign(new Error('no file'), { code: 'ENOENT' })), undefined);
  assert.equal(unavailableDependency(new Error('boom')), undefined);
  assert.equal(unavailableDependency(undefined), undefined);
});

test('gRPC UNAVAILABLE / DEADLINE_EXCEEDED / RESOURCE_EXHAUSTED, wrapped or not, are "temporal"; NOT_FOUND is not', () => {
  for (const code of [14, 4, 8]) {
    assert.equal(unavailableDependency(grpcError(code)), 'temporal', String(code));
    assert.equal(unavailableDependency(new ServiceError('Failed to describe workflow', { cause: grpcError(code) })), 'temporal', String(code));
  }
  assert.equal(unavailableDependency(new ServiceError('x', { cause: grpcError(5) })), undefined);
  assert.equal(unavailableDependency(grpcError(3)), undefined);
  // Only UNAVAILABLE says "no connection": a query's deadline also passes when no worker polls.
  assert.equal(isTemporalUnreachable(new ServiceError('x', { cause: grpcError(14) })), true);
  assert.equal(isTemporalUnreachable(new ServiceError('x', { cause: grpcError(4) })), false);
});

test('a call to a Temporal that is not there fails UNAVAILABLE within a second, not after ~20 s of retries', async () => {
  const port = await pickFreePort();
  const connection = Connection.lazy(temporalConnectionOptions(`127.0.0.1:${port}`));
  try {
    const t0 = Date.now();
    const err = await connection.workflowService.getSystemInfo({}).then(() => undefined, (e: unknown) => e);
    const ms = Date.now() - t0;
    assert.equal(unavailableDependency(err), 'temporal', String(err));
    assert.ok(ms < 1_500, `failed after ${ms} ms`);
  } finally {
    await connection.close();
  }
});
