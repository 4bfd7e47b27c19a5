/**
 * The linear sum assignment problem (the Hungarian algorithm's problem):
 * pair rows with columns of a cost matrix, each used at most once, so that
 * the total cost is least. Solved by shortest augmenting paths (Jonker and
 * Volgenant 1987, in the rectangular form of Crouse 2016), the algorithm of
 * scipy's `linear_sum_assignment`, ported step by step so that ties are
 * broken the same way.
 *
 * @module
 */

/** What {@linkcode linearSumAssignment} returns: `min(rows, cols)` pairs, by row. */
export interface Assignment {
  /** Row of each pair, increasing. */
  rowIndex: Int32Array;
  /** Column assigned to each row of `rowIndex`. */
  colIndex: Int32Array;
  /** Σ cost[rowIndex[i], colIndex[i]], summed in float64. */
  cost: number;
}

/**
 * Least-cost assignment of rows to columns: `argmin_σ Σ_i cost[i, σ(i)]`
 * over injections σ of the smaller side into the larger (a rectangular
 * matrix leaves `|rows − cols|` rows or columns unassigned). Same result as
 * `scipy.optimize.linear_sum_assignment(cost)`, ties included. O(n² m).
 *
 * @param cost costs, shape (rows, cols), row-major; finite values (or +∞
 *   for a forbidden pair, as long as some full assignment avoids them)
 * @param rows number of rows
 * @param cols number of columns
 * @returns the pairs, sorted by row, and their total cost
 * @throws {RangeError} when `cost.length !== rows × cols`, a cost is NaN or
 *   −∞, or every assignment uses a forbidden (+∞) pair
 *
 * @example
 * ```ts
 * import { linearSumAssignment } from "@brainorg/kernels";
 * const cost = Float64Array.from([4, 1, 3, 2, 0, 5, 3, 2, 2]);
 * const { rowIndex, colIndex, cost: total } = linearSumAssignment(cost, 3, 3);
 * // rowIndex [0, 1, 2], colIndex [1, 0, 2], total 5
 * ```
 */
export function linearSumAssignment(
  cost: ArrayLike<number>,
  rows: number,
  cols: number,
): Assignment {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new RangeError(
      `linearSumAssignment: rows and cols must be integers ≥ 0: current values are ${rows}, ${cols}`,
    );
  }
  if (cost.length !== rows * cols) {
    throw new RangeError(
      `linearSumAssignment: cost must have rows × cols = ${rows * cols} values: ` +
        `current length is ${cost.length}`,
    );
  }
  for (let i = 0; i < cost.length; i++) {
    if (Number.isNaN(cost[i]) || cost[i] === -Infinity) {
      throw new RangeError(
        `linearSumAssignment: cost must be finite or +∞: cost[${i}] is ${cost[i]}`,
      );
    }
  }
  if (rows === 0 || cols === 0) {
    return { rowIndex: new Int32Array(0), colIndex: new Int32Array(0), cost: 0 };
  }
  // The solver wants rows ≤ cols: a tall matrix is solved transposed.
  const transpose = cols < rows;
  const nr = transpose ? cols : rows, nc = transpose ? rows : cols;
  const c = new Float64Array(nr * nc);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      c[transpose ? j * nc + i : i * nc + j] = cost[i * cols + j];
    }
  }
  const col4row = solveWide(c, nr, nc);
  const rowIndex = new Int32Array(nr), colIndex = new Int32Array(nr);
  if (transpose) {
    // Pairs sorted by the original rows (the transposed problem's columns).
    const order = Array.from(col4row.keys()).sort((a, b) => col4row[a] - col4row[b] || a - b);
    order.forEach((v, i) => {
      rowIndex[i] = col4row[v];
      colIndex[i] = v;
    });
  } else {
    for (let i = 0; i < nr; i++) {
      rowIndex[i] = i;
      colIndex[i] = col4row[i];
    }
  }
  let total = 0;
  for (let i = 0; i < nr; i++) total += cost[rowIndex[i] * cols + colIndex[i]];
  return { rowIndex, colIndex, cost: total };
}

/** Column of each row, for a (nr × nc) cost with nr ≤ nc. */
function solveWide(cost: Float64Array, nr: number, nc: number): Int32Array {
  const u = new Float64Array(nr), v = new Float64Array(nc);
  const shortest = new Float64Array(nc);
  const path = new Int32Array(nc).fill(-1);
  const col4row = new Int32Array(nr).fill(-1), row4col = new Int32Array(nc).fill(-1);
  const SR = new Uint8Array(nr), SC = new Uint8Array(nc);
  const remaining = new Int32Array(nc);
  for (let cur = 0; cur < nr; cur++) {
    // Dijkstra on reduced costs from row `cur` to the nearest free column.
    let minVal = 0, numRemaining = nc, sink = -1, i = cur;
    for (let it = 0; it < nc; it++) remaining[it] = nc - it - 1;
    SR.fill(0);
    SC.fill(0);
    shortest.fill(Infinity);
    while (sink === -1) {
      let index = -1, lowest = Infinity;
      SR[i] = 1;
      for (let it = 0; it < numRemaining; it++) {
        const j = remaining[it];
        const r = minVal + cost[i * nc + j] - u[i] - v[j];
        if (r < shortest[j]) {
          path[j] = i;
          shortest[j] = r;
        }
        // Among equals, a free column ends the search soonest.
        if (shortest[j] < lowest || (shortest[j] === lowest && row4col[j] === -1)) {
          lowest = shortest[j];
          index = it;
        }
      }
      minVal = lowest;
      if (minVal === Infinity) {
        throw new RangeError(
          "linearSumAssignment: no assignment avoids the forbidden (+∞) costs",
        );
      }
      const j = remaining[index];
      if (row4col[j] === -1) sink = j;
      else i = row4col[j];
      SC[j] = 1;
      remaining[index] = remaining[--numRemaining];
    }
    u[cur] += minVal;
    for (let r = 0; r < nr; r++) {
      if (SR[r] && r !== cur) u[r] += minVal - shortest[col4row[r]];
    }
    for (let j = 0; j < nc; j++) if (SC[j]) v[j] -= minVal - shortest[j];
    // Augment along the path back to `cur`.
    let j = sink;
    for (;;) {
      const r = path[j];
      row4col[j] = r;
      const prev = col4row[r];
      col4row[r] = j;
      j = prev;
      if (r === cur) break;
    }
  }
  return col4row;
}
