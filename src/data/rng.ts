/**
 * Counter-based random numbers: every value is a pure function of (seed, stream, counter, lane).
 *
 * There is no generator state that carries from one row to the next, so a row's values do not
 * depend on which shard, batch or retry produced it. This is what makes jobs reproducible
 * whatever their partitioning.
 *
 * ## The function
 *
 * One 32-bit output is MurmurHash3_x86_32 (Appleby, public domain) of the 24-byte message made of
 * six little-endian 32-bit words
 *
 *     [seedLo, seedHi, stream, counterLo, counterHi, lane]
 *
 * with hash seed `0x9e3779b9`. MurmurHash3 passes SMHasher's avalanche, bit-independence and
 * sparse-key tests, which is what a counter-based generator needs (consecutive counters are sparse,
 * highly structured keys). It is not cryptographic, which synthetic data does not need.
 *
 * The first three words are folded once into a *key state* ({@link keyState}); the two counter
 * words once per counter ({@link counterState}); then each lane costs one more word and the
 * finaliser ({@link laneU32}). So four outputs for one counter cost about 26 `Math.imul`s.
 *
 * ## Seeds and counters up to 2^53
 *
 * A seed (and a counter) is a non-negative safe integer, 0 ≤ x ≤ 2^53 − 1. It is split into two
 * unsigned 32-bit words: `lo = x mod 2^32` (computed as `x >>> 0`, exact for integers in this
 * range) and `hi = floor(x / 2^32)` (at most 2^21 − 1). Seeds 1 and 2^32 + 1 therefore give
 * different streams.
 *
 * ## Normals
 *
 * The hot path is {@link zigNormal} / {@link normals4}: a 256-layer ziggurat fed by lanes 0–4 of a
 * counter (see below); about 3× faster than an inverse CDF here. {@link normalFromU32} maps one
 * 32-bit output by the inverse normal CDF (Acklam's rational approximation, |relative error| <
 * 1.15e−9; |z| < 6.3) and {@link normalPair} is Box–Muller (both outputs used); the pilot-data
 * script uses normalFromU32, so changing it would change data/pilot-vitals.csv.
 */

const C1 = 0xcc9e2d51 | 0;
const C2 = 0x1b873593 | 0;
const HASH_SEED = 0x9e3779b9 | 0;
const TWO32 = 4294967296;
/** 2^-32 */
const INV_TWO32 = 1 / TWO32;

/** One MurmurHash3_x86_32 body step: folds 32-bit word `k` into state `h`. Returns a signed int32. */
export function mixWord(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** MurmurHash3's 32-bit finaliser (a bijection with full avalanche). Returns an unsigned 32-bit value. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Splits a non-negative safe integer into [lo, hi] unsigned 32-bit words (see module doc). */
export function splitU53(x: number): [number, number] {
  if (!Number.isSafeInteger(x) || x < 0) {
    throw new RangeError(`expected an integer in [0, 2^53 - 1], got ${x}`);
  }
  return [x >>> 0, Math.floor(x / TWO32) >>> 0];
}

/** The state after hashing (seedLo, seedHi, stream); compute once per (seed, stream), reuse for every counter. */
export function keyState(seed: number, stream: number): number {
  const [lo, hi] = splitU53(seed);
  return mixWord(mixWord(mixWord(HASH_SEED, lo), hi), stream | 0);
}

/** Folds a counter (0 ≤ counter ≤ 2^53 − 1) into a key state. */
export function counterState(key: number, counter: number): number {
  return mixWord(mixWord(key, counter >>> 0), (counter * INV_TWO32) >>> 0);
}

/** The 32-bit output for one lane of a counter state. Unsigned. */
export function laneU32(cs: number, lane: number): number {
  return fmix32(mixWord(cs, lane) ^ 24);
}

/** laneU32 as a signed int32 (same bits); cheaper in hot loops. */
export function laneI32(cs: number, lane: number): number {
  let h = mixWord(cs, lane) ^ 24;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** One unsigned 32-bit output for (key, counter, lane). */
export function u32(key: number, counter: number, lane: number): number {
  return laneU32(counterState(key, counter), lane);
}

/** Maps a 32-bit output to a uniform in the open interval (0, 1). */
export function uniformFromU32(x: number): number {
  return (x + 0.5) * INV_TWO32;
}

/** A uniform in (0, 1) with 53 random bits, from two lanes (lane, lane + 1). */
export function uniform53(key: number, counter: number, lane: number): number {
  const cs = counterState(key, counter);
  const a = laneU32(cs, lane) >>> 5; // 27 bits
  const b = laneU32(cs, lane + 1) >>> 6; // 26 bits
  return (a * 67108864 + b + 0.5) / 9007199254740992;
}

/** Uniform integer in [0, n) for n ≤ 2^32 (multiply-shift; bias < n / 2^32). */
export function intBelow(x: number, n: number): number {
  return Math.floor(x * INV_TWO32 * n);
}

// Acklam's inverse normal CDF coefficients.
const A1 = -3.969683028665376e1;
const A2 = 2.209460984245205e2;
const A3 = -2.759285104469687e2;
const A4 = 1.38357751867269e2;
const A5 = -3.066479806614716e1;
const A6 = 2.506628277459239;
const B1 = -5.447609879822406e1;
const B2 = 1.615858368580409e2;
const B3 = -1.556989798598866e2;
const B4 = 6.680131188771972e1;
const B5 = -1.328068155288572e1;
const D1 = -7.784894002430293e-3;
const D2 = -3.223964580411365e-1;
const D3 = -2.400758277161838;
const D4 = -2.549732539343734;
const D5 = 4.374664141464968;
const D6 = 2.938163982698783;
const E1 = 7.784695709041462e-3;
const E2 = 3.224671290700398e-1;
const E3 = 2.445134137142996;
const E4 = 3.754408661907416;
const P_LOW = 0.02425;
const P_HIGH = 1 - P_LOW;

/** Standard normal quantile of p ∈ (0, 1) (Acklam; relative error < 1.15e−9). */
export function normalQuantile(p: number): number {
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((D1 * q + D2) * q + D3) * q + D4) * q + D5) * q + D6) / ((((E1 * q + E2) * q + E3) * q + E4) * q + 1);
  }
  if (p <= P_HIGH) {
    const q = p - 0.5;
    const r = q * q;
    return (
      ((((((A1 * r + A2) * r + A3) * r + A4) * r + A5) * r + A6) * q) /
      (((((B1 * r + B2) * r + B3) * r + B4) * r + B5) * r + 1)
    );
  }
  const q = Math.sqrt(-2 * Math.log(1 - p));
  return -(((((D1 * q + D2) * q + D3) * q + D4) * q + D5) * q + D6) / ((((E1 * q + E2) * q + E3) * q + E4) * q + 1);
}

/** A standard normal from one unsigned 32-bit output. */
export function normalFromU32(x: number): number {
  return normalQuantile((x + 0.5) * INV_TWO32);
}

/** Two independent standard normals by Box–Muller from lanes (lane, lane+1); written to out[o], out[o+1]. */
export function normalPair(key: number, counter: number, lane: number, out: Float64Array, o: number): void {
  const cs = counterState(key, counter);
  const u1 = (laneU32(cs, lane) + 0.5) * INV_TWO32;
  const u2 = laneU32(cs, lane + 1) * INV_TWO32;
  const r = Math.sqrt(-2 * Math.log(u1));
  const t = 2 * Math.PI * u2;
  out[o] = r * Math.cos(t);
  out[o + 1] = r * Math.sin(t);
}

/** Fills out[offset .. offset+count) with uniforms in (0,1) from lanes 0..count-1 of one counter. */
export function uniforms(key: number, counter: number, out: Float64Array, offset = 0, count = out.length - offset): void {
  const cs = counterState(key, counter);
  for (let i = 0; i < count; i++) out[offset + i] = (laneU32(cs, i) + 0.5) * INV_TWO32;
}

/** Fills out[offset .. offset+count) with standard normals from lanes 0..count-1 of one counter. */
export function normals(key: number, counter: number, out: Float64Array, offset = 0, count = out.length - offset): void {
  const cs = counterState(key, counter);
  for (let i = 0; i < count; i++) out[offset + i] = normalQuantile((laneU32(cs, i) + 0.5) * INV_TWO32);
}

// ---------------------------------------------------------------------------------------------
// Ziggurat normals (the hot path)
//
// Marsaglia & Tsang's ziggurat ("The Ziggurat Method for Generating Random Variables", J. Stat.
// Softw. 5(8), 2000) with 256 layers, made counter-based and with the fix of Leong et al. (2005):
// the layer index does not reuse the value's bits. For normal q (0…3) of a counter state cs:
//   value bits  hz = laneU32(cs, q) as int32,
//   layer index iz = byte q of laneU32(cs, 4).
// About 99 % of draws return from one compare and one multiply; the rest take further 32-bit outputs
// from lanes 256·(q+1) + t, t = 0, 1, …, so the result is still a pure function of (key, counter).

const ZIG_KN = new Float64Array(256);
const ZIG_WN = new Float64Array(256);
const ZIG_FN = new Float64Array(256);
const ZIG_R = 3.6541528853610088;
{
  const m1 = 2147483648.0;
  const vn = 4.92867323399e-3;
  let dn = ZIG_R;
  let tn = dn;
  const q = vn / Math.exp(-0.5 * dn * dn);
  ZIG_KN[0] = (dn / q) * m1;
  ZIG_KN[1] = 0;
  ZIG_WN[0] = q / m1;
  ZIG_WN[255] = dn / m1;
  ZIG_FN[0] = 1;
  ZIG_FN[255] = Math.exp(-0.5 * dn * dn);
  for (let i = 254; i >= 1; i--) {
    dn = Math.sqrt(-2 * Math.log(vn / dn + Math.exp(-0.5 * dn * dn)));
    ZIG_KN[i + 1] = (dn / tn) * m1;
    tn = dn;
    ZIG_FN[i] = Math.exp(-0.5 * dn * dn);
    ZIG_WN[i] = dn / m1;
  }
}

function zigSlow(cs: number, q: number, hz: number, iz: number): number {
  let lane = 256 * (q + 1);
  for (;;) {
    const x = hz * ZIG_WN[iz];
    if (iz === 0) {
      // Tail beyond R (Marsaglia 1964).
      let xt: number, y: number;
      do {
        xt = -Math.log((laneU32(cs, lane++) + 0.5) * INV_TWO32) / ZIG_R;
        y = -Math.log((laneU32(cs, lane++) + 0.5) * INV_TWO32);
      } while (y + y < xt * xt);
      return hz > 0 ? ZIG_R + xt : -ZIG_R - xt;
    }
    if (ZIG_FN[iz] + (laneU32(cs, lane++) + 0.5) * INV_TWO32 * (ZIG_FN[iz - 1] - ZIG_FN[iz]) < Math.exp(-0.5 * x * x)) return x;
    iz = laneU32(cs, lane++) & 255; // index and value from separate outputs
    hz = laneU32(cs, lane++) | 0;
    if (Math.abs(hz) < ZIG_KN[iz]) return hz * ZIG_WN[iz];
  }
}

/**
 * Standard normal number q (0 ≤ q < 4) of a counter state, by the ziggurat. `ix` must be
 * laneU32(cs, 4) (compute it once per counter and pass it to all four calls).
 */
export function zigNormal(cs: number, q: number, ix: number): number {
  const hz = laneI32(cs, q);
  const iz = (ix >>> (8 * q)) & 255;
  if (Math.abs(hz) < ZIG_KN[iz]) return hz * ZIG_WN[iz];
  return zigSlow(cs, q, hz, iz);
}

/** mixWord(h, lane)'s word part for lanes 0–4 (constant per lane). */
const LANE_K = Int32Array.from([0, 1, 2, 3, 4], (lane) => {
  let k = Math.imul(lane, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
});
const LK0 = LANE_K[0], LK1 = LANE_K[1], LK2 = LANE_K[2], LK3 = LANE_K[3], LK4 = LANE_K[4];

/** laneI32(cs, lane) given LANE_K[lane]. */
function laneHash(cs: number, kLane: number): number {
  let h = cs ^ kLane;
  h = (h << 13) | (h >>> 19);
  h = ((Math.imul(h, 5) + 0xe6546b64) | 0) ^ 24;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * normals4 for counters c0 … c0 + n − 1 into out[4i … 4i+3] (the same values as normals4, with
 * the per-lane constants folded): the generators' hot path.
 */
export function fillNormals4(key: number, c0: number, n: number, out: Float64Array): void {
  const KN = ZIG_KN;
  const WN = ZIG_WN;
  for (let i = 0; i < n; i++) {
    const c = c0 + i;
    const cs = mixWord(mixWord(key, c >>> 0), (c * INV_TWO32) >>> 0);
    const ix = laneHash(cs, LK4);
    const o = 4 * i;
    const h0 = laneHash(cs, LK0);
    const i0 = ix & 255;
    out[o] = Math.abs(h0) < KN[i0] ? h0 * WN[i0] : zigSlow(cs, 0, h0, i0);
    const h1 = laneHash(cs, LK1);
    const i1 = (ix >>> 8) & 255;
    out[o + 1] = Math.abs(h1) < KN[i1] ? h1 * WN[i1] : zigSlow(cs, 1, h1, i1);
    const h2 = laneHash(cs, LK2);
    const i2 = (ix >>> 16) & 255;
    out[o + 2] = Math.abs(h2) < KN[i2] ? h2 * WN[i2] : zigSlow(cs, 2, h2, i2);
    const h3 = laneHash(cs, LK3);
    const i3 = ix >>> 24;
    out[o + 3] = Math.abs(h3) < KN[i3] ? h3 * WN[i3] : zigSlow(cs, 3, h3, i3);
  }
}

/** Normal q (0 ≤ q < 4) of normals4(key, counter): the same value, alone. */
export function normal4Lane(key: number, counter: number, q: number): number {
  const cs = counterState(key, counter);
  return zigNormal(cs, q, laneI32(cs, 4));
}

/** Copies of the ziggurat's tables (for a kernel that runs its fast path elsewhere). */
export function zigguratTables(): { kn: Float64Array; wn: Float64Array } {
  return { kn: ZIG_KN.slice(), wn: ZIG_WN.slice() };
}

/** Four independent standard normals for (key, counter) into out[o … o+3] (ziggurat). */
export function normals4(key: number, counter: number, out: Float64Array, o = 0): void {
  const cs = counterState(key, counter);
  const ix = laneI32(cs, 4);
  out[o] = zigNormal(cs, 0, ix);
  out[o + 1] = zigNormal(cs, 1, ix);
  out[o + 2] = zigNormal(cs, 2, ix);
  out[o + 3] = zigNormal(cs, 3, ix);
}

/** Standard normal CDF Φ(x) (erfc via W. J. Cody-quality rational approximation; |error| < 1.2e−7). */
export function normalCdf(x: number): number {
  // Numerical Recipes erfcc (Chebyshev), fractional error < 1.2e-7 everywhere.
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - 0.5 * r : 0.5 * r;
}

/** Standard normal density φ(x). */
export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/** Fixed stream numbers, so that unrelated draws never share (seed, stream, counter). */
export const STREAMS = {
  trialSubject: 1,
  trialRow: 2,
  trialBootstrapDonor: 3,
  trialBootstrapRow: 4,
  /** Redraws: a trial row whose DBP came out ≥ SBP, or a bootstrap row outside the ranges. */
  trialRetry: 5,
  pilot: 100,
  /** `shardflow seed emissions`: one counter per activity index (src/kinds/emissions/seed.ts). */
  emissionsSeed: 200,
} as const;
