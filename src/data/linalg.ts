/**
 * Small dense symmetric-matrix helpers (row-major `number[]` of length k*k). Pure.
 */

export function zeros(k: number): number[] {
  return new Array<number>(k * k).fill(0);
}

export function identity(k: number): number[] {
  const m = zeros(k);
  for (let i = 0; i < k; i++) m[i * k + i] = 1;
  return m;
}

export function symmetrize(a: number[], k: number): number[] {
  const m = zeros(k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) m[i * k + j] = 0.5 * (a[i * k + j] + a[j * k + i]);
  return m;
}

/** Lower-triangular Cholesky factor L (A = L Lᵀ), or null when A is not positive-definite. */
export function cholesky(a: number[], k: number): number[] | null {
  const l = zeros(k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * k + j];
      for (let p = 0; p < j; p++) s -= l[i * k + p] * l[j * k + p];
      if (i === j) {
        if (!(s > 0) || !Number.isFinite(s)) return null;
        l[i * k + i] = Math.sqrt(s);
      } else {
        l[i * k + j] = s / l[j * k + j];
      }
    }
  }
  return l;
}

/**
 * Cholesky with diagonal jitter: if A is not numerically positive-definite, adds ε·mean(diag)·I
 * with ε = 1e−10, 1e−9, … until it is. Returns the factor and the jitter added.
 */
export function choleskyJitter(a: number[], k: number): { l: number[]; jitter: number } {
  const direct = cholesky(a, k);
  if (direct) return { l: direct, jitter: 0 };
  let meanDiag = 0;
  for (let i = 0; i < k; i++) meanDiag += Math.abs(a[i * k + i]) / k;
  if (!(meanDiag > 0)) meanDiag = 1;
  for (let eps = 1e-10; eps <= 10; eps *= 10) {
    const b = a.slice();
    for (let i = 0; i < k; i++) b[i * k + i] += eps * meanDiag;
    const l = cholesky(b, k);
    if (l) return { l, jitter: eps * meanDiag };
  }
  throw new Error('covariance matrix could not be made positive-definite');
}

/** Eigen-decomposition of a symmetric matrix by cyclic Jacobi: A = V diag(values) Vᵀ (V columns are vectors). */
export function symEigen(a: number[], k: number): { values: number[]; vectors: number[] } {
  const m = a.slice();
  const v = identity(k);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < k; i++) for (let j = i + 1; j < k; j++) off += m[i * k + j] * m[i * k + j];
    if (off < 1e-30) break;
    for (let p = 0; p < k; p++) {
      for (let q = p + 1; q < k; q++) {
        const apq = m[p * k + q];
        if (Math.abs(apq) < 1e-300) continue;
        const app = m[p * k + p];
        const aqq = m[q * k + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < k; r++) {
          const arp = m[r * k + p];
          const arq = m[r * k + q];
          m[r * k + p] = c * arp - s * arq;
          m[r * k + q] = s * arp + c * arq;
        }
        for (let r = 0; r < k; r++) {
          const apr = m[p * k + r];
          const aqr = m[q * k + r];
          m[p * k + r] = c * apr - s * aqr;
          m[q * k + r] = s * apr + c * aqr;
        }
        for (let r = 0; r < k; r++) {
          const vrp = v[r * k + p];
          const vrq = v[r * k + q];
          v[r * k + p] = c * vrp - s * vrq;
          v[r * k + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  const values: number[] = [];
  for (let i = 0; i < k; i++) values.push(m[i * k + i]);
  return { values, vectors: v };
}

/** Projects a symmetric matrix onto the positive-semidefinite cone (eigenvalues clipped at `floor`). */
export function clipEigen(a: number[], k: number, floor = 0): number[] {
  const { values, vectors } = symEigen(symmetrize(a, k), k);
  const out = zeros(k);
  for (let e = 0; e < k; e++) {
    const lam = Math.max(values[e], floor);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) out[i * k + j] += lam * vectors[i * k + e] * vectors[j * k + e];
  }
  return symmetrize(out, k);
}

/** A symmetric square root S of a positive-semidefinite A (S Sᵀ = A), via eigen-decomposition. */
export function psdSqrt(a: number[], k: number): number[] {
  const { values, vectors } = symEigen(symmetrize(a, k), k);
  const out = zeros(k);
  for (let e = 0; e < k; e++) {
    const s = Math.sqrt(Math.max(values[e], 0));
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) out[i * k + j] += s * vectors[i * k + e] * vectors[j * k + e];
  }
  return out;
}

/** Smallest eigenvalue of D A D with D = diag(A)^(-1/2) (the correlation-scaled matrix); -Infinity if a diagonal is ≤ 0. */
export function minScaledEigen(a: number[], k: number, scaleBy: number[] = a): number {
  const d: number[] = [];
  for (let i = 0; i < k; i++) {
    const v = scaleBy[i * k + i];
    if (!(v > 0)) return -Infinity;
    d.push(1 / Math.sqrt(v));
  }
  const s = zeros(k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) s[i * k + j] = a[i * k + j] * d[i] * d[j];
  return Math.min(...symEigen(s, k).values);
}

export function matMulT(a: number[], k: number): number[] {
  const out = zeros(k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += a[i * k + p] * a[j * k + p];
    out[i * k + j] = s;
  }
  return out;
}
