/**
 * `shardflow seed emissions` (src/cli/commands/seed.ts) and its generator (src/kinds/emissions/seed.ts):
 * the generator is a pure function of (seed, index, options) — the same NDJSON whatever the chunking —
 * and every activity it makes is one the kind's own validator accepts; the binary (bin/shardflow.mjs, a
 * child process) against a real API and Postgres inserts exactly N activities with the predicted types,
 * a second identical run inserts nothing (each chunk's Idempotency-Key), another chunking of the same set
 * is refused (409) rather than duplicated, a body streamed over the upload limit is a 413 that leaves
 * nothing behind and the API working, a streamed body reads the same however it is cut, bad flags exit 2.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { seedIdempotencyKey } from '../src/cli/commands/seed.js';
import { validateActivity } from '../src/kinds/emissions/activities.js';
import { airDistance, CABIN_CLASSES } from '../src/kinds/emissions/reference.js';
import { seedCounts, seedGenerator, seedType, type SeedActivity } from '../src/kinds/emissions/seed.js';
import { stackMissing, startTestApi, type TestApi } from './support/api.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'shardflow.mjs');
const run = promisify(execFile);

let api: TestApi;
let small: TestApi;
let sql: postgres.Sql;
const prefix = `seedtest-${process.pid}-${Date.now().toString(36)}`;
const TENANT = 'local'; // the test API runs without auth
/** Idempotency keys of the chunks this file sent (cleaned up at the end). */
const keysMade: string[] = [];
const orgIdsOf = (p: string, k: number) => Array.from({ length: k }, (_, i) => `${p}-${i + 1}`);

before(async () => {
  if (stackMissing) return;
  api = await startTestApi();
  small = await startTestApi({ env: { SHARDFLOW_MAX_CSV_BYTES: '200000' } });
  sql = postgres(process.env.DATABASE_URL!, { max: 2, onnotice: () => {} });
});

after(async () => {
  if (sql) {
    // Everything this file made: its organisations' activities and its chunks' idempotency records.
    await sql`delete from activities where tenant_id = ${TENANT} and org_id like ${`${prefix}%`}`;
    await sql`delete from activity_ingests where tenant_id = ${TENANT} and idempotency_key = any(${keysMade})`;
    await sql.end({ timeout: 5 });
  }
  await api?.close();
  await small?.close();
});


interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function sf(args: string[], url = api.url): Promise<Ran> {
  const env = { ...process.env, SHARDFLOW_URL: url, SHARDFLOW_KEY: '', NO_COLOR: '1' };
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { cwd: root, env, timeout: 180_000, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const ndjsonDigest = (seed: number, n: number, chunkRows: number, orgs = 20) => {
  const h = createHash('sha256');
  for (let from = 0; from < n; from += chunkRows) {
    // a fresh generator per chunk: nothing may carry from one chunk to the next
    const gen = seedGenerator(seed, { orgs, orgPrefix: 'o' });
    for (const piece of gen.ndjson(from, Math.min(n, from + chunkRows), 4096)) h.update(piece.text);
  }
  return h.digest('hex');
};

// ---- The generator, no stack ----

test('the generator is deterministic and chunk-independent: chunks of 1,000 and 1,700 give the same NDJSON', () => {
  const a = ndjsonDigest(42, 10_000, 1000);
  assert.equal(ndjsonDigest(42, 10_000, 1700), a);
  assert.equal(ndjsonDigest(42, 10_000, 10_000), a);
  assert.notEqual(ndjsonDigest(43, 10_000, 1000), a, 'another seed, other activities');
  assert.notEqual(ndjsonDigest(42, 10_000, 1000, 21), a, 'another org count, other activities');
  const g = seedGenerator(42, { orgs: 20, orgPrefix: 'o' });
  assert.deepEqual(g.activity(123_456_789), seedGenerator(42, { orgs: 20, orgPrefix: 'o' }).activity(123_456_789));
  let lines = 0;
  for (const p of g.ndjson(0, 10_000)) lines += p.text.split('\n').length - 1;
  assert.equal(lines, 10_000);
});

test('every generated activity is accepted by the kind\'s validator, with a realistic mix', () => {
  const n = 20_000;
  const g = seedGenerator(7, { orgs: 5, orgPrefix: 'acme' });
  const types: Record<string, number> = {};
  const bands: Record<string, number> = {};
  const cabins = new Set<string>();
  const orgs = new Set<string>();
  let regions = 0;
  let contracts = 0;
  let roundTrips = 0;
  let reported = 0;
  const years = new Set<string>();
  for (let i = 0; i < n; i++) {
    const a: SeedActivity = g.activity(i);
    const v = validateActivity(JSON.parse(JSON.stringify(a)), TENANT);
    assert.ok('row' in v, `activity ${i} ${JSON.stringify(a)}: ${JSON.stringify((v as { errors: string[] }).errors)}`);
    assert.equal(seedType(7, i), a.type);
    types[a.type] = (types[a.type] ?? 0) + 1;
    orgs.add(a.orgId);
    years.add((a.type === 'air_travel' ? a.date : a.period).slice(0, 4));
    if (a.type === 'electricity') (regions += a.region ? 1 : 0), (contracts += a.contractFactor !== undefined ? 1 : 0);
    if (a.type === 'air_travel') {
      bands[airDistance(a).band] = (bands[airDistance(a).band] ?? 0) + 1;
      cabins.add(a.cabinClass);
      assert.ok(a.passengers >= 1 && a.passengers <= 4);
      assert.notEqual(a.origin, a.destination);
      roundTrips += a.roundTrip ? 1 : 0;
      reported += a.distanceKm !== undefined ? 1 : 0;
    }
  }
  assert.deepEqual(types, seedCounts(7, 0, n));
  const share = (k: number) => k / n;
  assert.ok(Math.abs(share(types.electricity!) - 0.4) < 0.02 && Math.abs(share(types.goods_services!) - 0.3) < 0.02 && Math.abs(share(types.air_travel!) - 0.3) < 0.02, JSON.stringify(types));
  assert.deepEqual([...orgs].sort(), orgIdsOf('acme', 5).sort());
  assert.deepEqual([...years].sort(), ['2024', '2025']);
  assert.deepEqual(Object.keys(bands).sort(), ['domestic', 'international', 'long_haul', 'short_haul'], JSON.stringify(bands));
  assert.deepEqual([...cabins].sort(), [...CABIN_CLASSES].sort());
  assert.ok(regions > 0 && contracts > 0 && reported > 0 && roundTrips > 0.45 * types.air_travel! && roundTrips < 0.65 * types.air_travel!);
});

// ---- The binary against the API ----

async function typesInDb(p: string, orgs: number) {
  const rows = await sql<{ type: string; n: number }[]>`
    select type, count(*)::int as n from activities where tenant_id = ${TENANT} and org_id = any(${orgIdsOf(p, orgs)}) group by type order by type`;
  return Object.fromEntries(rows.map((r) => [r.type, r.n]));
}

test('seed emissions inserts exactly N activities with the predicted types; the same command again inserts nothing', { skip: stackMissing }, async () => {
  const p = `${prefix}-a`;
  const args = ['seed', 'emissions', '--activities', '5000', '--orgs', '7', '--seed', '99', '--chunk-rows', '1700', '--org-prefix', p];
  const runId = { seed: 99, activities: 5000, orgs: 7, orgPrefix: p };
  for (let k = 0; k < 3; k++) keysMade.push(seedIdempotencyKey(runId, k));
  for (let k = 0; k < 5; k++) keysMade.push(seedIdempotencyKey(runId, k)); // the 1,000-row chunking below

  const first = await sf(args);
  assert.equal(first.code, 0, first.stderr);
  const lines = first.stdout.trim().split('\n');
  assert.equal(lines.length, 4, first.stdout);
  assert.match(lines[0]!, /^chunk 1\/3: 1,700 activities inserted \(0–1,699\) in [\d.]+ s, .* rows\/s; 1,700\/5,000$/);
  assert.match(lines[2]!, /^chunk 3\/3: 1,600 activities inserted \(3,400–4,999\)/);
  const predicted = seedCounts(99, 0, 5000);
  assert.match(lines[3]!, new RegExp(`^seeded 5,000 activities \\(seed 99\\) for ${p}-1…${p}-7 in [\\d.]+ s, .* rows/s: 5,000 inserted \\(electricity ${predicted.electricity.toLocaleString('en-US')}, goods_services ${predicted.goods_services.toLocaleString('en-US')}, air_travel ${predicted.air_travel.toLocaleString('en-US')}\\), 0 already there$`));

  const inDb = await typesInDb(p, 7);
  assert.deepEqual(inDb, predicted);
  const [{ orgs }] = await sql<{ orgs: number }[]>`select count(distinct org_id)::int as orgs from activities where tenant_id = ${TENANT} and org_id like ${`${p}-%`}`;
  assert.equal(orgs, 7);
  // What was stored is what the generator makes (a sample: the first and the last activity).
  const gen = seedGenerator(99, { orgs: 7, orgPrefix: p });
  const [firstRow] = await sql`select org_id, type, period from activities where tenant_id = ${TENANT} and org_id like ${`${p}-%`} order by id limit 1`;
  const a0 = gen.activity(0);
  assert.deepEqual({ org: firstRow!.org_id, type: firstRow!.type }, { org: a0.orgId, type: a0.type });

  const again = await sf([...args, '--json']);
  assert.equal(again.code, 0, again.stderr);
  const s = JSON.parse(again.stdout);
  assert.equal(s.inserted, 0);
  assert.equal(s.alreadyThere, 5000);
  assert.equal(s.chunks, 3);
  assert.deepEqual(s.insertedByType, { electricity: 0, goods_services: 0, air_travel: 0 });
  assert.deepEqual(await typesInDb(p, 7), predicted, 'a second identical run inserts nothing');

  // The same set cut differently: its first chunk's key with another body is a 409, not a duplicate.
  const other = await sf(['seed', 'emissions', '--activities', '5000', '--orgs', '7', '--seed', '99', '--chunk-rows', '1000', '--org-prefix', p]);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /^shardflow: 409 .*Idempotency-Key.*different request/);
  assert.equal(other.stderr.trim().split('\n').length, 1, other.stderr);
  assert.deepEqual(await typesInDb(p, 7), predicted);
});

test('a streamed body over the upload limit is a 413: nothing inserted, and the API keeps working', { skip: stackMissing }, async () => {
  const p = `${prefix}-b`;
  keysMade.push(seedIdempotencyKey({ seed: 1, activities: 3000, orgs: 2, orgPrefix: p }, 0));
  // ~110 bytes a line: 3,000 lines ≈ 330 kB, over this API's 200,000 bytes.
  const r = await sf(['seed', 'emissions', '--activities', '3000', '--orgs', '2', '--org-prefix', p], small.url);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /^shardflow: 413 .*larger than 200000 bytes/);
  assert.deepEqual(await typesInDb(p, 2), {});
  // The same API, a body under the limit: its connection and its pool are fine.
  const ok = await sf(['seed', 'emissions', '--activities', '500', '--orgs', '2', '--org-prefix', p, '--json'], small.url);
  keysMade.push(seedIdempotencyKey({ seed: 1, activities: 500, orgs: 2, orgPrefix: p }, 0));
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).inserted, 500);
  assert.deepEqual(await typesInDb(p, 2), seedCounts(1, 0, 500));
});

test('a streamed body cut at any byte reads the same: CRLF, blank lines, no final newline, a character split across chunks', { skip: stackMissing }, async () => {
  const org = `${prefix}-zürich`;
  const stream = (text: string, piece: number) =>
    new ReadableStream({
      start(c) {
        const bytes = new TextEncoder().encode(text);
        for (let i = 0; i < bytes.length; i += piece) c.enqueue(bytes.subarray(i, i + piece));
        c.close();
      },
    });
  const post = async (body: string, type: string, piece: number, q = '') => {
    const res = await fetch(`${api.url}/v1/activities${q}`, { method: 'POST', headers: { 'Content-Type': type }, body: stream(body, piece), duplex: 'half' } as RequestInit);
    return { status: res.status, body: (await res.json()) as { inserted: number; rejected: Array<{ line: number; errors: string[] }> } };
  };
  const ok = (kwh: number) => JSON.stringify({ type: 'electricity', orgId: org, period: '2025-01', kwh, country: 'DEU' });
  const ndjson = [ok(1), '', JSON.stringify({ type: 'electricity', orgId: org, period: '2025-13', kwh: 2, country: 'DEU' }), 'not json', ok(5)].join('\r\n');
  const csv = ['type,orgId,period,kwh,country', `electricity,${org},2025-01,1,DEU`, `electricity,${org},2025-01,-5,DEU`, '"unbalanced,x,y,z,w', `electricity,${org},2025-02,5,DEU`].join('\r\n');
  for (const piece of [1, 3, 7, 64, 1 << 16]) {
    const a = await post(ndjson, 'application/x-ndjson', piece);
    assert.equal(a.status, 422, `${piece}: ${JSON.stringify(a.body)}`);
    assert.deepEqual(a.body.rejected.map((r) => r.line), [3, 4], `NDJSON in pieces of ${piece}`);
    assert.match(a.body.rejected[0]!.errors[0]!, /period: bad period "2025-13"/);
    assert.deepEqual(a.body.rejected[1]!.errors, ['not a JSON object']);
    const b = await post(csv, 'text/csv', piece);
    assert.equal(b.status, 422, `${piece}: ${JSON.stringify(b.body)}`);
    assert.deepEqual(b.body.rejected.map((r) => r.line), [3, 4], `CSV in pieces of ${piece}`);
  }
  const [{ none }] = await sql<{ none: number }[]>`select count(*)::int as none from activities where tenant_id = ${TENANT} and org_id = ${org}`;
  assert.equal(none, 0, 'a refused body inserts nothing');
  const partial = await post(ndjson, 'application/x-ndjson', 5, '?partial=true');
  assert.equal(partial.status, 201);
  assert.equal(partial.body.inserted, 2);
  const rows = await sql<{ org_id: string; kwh: number }[]>`select org_id, kwh from activities where tenant_id = ${TENANT} and org_id = ${org} order by id`;
  assert.deepEqual(rows.map((r) => [r.org_id, r.kwh]), [[org, 1], [org, 5]]);
});

test('bad flags exit 2 with a clear message', { skip: stackMissing }, async () => {
  const cases: Array<[string[], RegExp]> = [
    [['seed', 'emissions', '--activities', 'lots'], /--activities: an integer from 1 to/],
    [['seed', 'emissions', '--activities', '0'], /--activities: an integer from 1 to/],
    [['seed', 'emissions', '--activities', '10', '--chunk-rows', '-5'], /--chunk-rows: an integer/],
    [['seed', 'emissions', '--activities', '10', '--orgs', '1.5'], /--orgs: an integer/],
    [['seed', 'emissions', '--activities', '10', '--seed', 'x'], /--seed: an integer/],
    [['seed', 'emissions', '--activities', '10', '--org-prefix', 'a b'], /--org-prefix: 1–100 printable ASCII/],
    [['seed', 'emissions'], /required option '--activities <n>' not specified/],
    [['seed', 'emissions', '--activities', '10', '--bogus'], /unknown option '--bogus'/],
    [['seed', 'nothing'], /unknown command 'nothing'|too many arguments/],
  ];
  for (const [args, re] of cases) {
    const r = await sf(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
  }
});
