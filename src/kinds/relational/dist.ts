/**
 * Samplers fed by counter-based uniforms (src/data/rng.ts), so a draw is a pure function of
 * (seed, stream, index): weighted choice (Walker's alias method), Zipf on {1 … n} (an alias table up
 * to 2^20 keys, else rejection-inversion, Hörmann & Derflinger 1996, "Rejection-inversion to generate
 * variates from monotone discrete distributions"), Poisson (inversion below λ = 10, PTRS above: Hörmann 1993, "The
 * transformed rejection method for generating Poisson random variables").
 */

/** A source of uniforms in (0, 1) for one draw: the j-th uniform of this draw. */
export type Uniforms = (j: number) => number;

/** Walker's alias table over weights (non-negative, positive sum): one uniform per draw. */
export interface AliasTable {
  readonly size: number;
  /** The index drawn by uniform u ∈ (0, 1). */
  pick(u: number): number;
}

export function createAliasTable(weights: readonly number[]): AliasTable {
  const n = weights.length;
  const sum = weights.reduce((a, b) => a + b, 0);
  if (!(n > 0 && sum > 0 && Number.isFinite(sum))) throw new RangeError('weights need a positive, finite sum');
  const prob = new Float64Array(n);
  const alias = new Uint32Array(n);
  const scaled = weights.map((w) => (w * n) / sum);
  const small: number[] = [];
  const large: number[] = [];
  scaled.forEach((p, i) => (p < 1 ? small : large).push(i));
  while (small.length && large.length) {
    const s = small.pop()!;
    const l = large.pop()!;
    prob[s] = scaled[s]!;
    alias[s] = l;
    scaled[l] = scaled[l]! + scaled[s]! - 1;
    (scaled[l]! < 1 ? small : large).push(l);
  }
  for (const i of large) prob[i] = 1;
  for (const i of small) prob[i] = 1; // rounding leftovers
  return {
    size: n,
    pick(u) {
      const x = u * n;
      const i = Math.min(n - 1, Math.floor(x));
      return x - i < prob[i]! ? i : alias[i]!;
    },
  };
}

const helper1 = (x: number) => (Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1 / 3 - 0.25 * x)));
const helper2 = (x: number) => (Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + (x / 3) * (1 + 0.25 * x)));

/** Zipf on {1 … n} with P(k) ∝ k^−s (s > 0). */
export interface ZipfSampler {
  sample(u: Uniforms): number;
}

/** Up to this many keys a zipf draw is one alias-table lookup (k^−s weights, 12 bytes a key); beyond it, rejection-inversion. */
export const ZIPF_TABLE_MAX = 1 << 20;

export function createZipf(n: number, s: number): ZipfSampler {
  if (!(n >= 1 && s > 0)) throw new RangeError('zipf needs n ≥ 1 and s > 0');
  if (n <= ZIPF_TABLE_MAX) {
    const alias = createAliasTable(Array.from({ length: n }, (_, k) => Math.exp(-s * Math.log(k + 1))));
    return { sample: (uniform) => alias.pick(uniform(0)) + 1 };
  }
  const h = (x: number) => Math.exp(-s * Math.log(x));
  const hIntegral = (x: number) => {
    const lx = Math.log(x);
    return helper2((1 - s) * lx) * lx;
  };
  const hIntegralInverse = (x: number) => {
    let t = x * (1 - s);
    if (t < -1) t = -1; // guards against rounding when x is close to its bound
    return Math.exp(helper1(t) * x);
  };
  const hX1 = hIntegral(1.5) - 1;
  const hN = hIntegral(n + 0.5);
  const sLimit = 2 - hIntegralInverse(hIntegral(2.5) - h(2));
  return {
    sample(uniform) {
      for (let j = 0; ; j++) {
        const u = hN + uniform(j) * (hX1 - hN);
        const x = hIntegralInverse(u);
        let k = Math.floor(x + 0.5);
        if (k < 1) k = 1;
        else if (k > n) k = n;
        if (k - x <= sLimit || u >= hIntegral(k + 0.5) - h(k)) return k;
      }
    },
  };
}

const LOG_FACT = Float64Array.from({ length: 10 }, (_, k) => {
  let f = 0;
  for (let i = 2; i <= k; i++) f += Math.log(i);
  return f;
});

/** log(k!) for an integer k ≥ 0 (Stirling's series from 10 on: error < 1e−12). */
export function logFactorial(k: number): number {
  if (k < 10) return LOG_FACT[k]!;
  const x = k + 1;
  const x2 = 1 / (x * x);
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + (1 / 12 - x2 * (1 / 360 - x2 * (1 / 1260 - x2 / 1680))) / x;
}

/** Largest uniformFromU32 value: (2^32 − 0.5) / 2^32. No u exceeds it. */
const U_MAX = (4294967296 - 0.5) / 4294967296;

/**
 * For 0 < λ < 10: the inversion's running sums F(0), F(1), … as createPoisson's loop computes them
 * (the same operations in the same order, so the same doubles), up to the first F(k) ≥ U_MAX or
 * k = 1000. `poissonFromTable(F, u)` then equals `createPoisson(λ).sample(() => u)` for every u.
 */
export function poissonTable(lambda: number): Float64Array {
  if (!(lambda > 0 && lambda < 10)) throw new RangeError('poissonTable needs 0 < λ < 10');
  const out: number[] = [];
  let p = Math.exp(-lambda);
  let f = p;
  out.push(f);
  for (let k = 1; k <= 1000 && !(f >= U_MAX); k++) {
    p *= lambda / k;
    f += p;
    out.push(f);
  }
  return Float64Array.from(out);
}

/** The smallest k with u ≤ F(k) (the last k of the table when there is none, as the loop's cap). */
export function poissonFromTable(F: Float64Array, u: number): number {
  const last = F.length - 1;
  let k = 0;
  while (k < last && u > F[k]!) k++;
  return k;
}

/** Poisson(λ) for 0 ≤ λ ≤ 1e6. */
export function createPoisson(lambda: number): { sample(u: Uniforms): number } {
  if (!(lambda >= 0 && lambda <= 1e6)) throw new RangeError('poisson needs 0 ≤ λ ≤ 1e6');
  if (lambda === 0) return { sample: () => 0 };
  if (lambda < 10) {
    const p0 = Math.exp(-lambda);
    return {
      sample(uniform) {
        // Inversion: the smallest k with F(k) ≥ u.
        const u = uniform(0);
        let k = 0;
        let p = p0;
        let f = p0;
        while (u > f && k < 1000) {
          k++;
          p *= lambda / k;
          f += p;
        }
        return k;
      },
    };
  }
  const slam = Math.sqrt(lambda);
  const loglam = Math.log(lambda);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  return {
    sample(uniform) {
      for (let j = 0; ; j += 2) {
        const U = uniform(j) - 0.5;
        const V = uniform(j + 1);
        const us = 0.5 - Math.abs(U);
        const k = Math.floor(((2 * a) / us + b) * U + lambda + 0.43);
        if (us >= 0.07 && V <= vr) return k;
        if (k < 0 || (us < 0.013 && V > us)) continue;
        if (Math.log(V) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -lambda + k * loglam - logFactorial(k)) return k;
      }
    },
  };
}
