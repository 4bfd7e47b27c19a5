/**
 * Order statistics by selection rather than a sort: medians of a run's 12
 * million values, the cut-offs of surrogate and resampled maps.
 *
 * @module
 */

/**
 * Hoare's selection: reorders `a` so that `a[k]` is its k-th smallest value
 * (0-based), with no larger value before it and no smaller one after it.
 * O(n) on average.
 *
 * @param a (n) the values, reordered in place
 * @param k 0 ≤ k < n
 * @returns `a[k]`
 */
export function selectKth(a: Float32Array | Float64Array, k: number): number {
  let lo = 0, hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i++] = a[j];
        a[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k];
}
