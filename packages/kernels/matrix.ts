/**
 * Dense float32 matrices, row-major, and strided views of them.
 *
 * @module
 */

/** A dense matrix: `data[r * cols + c]`, float32, row-major. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

/**
 * A view of a row-major matrix: element (r, c) is
 * `data[offset + r * rowStride + c]`. A column block of a wider matrix is a
 * view with `rowStride` = the wider matrix's column count.
 */
export interface MatrixView {
  rows: number;
  cols: number;
  data: Float32Array;
  /** Elements between the starts of two rows. Default: `cols`. */
  rowStride?: number;
  /** Index of element (0, 0). Default: 0. */
  offset?: number;
}

/** Make a matrix of zeros, or wrap `data` (shape checked). */
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

/** Copy a view into a new dense matrix (a no-op copy for a dense view). */
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

/** A block of columns `[c0, c0 + n)` of a dense matrix, as a view (no copy). */
export function columnBlock(m: MatrixView, c0: number, n: number): MatrixView {
  return {
    rows: m.rows,
    cols: n,
    data: m.data,
    rowStride: m.rowStride ?? m.cols,
    offset: (m.offset ?? 0) + c0,
  };
}

/** A block of rows `[r0, r0 + n)`, as a view (no copy). */
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
 * @throws {RangeError} for an empty or inconsistent shape
 * @throws {TypeError} for non-finite values, naming the first (row, column)
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
