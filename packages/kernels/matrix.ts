/**
 * Dense float32 matrices, row-major, and strided views of them.
 *
 * @module
 */

/** A dense matrix: `data[r * cols + c]`, float32, row-major. */
export interface Matrix {
  /** Number of rows. */
  rows: number;
  /** Number of columns. */
  cols: number;
  /** The values, row-major: length `rows · cols`. */
  data: Float32Array;
}

/**
 * A view of a row-major matrix: element (r, c) is
 * `data[offset + r * rowStride + c]`. A column block of a wider matrix is a
 * view with `rowStride` = the wider matrix's column count.
 */
export interface MatrixView {
  /** Number of rows in the view. */
  rows: number;
  /** Number of columns in the view. */
  cols: number;
  /** The underlying values (of the view and whatever surrounds it), row-major. */
  data: Float32Array;
  /** Elements between the starts of two rows. Default: `cols`. */
  rowStride?: number;
  /** Index of element (0, 0). Default: 0. */
  offset?: number;
}

/**
 * Make a matrix of zeros, or wrap `data` (shape checked).
 *
 * @param rows number of rows
 * @param cols number of columns
 * @param data the values, row-major, length `rows · cols`: a Float32Array is
 *   wrapped as it is (no copy), numbers are copied into a new one. Default: zeros.
 * @returns the matrix (rows × cols)
 * @throws {RangeError} when `data` has not `rows · cols` values
 *
 * @example
 * ```ts
 * import { matrix } from "@brainorg/kernels";
 * const a = matrix(2, 3, [1, 2, 3, 4, 5, 6]); // a.data[1 * 3 + 2] === 6
 * const zeros = matrix(4, 4);
 * ```
 */
export function matrix(rows: number, cols: number, data?: Float32Array | number[]): Matrix {
  const d = data === undefined
    ? new Float32Array(rows * cols)
    : data instanceof Float32Array
    ? data
    : Float32Array.from(data);
  if (d.length !== rows * cols) {
    throw new RangeError(`matrix data has ${d.length} values: expected ${rows} × ${cols}`);
  }
  return { rows, cols, data: d };
}

/**
 * Copy a view into a new dense matrix; a view that is already dense (whole
 * rows from offset 0, nothing after) is returned as it is, without a copy.
 *
 * @param v the view (rows × cols)
 * @returns a dense matrix (rows × cols), row-major
 *
 * @example
 * ```ts
 * import { columnBlock, densify, matrix } from "@brainorg/kernels";
 * const a = matrix(2, 3, [1, 2, 3, 4, 5, 6]);
 * const right = densify(columnBlock(a, 1, 2)); // data: [2, 3, 5, 6]
 * ```
 */
export function densify(v: MatrixView): Matrix {
  const stride = v.rowStride ?? v.cols, off = v.offset ?? 0;
  if (stride === v.cols && off === 0 && v.data.length === v.rows * v.cols) {
    return { rows: v.rows, cols: v.cols, data: v.data };
  }
  const out = new Float32Array(v.rows * v.cols);
  for (let r = 0; r < v.rows; r++) {
    out.set(v.data.subarray(off + r * stride, off + r * stride + v.cols), r * v.cols);
  }
  return { rows: v.rows, cols: v.cols, data: out };
}

/**
 * A block of columns `[c0, c0 + n)` of a matrix or view, as a view (no copy):
 * how solvers work through many targets a batch at a time.
 *
 * @param m the matrix or view (rows × cols)
 * @param c0 first column of the block
 * @param n columns in the block (the caller keeps `c0 + n ≤ cols`)
 * @returns a view (rows × n) sharing `m.data`
 *
 * @example
 * ```ts
 * import { columnBlock, matrix } from "@brainorg/kernels";
 * const y = matrix(100, 5000);
 * const firstThousand = columnBlock(y, 0, 1000); // rowStride 5000
 * ```
 */
export function columnBlock(m: MatrixView, c0: number, n: number): MatrixView {
  return {
    rows: m.rows,
    cols: n,
    data: m.data,
    rowStride: m.rowStride ?? m.cols,
    offset: (m.offset ?? 0) + c0,
  };
}

/**
 * A block of rows `[r0, r0 + n)` of a matrix or view, as a view (no copy):
 * e.g. one fold's samples.
 *
 * @param m the matrix or view (rows × cols)
 * @param r0 first row of the block
 * @param n rows in the block (the caller keeps `r0 + n ≤ rows`)
 * @returns a view (n × cols) sharing `m.data`
 *
 * @example
 * ```ts
 * import { matrix, rowBlock } from "@brainorg/kernels";
 * const x = matrix(100, 4);
 * const heldOut = rowBlock(x, 80, 20); // rows 80 … 99
 * ```
 */
export function rowBlock(m: MatrixView, r0: number, n: number): MatrixView {
  const stride = m.rowStride ?? m.cols;
  return {
    rows: n,
    cols: m.cols,
    data: m.data,
    rowStride: stride,
    offset: (m.offset ?? 0) + r0 * stride,
  };
}

/**
 * Validate a matrix argument: positive integer shape, data long enough,
 * and (when `finite`) no NaN or ±Inf.
 *
 * @param name the argument's name, used in the error
 * @param m the matrix or view to check
 * @param finite also reject NaN and ±Inf. Default: true.
 * @throws {RangeError} for an empty or inconsistent shape
 * @throws {TypeError} for non-finite values, naming the first (row, column)
 *
 * @example
 * ```ts
 * import { matrix, validateMatrix } from "@brainorg/kernels";
 * validateMatrix("x", matrix(2, 2, [1, 2, 3, 4])); // passes
 * try {
 *   validateMatrix("y", matrix(1, 2, [1, NaN]));
 * } catch (err) {
 *   console.log((err as TypeError).message); // `y` holds NaN at row 0, column 1: values must be finite
 * }
 * ```
 */
export function validateMatrix(name: string, m: MatrixView, finite = true): void {
  if (!(m.data instanceof Float32Array)) {
    throw new TypeError(`\`${name}\` must hold a Float32Array: current value is ${typeof m.data}`);
  }
  if (!Number.isInteger(m.rows) || !Number.isInteger(m.cols) || m.rows < 1 || m.cols < 1) {
    throw new RangeError(`\`${name}\` must not be empty: current shape is ${m.rows} × ${m.cols}`);
  }
  const stride = m.rowStride ?? m.cols, off = m.offset ?? 0;
  if (stride < m.cols || off < 0 || off + (m.rows - 1) * stride + m.cols > m.data.length) {
    throw new RangeError(
      `\`${name}\` (${m.rows} × ${m.cols}, row stride ${stride}, offset ${off}) does not fit ` +
        `its ${m.data.length} values`,
    );
  }
  if (!finite) return;
  for (let r = 0; r < m.rows; r++) {
    const base = off + r * stride;
    for (let c = 0; c < m.cols; c++) {
      const v = m.data[base + c];
      if (v - v !== 0) {
        throw new TypeError(
          `\`${name}\` holds ${v} at row ${r}, column ${c}: values must be finite`,
        );
      }
    }
  }
}
