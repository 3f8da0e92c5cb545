/**
 * GET /docs: Swagger UI served by the API itself (swagger-ui-dist), so it works without internet;
 * public like /openapi.json.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { stackMissing, startTestApi, type TestApi } from './support/api.js';

let api: TestApi;
before(async () => {
  if (stackMissing) return;
  // Auth required: /docs and its assets must still need no key.
  api = await startTestApi({ env: { SHARDFLOW_AUTH: 'required' } });
});
after(async () => api?.close());

const EXPECTED_TYPE: Record<string, RegExp> = {
  '.js': /^text\/javascript; charset=utf-8$/,
  '.css': /^text\/css; charset=utf-8$/,
  '.png': /^image\/png$/,
};

test('GET /docs references only assets the API serves itself, each with its type and real content', { skip: stackMissing }, async () => {
  const res = await api.request('/docs');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  const html = await res.text();
  assert.match(html, /<div id="swagger-ui">/);
  const refs = [...html.matchAll(/<(script|link)\b[^>]*?\b(src|href)="([^"]+)"/g)].map((m) => ({ tag: m[1]!, url: m[3]! }));
  assert.ok(refs.some((r) => r.tag === 'script') && refs.some((r) => r.tag === 'link'), html);
  for (const { url } of refs) {
    assert.match(url, /^\/docs\/assets\/[\w.-]+$/, `${url}: a local path (no scheme, no host, no CDN)`);
  }
  assert.doesNotMatch(html, /https?:\/\//, 'no absolute URL anywhere in the page');

  const minBytes: Record<string, number> = { '.js': 100, '.css': 10_000, '.png': 100 };
  for (const { url } of refs) {
    const asset = await api.request(url);
    assert.equal(asset.status, 200, url);
    const ext = url.slice(url.lastIndexOf('.'));
    assert.match(asset.headers.get('content-type') ?? '', EXPECTED_TYPE[ext]!, url);
    const body = new Uint8Array(await asset.arrayBuffer());
    assert.ok(body.length >= minBytes[ext]!, `${url}: ${body.length} bytes`);
  }
  // The bundle is Swagger UI itself, and the start script points it at this API's document.
  const bundle = await (await api.request('/docs/assets/swagger-ui-bundle.js')).text();
  assert.ok(bundle.length > 500_000 && bundle.includes('SwaggerUIBundle'), 'swagger-ui-bundle.js is the real bundle');
  const init = await (await api.request('/docs/assets/swagger-initializer.js')).text();
  assert.match(init, /url: '\/openapi\.json'/);
  assert.doesNotMatch(init, /https?:\/\//);
});

test('docs assets: a revalidation is a 304; another name is a 404 problem, never a file outside the list', { skip: stackMissing }, async () => {
  const first = await api.request('/docs/assets/swagger-ui.css');
  const etag = first.headers.get('etag');
  assert.ok(etag);
  await first.arrayBuffer();
  assert.equal((await api.request('/docs/assets/swagger-ui.css', { headers: { 'If-None-Match': etag } })).status, 304);
  for (const name of ['package.json', 'swagger-ui-bundle.js.map', 'index.html', '..%2Fpackage.json', 'constructor']) {
    const res = await api.request(`/docs/assets/${name}`);
    assert.equal(res.status, 404, name);
    assert.equal(res.headers.get('content-type'), 'application/problem+json', name);
  }
});

test('/docs, its assets and /openapi.json need no key', { skip: stackMissing }, async () => {
  assert.equal((await api.request('/v1/jobs')).status, 401, 'auth is required on this API');
  for (const path of ['/docs', '/docs/assets/swagger-ui-bundle.js', '/docs/assets/swagger-ui.css', '/docs/assets/swagger-initializer.js', '/openapi.json']) {
    const res = await api.request(path);
    assert.equal(res.status, 200, path);
    await res.arrayBuffer();
  }
});
