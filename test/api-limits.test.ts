/**
 * Hostile and heavy requests: bodies are limited while they arrive (413 before the body is read),
 * a large CSV is fitted off the event loop (the API keeps answering meanwhile), and the model list
 * stays small however large the stored models are.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stackMissing, startTestApi, type TestApi } from './support/api.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let api: TestApi;
let small: TestApi;

before(async () => {
  if (stackMissing) return;
  api = await startTestApi();
  small = await startTestApi({ env: { SHARDFLOW_MAX_BODY_BYTES: '4096', SHARDFLOW_MAX_CSV_BYTES: '200000' } });
});
after(async () => {
  await api?.close();
  await small?.close();
});

/** A request whose headers promise `declared` bytes; only `send` are sent. Resolves with the answer. */
function partialPost(base: string, p: string, headers: Record<string, string>, send: string): Promise<{ status: number; body: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(p, base), { method: 'POST', headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        resolve({ status: res.statusCode!, body, ms: Date.now() - t0 });
        req.destroy();
      });
    });
    req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
    req.write(send);
    // never ends the body: an answer can only come from the declared length
  });
}

test('a body declared larger than the limit is a 413 problem before it is read', { skip: stackMissing }, async () => {
  const r = await partialPost(small.url, '/v1/jobs', { 'Content-Type': 'application/json', 'Content-Length': String(50 << 20) }, '{"kind":"trial",');
  assert.equal(r.status, 413);
  const problem = JSON.parse(r.body);
  assert.equal(problem.status, 413);
  assert.match(problem.detail, /larger than 4096 bytes.*SHARDFLOW_MAX_BODY_BYTES/);
  const csv = await partialPost(small.url, '/v1/models', { 'Content-Type': 'text/csv', 'Content-Length': String(500 << 20) }, 'SubjectID,');
  assert.equal(csv.status, 413);
  assert.match(JSON.parse(csv.body).detail, /larger than 200000 bytes.*SHARDFLOW_MAX_CSV_BYTES/);
});

test('a chunked body is cut off at the limit with a 413; one under it is read', { skip: stackMissing }, async () => {
  const big = JSON.stringify({ kind: 'trial', spec: { method: 'mvn', nPerArm: 10 }, pad: 'x'.repeat(8000) });
  const stream = new ReadableStream({
    start(c) {
      const bytes = new TextEncoder().encode(big);
      for (let i = 0; i < bytes.length; i += 1000) c.enqueue(bytes.subarray(i, i + 1000));
      c.close();
    },
  });
  const res = await fetch(`${small.url}/v1/jobs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: stream, duplex: 'half' } as RequestInit);
  assert.equal(res.status, 413);
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  const ok = await fetch(`${small.url}/v1/jobs/validate`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ kind: 'trial', spec: { method: 'mvn', nPerArm: 10, seed: 1 } }) });
  assert.equal(ok.status, 200);
});

test('a chunked CSV upload is counted as it is read, not buffered: over the limit it is a 413 problem', { skip: stackMissing }, async () => {
  const chunked = (text: string) =>
    new ReadableStream({
      start(c) {
        const bytes = new TextEncoder().encode(text);
        for (let i = 0; i < bytes.length; i += 16_384) c.enqueue(bytes.subarray(i, i + 16_384));
        c.close();
      },
    });
  const rows = Array.from({ length: 10_000 }, (_, i) => `S${i},A,Baseline,120,80,70,36.6`);
  const csv = `SubjectID,TreatmentArm,VisitName,SystolicBP,DiastolicBP,HeartRate,Temperature\n${rows.join('\n')}\n`; // ~330 kB
  const res = await fetch(`${small.url}/v1/models`, { method: 'POST', headers: { 'Content-Type': 'text/csv' }, body: chunked(csv), duplex: 'half' } as RequestInit);
  assert.equal(res.status, 413, await res.clone().text());
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  assert.match(((await res.json()) as { detail: string }).detail, /larger than 200000 bytes.*SHARDFLOW_MAX_CSV_BYTES/);
  const nd = await fetch(`${small.url}/v1/activities`, { method: 'POST', headers: { 'Content-Type': 'application/x-ndjson' }, body: chunked('{"type":"nothing"}\n'.repeat(12_000)), duplex: 'half' } as RequestInit);
  assert.equal(nd.status, 413);
  assert.equal(nd.headers.get('content-type'), 'application/problem+json');
});

test('a large CSV is fitted off the event loop: /health/live answers while the fit runs; the list stays small', { skip: stackMissing }, async () => {
  const pilot = (await fs.readFile(path.join(root, 'data', 'pilot-vitals.csv'), 'utf8')).trim().split('\n');
  const lines = [pilot[0]!];
  for (let k = 0; k < 400; k++) for (const l of pilot.slice(1)) lines.push(l.replace(/^([^,]+),/, `$1-${k},`));
  const csv = `${lines.join('\n')}\n`; // ~378K rows, ~16 MB
  const name = `big-${process.pid}`;
  let fitDone = false;
  const fit = fetch(`${api.url}/v1/models?name=${name}`, { method: 'POST', headers: { 'Content-Type': 'text/csv' }, body: csv }).then(async (r) => {
    fitDone = true;
    return { status: r.status, body: (await r.json()) as any };
  });
  const answered: number[] = [];
  // Until the fit answers: every liveness probe must come back while it is still running.
  while (!fitDone) {
    const t0 = Date.now();
    const live = await fetch(`${api.url}/health/live`);
    assert.equal(live.status, 200);
    if (!fitDone) answered.push(Date.now() - t0);
  }
  const { status, body } = await fit;
  assert.equal(status, 201, JSON.stringify(body));
  assert.equal(body.rows, lines.length - 1);
  assert.ok(answered.length >= 3, `the API answered ${answered.length} probes during the fit`);
  assert.ok(Math.max(...answered) < 1000, `probes during the fit took ${JSON.stringify(answered.slice(0, 20))} ms`);

  const list = await fetch(`${api.url}/v1/models?limit=500`);
  const text = await list.text();
  assert.equal(list.status, 200);
  assert.ok(text.length < 20_000, `the list is ${text.length} bytes`);
  assert.ok((JSON.parse(text) as any).items.some((m: any) => m.name === name && m.subjects === 240 * 400));
  const detail = (await (await fetch(`${api.url}/v1/models/${name}`)).json()) as any;
  assert.equal(detail.groups.length, 8);
  assert.equal(detail.groups[0].n, 240 * 400 / 2);
  assert.ok(detail.groups.every((g: any) => g.rows === undefined && g.mean.length === 4));
});
