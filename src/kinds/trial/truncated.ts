/**
 * Truncated normals for the trial generator: the mean of a rounded truncated normal, the location
 * that gives a wanted mean, and the monotone map that turns a standard normal into a truncated one
 * (a Gaussian copula with truncated-normal marginals). Pure.
 *
 * X ~ TN(λ, σ², [lo, hi]) is N(λ, σ²) conditioned on lo ≤ X ≤ hi. With α = (lo − λ)/σ,
 * β = (hi − λ)/σ and Z = Φ(β) − Φ(α), its quantile function is
 *
 *     Q(u) = λ + σ Φ⁻¹(Φ(α) + u Z),   0 < u < 1,
 *
 * so for a standard normal x, Q(Φ(x)) is exactly TN-distributed and increasing in x. Values are
 * rounded to a grid (1 mmHg, 0.1 °C) after sampling; the mean of the rounded value is
 *
 *     E[round(X)] = Σ_k v_k (Φ((e_{k+1} − λ)/σ) − Φ((e_k − λ)/σ)) / Z,
 *
 * v_k = lo + k·grid, e_k = max(lo, v_k − grid/2), e_{k+1} = min(hi, v_k + grid/2): the bins at the
 * bounds are half bins. That mean increases with λ (from lo as λ → −∞ to hi as λ → +∞), so the λ
 * for a wanted mean in (lo, hi) is found by bisection (`solveLocation`).
 */
import { normalCdf, normalPdf, normalQuantile } from '../../data/rng.js';

/** Φ(x2) − Φ(x1) for x1 ≤ x2, computed in the tail where it is small (no cancellation). */
export function cdfDiff(x1: number, x2: number): number {
  if (x1 >= 0) return normalCdf(-x1) - normalCdf(-x2);
  return normalCdf(x2) - normalCdf(x1);
}

/** Φ⁻¹(p) refined by one Halley step (Acklam's approximation, then Φ as accurate as rng.normalCdf). */
export function quantile(p: number): number {
  if (!(p > 0)) return -Infinity;
  if (!(p < 1)) return Infinity;
  const x = normalQuantile(p);
  const e = normalCdf(x) - p;
  const u = e / normalPdf(x);
  const r = x - u / (1 + (x * u) / 2);
  return Number.isFinite(r) ? r : x;
}

/**
 * E[round(X) to `grid`] for X ~ TN(loc, sd², [lo, hi]) (lo, hi on the grid). sd = 0: X = loc
 * clamped (a point). Bins more than 9 sd from loc carry no mass and are skipped.
 */
export function roundedTnMean(loc: number, sd: number, lo: number, hi: number, grid: number): number {
  if (!(sd > 0)) return roundTo(Math.min(hi, Math.max(lo, loc)), grid);
  const a = Math.max(lo, loc - 9 * sd);
  const b = Math.min(hi, loc + 9 * sd);
  if (a > b) return loc < lo ? lo : hi; // all the mass is beyond a bound: the limit of the mean
  const k0 = Math.max(0, Math.floor((a - lo) / grid + 0.5) - 1);
  const k1 = Math.min(Math.round((hi - lo) / grid), Math.ceil((b - lo) / grid + 0.5) + 1);
  let s = 0;
  let z = 0;
  for (let k = k0; k <= k1; k++) {
    const v = lo + k * grid;
    const e0 = Math.max(lo, v - grid / 2);
    const e1 = Math.min(hi, v + grid / 2);
    if (e1 <= e0) continue;
    const p = cdfDiff((e0 - loc) / sd, (e1 - loc) / sd);
    s += v * p;
    z += p;
  }
  if (!(z > 0)) return loc < lo ? lo : hi;
  return s / z;
}

const roundTo = (x: number, grid: number) => Math.round(x / grid) * grid;

/** How far beyond a bound (in sd) the location may go: past it the mean is the bound to 1e−300. */
const LOC_REACH = 40;

/**
 * The location λ for which E[round(X)] = target, X ~ TN(λ, sd², [lo, hi]) (bisection, 80 steps). A
 * target outside the reachable range gives the extreme λ (the caller compares the achieved mean).
 */
export function solveLocation(target: number, sd: number, lo: number, hi: number, grid: number): number {
  if (!(sd > 0)) return Math.min(hi, Math.max(lo, target));
  let a = lo - LOC_REACH * sd;
  let b = hi + LOC_REACH * sd;
  for (let it = 0; it < 80; it++) {
    const m = (a + b) / 2;
    if (roundedTnMean(m, sd, lo, hi, grid) < target) a = m;
    else b = m;
  }
  return (a + b) / 2;
}

/** Q(Φ(x)) of TN(loc, sd², [lo, hi]) for a standard normal x, computed directly (see module doc). */
export function tnFromNormal(x: number, loc: number, sd: number, lo: number, hi: number): number {
  if (!(sd > 0)) return Math.min(hi, Math.max(lo, loc));
  const al = (lo - loc) / sd;
  const be = (hi - loc) / sd;
  let t: number;
  if (al >= 0) {
    // The interval lies in the upper tail: work with upper-tail probabilities.
    const qa = normalCdf(-al);
    const qb = normalCdf(-be);
    t = -quantile(qb + normalCdf(-x) * (qa - qb));
  } else if (be <= 0) {
    const pa = normalCdf(al);
    const pb = normalCdf(be);
    t = quantile(pa + normalCdf(x) * (pb - pa));
  } else if (x <= 0) {
    const pa = normalCdf(al);
    t = quantile(pa + normalCdf(x) * cdfDiff(al, be));
  } else {
    const qb = normalCdf(-be);
    t = -quantile(qb + normalCdf(-x) * cdfDiff(al, be));
  }
  const v = loc + sd * t;
  return v < lo ? lo : v > hi ? hi : Number.isFinite(v) ? v : x < 0 ? lo : hi;
}

/** The same for a uniform u in (0, 1) (the quantile function Q(u)). */
export function tnFromUniform(u: number, loc: number, sd: number, lo: number, hi: number): number {
  return tnFromNormal(quantile(u), loc, sd, lo, hi);
}

/** Knots of a TnMap: x in [−X_MAX, X_MAX], spacing 2·X_MAX / MAP_KNOTS. */
const X_MAX = 8.5;
const MAP_KNOTS = 1024;
const H = (2 * X_MAX) / MAP_KNOTS;
const INV_H = 1 / H;

/**
 * x ↦ Q(Φ(x)) tabulated (cubic Hermite on 1025 knots, exact derivative), the generator's hot path:
 * |error| < 1e−9·sd inside [−8.5, 8.5]; beyond (probability 2e−17) it is computed directly.
 * Interleaved [value, h·slope] per knot.
 */
export interface TnMap {
  loc: number;
  sd: number;
  lo: number;
  hi: number;
  table: Float64Array;
}

export function tnMap(loc: number, sd: number, lo: number, hi: number): TnMap {
  const table = new Float64Array(2 * (MAP_KNOTS + 1));
  const al = (lo - loc) / sd;
  const be = (hi - loc) / sd;
  const z = sd > 0 ? cdfDiff(al, be) : 0;
  for (let i = 0; i <= MAP_KNOTS; i++) {
    const x = -X_MAX + i * H;
    const v = tnFromNormal(x, loc, sd, lo, hi);
    table[2 * i] = v;
    // dQ(Φ(x))/dx = sd · φ(x) Z / φ(t), t = (v − loc)/sd
    const t = (v - loc) / sd;
    const d = sd > 0 && z > 0 ? (sd * normalPdf(x) * z) / normalPdf(t) : 0;
    table[2 * i + 1] = Number.isFinite(d) ? d * H : 0;
  }
  return { loc, sd, lo, hi, table };
}

/** Q(Φ(x)) through the table. */
export function applyMap(m: TnMap, x: number): number {
  const p = (x + X_MAX) * INV_H;
  if (!(p >= 0 && p < MAP_KNOTS)) return tnFromNormal(x, m.loc, m.sd, m.lo, m.hi);
  const k = p | 0;
  const t = p - k;
  const tb = m.table;
  const o = 2 * k;
  const y0 = tb[o], d0 = tb[o + 1], y1 = tb[o + 2], d1 = tb[o + 3];
  const t2 = t * t;
  const u = 1 - t;
  const v = y0 + t2 * (3 - 2 * t) * (y1 - y0) + t * u * (u * d0 - t * d1);
  return v < m.lo ? m.lo : v > m.hi ? m.hi : v;
}
