import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  fillNormals4,
  keyState,
  normalCdf,
  normalQuantile,
  normals,
  normals4,
  splitU53,
  u32,
  uniform53,
  uniforms,
} from '../src/data/rng.js';

test('seeds split into 32-bit words; 2^53 − 1 is accepted, larger or negative is not', () => {
  assert.deepEqual(splitU53(0), [0, 0]);
  assert.deepEqual(splitU53(2 ** 32 + 5), [5, 1]);
  assert.deepEqual(splitU53(Number.MAX_SAFE_INTEGER), [0xffffffff, 0x1fffff]);
  assert.throws(() => splitU53(2 ** 53));
  assert.throws(() => splitU53(-1));
  assert.throws(() => splitU53(1.5));
  // Seeds that share the low word still give different streams.
  assert.notEqual(u32(keyState(1, 0), 0, 0), u32(keyState(2 ** 32 + 1, 0), 0, 0));
});

test('outputs are pure functions of (seed, stream, counter, lane)', () => {
  const a = new Float64Array(8);
  const b = new Float64Array(8);
  uniforms(keyState(99, 3), 12345, a);
  uniforms(keyState(99, 3), 12345, b);
  assert.deepEqual(a, b);
  uniforms(keyState(99, 4), 12345, b);
  assert.notDeepEqual(a, b);
  for (const x of a) assert.ok(x > 0 && x < 1);
  const u = uniform53(keyState(5, 5), 2 ** 40, 0);
  assert.ok(u > 0 && u < 1);
  // Counters beyond 2^32 are distinct from their low word.
  assert.notEqual(u32(keyState(1, 1), 7, 0), u32(keyState(1, 1), 2 ** 32 + 7, 0));
});

test('uniform bits are balanced and consecutive counters are uncorrelated', () => {
  const key = keyState(2024, 1);
  const N = 200_000;
  const bitCounts = new Array(32).fill(0);
  let sxy = 0;
  let sx = 0;
  let sxx = 0;
  let prev = u32(key, 0, 0) / 2 ** 32;
  for (let i = 1; i <= N; i++) {
    const x = u32(key, i, 0);
    for (let b = 0; b < 32; b++) bitCounts[b] += (x >>> b) & 1;
    const f = x / 2 ** 32;
    sxy += prev * f;
    sx += f;
    sxx += f * f;
    prev = f;
  }
  for (const c of bitCounts) assert.ok(Math.abs(c / N - 0.5) < 5 * Math.sqrt(0.25 / N), `bit frequency ${c / N}`);
  const mean = sx / N;
  const lag1 = (sxy / N - mean * mean) / (sxx / N - mean * mean);
  assert.ok(Math.abs(lag1) < 5 / Math.sqrt(N), `lag-1 correlation ${lag1}`);
});

test('ziggurat normals match the standard normal distribution (moments and CDF)', () => {
  const key = keyState(7, 9);
  const N = 250_000;
  const out = new Float64Array(4);
  const z = new Float64Array(4 * N);
  for (let r = 0; r < N; r++) {
    normals4(key, r, out);
    z.set(out, 4 * r);
  }
  let s1 = 0;
  let s2 = 0;
  let s4 = 0;
  for (const x of z) (s1 += x), (s2 += x * x), (s4 += x ** 4);
  const n = z.length;
  assert.ok(Math.abs(s1 / n) < 4 / Math.sqrt(n));
  assert.ok(Math.abs(s2 / n - 1) < 4 * Math.sqrt(2 / n));
  assert.ok(Math.abs(s4 / n - 3) < 4 * Math.sqrt(96 / n));
  // Kolmogorov–Smirnov distance against Φ.
  const sorted = Float64Array.from(z).sort();
  let d = 0;
  for (let i = 0; i < n; i += 7) d = Math.max(d, Math.abs((i + 0.5) / n - normalCdf(sorted[i])));
  assert.ok(d < 1.63 / Math.sqrt(n) + 1e-6, `KS distance ${d}`); // ~1 % level
  // The four normals of one counter are uncorrelated.
  let c01 = 0;
  let c23 = 0;
  for (let r = 0; r < N; r++) (c01 += z[4 * r] * z[4 * r + 1]), (c23 += z[4 * r + 2] * z[4 * r + 3]);
  assert.ok(Math.abs(c01 / N) < 4 / Math.sqrt(N) && Math.abs(c23 / N) < 4 / Math.sqrt(N));
});

test('fillNormals4 gives exactly normals4, counter by counter (incl. counters past 2^32)', () => {
  const key = keyState(2 ** 40 + 17, 2);
  const one = new Float64Array(4);
  for (const c0 of [0, 123_456, 2 ** 32 - 1000, 2 ** 53 - 5000]) {
    const n = 5000;
    const out = new Float64Array(4 * n);
    fillNormals4(key, c0, n, out);
    for (let i = 0; i < n; i++) {
      normals4(key, c0 + i, one);
      for (let q = 0; q < 4; q++) assert.ok(Object.is(out[4 * i + q], one[q]), `counter ${c0 + i} lane ${q}`);
    }
  }
});

test('inverse-CDF normals and the quantile function', () => {
  assert.ok(Math.abs(normalQuantile(0.975) - 1.959963985) < 1e-8);
  assert.ok(Math.abs(normalQuantile(0.001) + 3.090232306) < 1e-8);
  assert.ok(Math.abs(normalCdf(1.959963985) - 0.975) < 1e-6);
  const out = new Float64Array(6);
  normals(keyState(1, 2), 3, out);
  for (const x of out) assert.ok(Number.isFinite(x) && Math.abs(x) < 7);
});
