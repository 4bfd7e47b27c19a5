/**
 * Decompositions of small dense matrices (up to about 1,024 × 1,024) in
 * float64 on the host: symmetric eigendecomposition (cyclic Jacobi),
 * Cholesky solve, and the SVD of tall-skinny matrices through XᵀX.
 *
 * They are small next to the products with every target, which run on the
 * backend; float64 here keeps the solvers' accuracy independent of it.
 *
 * @module
 */

/**
 * Eigendecomposition of a symmetric matrix A = V diag(w) Vᵀ.
 *
 * @param a (n × n) row-major, symmetric (only symmetry within 1e-8 relative is checked)
 * @param n its order
 * @returns `values` (n, descending) and `vectors` (n × n row-major, column j
 *   is the eigenvector of `values[j]`)
 *
 * @example
 * ```ts
 * import { eigh } from "@brainorg/kernels";
 * const { values } = eigh(Float64Array.from([2, 1, 1, 2]), 2); // [3, 1]
 * ```
 */
export function eigh(
  a: ArrayLike<number>,
  n: number,
): { values: Float64Array; vectors: Float64Array } {
  if (a.length !== n * n) {
    throw new RangeError(`eigh: a has ${a.length} values, expected ${n} × ${n}`);
  }
  const A = Float64Array.from(a);
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale = Math.max(scale, Math.abs(A[i]));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (Math.abs(A[i * n + j] - A[j * n + i]) > 1e-8 * (scale || 1)) {
        throw new RangeError(`eigh: matrix is not symmetric at (${i}, ${j})`);
      }
    }
  }
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += A[i * n + j] ** 2;
    if (off <= 1e-30 * (scale * scale || 1) * n * n) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const app = A[p * n + p], aqq = A[q * n + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k * n + p], akq = A[k * n + q];
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p * n + k], aqk = A[q * n + k];
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = V[k * n + p], vkq = V[k * n + q];
          V[k * n + p] = c * vkp - s * vkq;
          V[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => A[j * n + j] - A[i * n + i]);
  const values = Float64Array.from(order, (i) => A[i * n + i]);
  const vectors = new Float64Array(n * n);
  for (let r = 0; r < n; r++) order.forEach((src, c) => (vectors[r * n + c] = V[r * n + src]));
  return { values, vectors };
}

/**
 * Solve A X = B for symmetric positive definite A by Cholesky factorisation.
 *
 * @param a (n × n) row-major, SPD
 * @param b (n × m) row-major
 * @param n the order of A
 * @returns X, (n × m) row-major, float64
 * @throws {RangeError} when A is not positive definite, or the lengths do not fit n
 *
 * @example
 * ```ts
 * import { choleskySolve } from "@brainorg/kernels";
 * const x = choleskySolve([4, 2, 2, 3], [2, 1], 2); // [0.5, 0]
 * ```
 */
export function choleskySolve(a: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array {
  const m = b.length / n;
  if (a.length !== n * n || !Number.isInteger(m)) {
    throw new RangeError(`choleskySolve: a must be ${n} × ${n} and b ${n} × m`);
  }
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i === j) {
        if (!(s > 0)) {
          throw new RangeError(`choleskySolve: matrix is not positive definite (pivot ${i})`);
        }
        L[i * n + i] = Math.sqrt(s);
      } else {
        L[i * n + j] = s / L[j * n + j];
      }
    }
  }
  const X = Float64Array.from(b);
  for (let c = 0; c < m; c++) {
    for (let i = 0; i < n; i++) {
      let s = X[i * m + c];
      for (let k = 0; k < i; k++) s -= L[i * n + k] * X[k * m + c];
      X[i * m + c] = s / L[i * n + i];
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = X[i * m + c];
      for (let k = i + 1; k < n; k++) s -= L[k * n + i] * X[k * m + c];
      X[i * m + c] = s / L[i * n + i];
    }
  }
  return X;
}

/**
 * Thin SVD of a tall-skinny matrix X = U diag(s) Vᵀ through the
 * eigendecomposition of XᵀX (float64).
 *
 * @param x (n × p) row-major, n ≥ p
 * @param n rows of X
 * @param p columns of X
 * @returns `s` (p, descending), `v` (p × p, column j pairs with `s[j]`),
 *   `u` (n × p; columns with s ≈ 0 are 0); all row-major float64
 * @throws {RangeError} when `x` does not hold n × p values
 *
 * @example
 * ```ts
 * import { svdTallSkinny } from "@brainorg/kernels";
 * const { s } = svdTallSkinny([3, 0, 0, 4, 0, 0], 3, 2); // [4, 3]
 * ```
 */
export function svdTallSkinny(
  x: ArrayLike<number>,
  n: number,
  p: number,
): { u: Float64Array; s: Float64Array; v: Float64Array } {
  if (x.length !== n * p) {
    throw new RangeError(`svdTallSkinny: x has ${x.length} values, expected ${n} × ${p}`);
  }
  const g = gram64(x, n, p);
  const { values, vectors } = eigh(g, p);
  const s = Float64Array.from(values, (w) => Math.sqrt(Math.max(w, 0)));
  const u = new Float64Array(n * p);
  const tol = s[0] * 1e-12 * Math.max(n, p);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) {
      if (s[j] <= tol) continue;
      let acc = 0;
      for (let k = 0; k < p; k++) acc += x[i * p + k] * vectors[k * p + j];
      u[i * p + j] = acc / s[j];
    }
  }
  return { u, s, v: vectors };
}

/**
 * XᵀX accumulated in float64.
 *
 * @param x (n × p) row-major
 * @param n rows of X
 * @param p columns of X
 * @returns XᵀX, (p × p) row-major, symmetric
 *
 * @example
 * ```ts
 * import { gram64 } from "@brainorg/kernels";
 * const g = gram64([1, 2, 3, 4], 2, 2); // [10, 14, 14, 20]
 * ```
 */
export function gram64(x: ArrayLike<number>, n: number, p: number): Float64Array {
  const g = new Float64Array(p * p);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < p; a++) {
      const xa = x[i * p + a];
      if (xa === 0) continue;
      for (let b = a; b < p; b++) g[a * p + b] += xa * x[i * p + b];
    }
  }
  for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) g[a * p + b] = g[b * p + a];
  return g;
}
