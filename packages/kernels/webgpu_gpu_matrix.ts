/**
 * Matrices that live on a GPUDevice: the operands and results of the
 * WebGPU backend's resident calls ({@linkcode WebGpuBackend.gemmGpu},
 * {@linkcode ridgeCVGpu}, …), which chain kernels without reading anything
 * back, as onnxruntime-web's `Tensor.fromGpuBuffer` and tfjs's `dataToGPU`
 * let a page keep its tensors on the GPU.
 *
 * Ownership: a buffer the caller wraps stays the caller's (brainorg never
 * destroys it, and `dispose()` of its wrapper only marks the wrapper used up
 * unless the caller passed a `dispose` of their own); every GpuMatrix a
 * backend returns owns a buffer created for it, which its `dispose()`
 * destroys and which nothing else frees. A backend whose device brainorg
 * created destroys that device on `dispose()`, and with it every buffer on
 * it: pass your own device to keep results past the backend.
 *
 * @module
 */

/**
 * Usage flags every GpuMatrix's buffer needs: STORAGE | COPY_SRC | COPY_DST
 * (0x8c). A buffer may have more (e.g. VERTEX), never fewer.
 *
 * @example
 * ```ts
 * import { createWebGpuBackend, GPU_MATRIX_USAGE, GpuMatrix } from "@brainorg/kernels";
 * const backend = await createWebGpuBackend();
 * const device = backend.device;
 * const buffer = device.createBuffer({ size: 4 * 100 * 8, usage: GPU_MATRIX_USAGE });
 * const y = new GpuMatrix(buffer, { rows: 100, cols: 8, device, dispose: () => buffer.destroy() });
 * y.dispose(); // runs the dispose given: the buffer is handed over, and destroyed
 * backend.dispose();
 * ```
 */
export const GPU_MATRIX_USAGE = 0x80 | 0x04 | 0x08;

/** Options of the {@linkcode GpuMatrix} constructor. */
export interface GpuMatrixOptions {
  /** Rows, a positive integer. */
  rows: number;
  /** Columns, a positive integer. */
  cols: number;
  /** The device that created the buffer; a backend refuses a matrix of another device. */
  device: GPUDevice;
  /**
   * Called once by {@linkcode GpuMatrix.dispose}, e.g. `() => buffer.destroy()`
   * to hand the buffer over. Default: none (the buffer stays the caller's).
   */
  dispose?: () => void;
}

/**
 * A float32, row-major (rows × cols) matrix in a GPUBuffer: element (r, c)
 * at byte `4 · (r · cols + c)`. The buffer may be larger than `4 · rows ·
 * cols` bytes (the rest is ignored) and needs {@linkcode GPU_MATRIX_USAGE}.
 *
 * @example
 * ```ts
 * import { createWebGpuBackend, GPU_MATRIX_USAGE, GpuMatrix } from "@brainorg/kernels";
 * const adapter = await navigator.gpu.requestAdapter();
 * const device = await adapter!.requestDevice();
 * const backend = await createWebGpuBackend({ device }); // on the caller's device
 * // The caller's own buffer, (2 × 3): wrapping it copies nothing.
 * const buffer = device.createBuffer({ size: 24, usage: GPU_MATRIX_USAGE });
 * device.queue.writeBuffer(buffer, 0, new Float32Array([1, 2, 3, 4, 5, 6]));
 * const x = new GpuMatrix(buffer, { rows: 2, cols: 3, device });
 * const gram = await backend.gemmGpu(x, x, { transA: true }); // (3 × 3), on the device
 * console.log((await backend.download(gram)).data);
 * gram.dispose(); // destroys the backend's buffer
 * x.dispose(); // the caller's buffer is left alone
 * buffer.destroy();
 * backend.dispose();
 * device.destroy();
 * ```
 */
export class GpuMatrix {
  /** Rows. */
  readonly rows: number;
  /** Columns. */
  readonly cols: number;
  /** The buffer holding the values. */
  readonly buffer: GPUBuffer;
  /** The device the buffer belongs to. */
  readonly device: GPUDevice;
  /** Element order: always row-major. */
  readonly layout: "row-major" = "row-major";
  /** Element type: always float32. */
  readonly dtype: "float32" = "float32";
  #release?: () => void;
  #disposed = false;

  /**
   * Wrap a buffer of the caller's (nothing is copied).
   *
   * @param buffer holds the values, row-major float32, at offset 0
   * @param options shape, device and what `dispose()` does (see {@linkcode GpuMatrixOptions})
   * @throws {RangeError} for a shape that is not positive integers, or a
   *   buffer smaller than `4 · rows · cols` bytes
   * @throws {TypeError} for a buffer without STORAGE, COPY_SRC or COPY_DST usage
   */
  constructor(buffer: GPUBuffer, options: GpuMatrixOptions) {
    this.rows = options.rows;
    this.cols = options.cols;
    this.buffer = buffer;
    this.device = options.device;
    this.#release = options.dispose;
    checkGpuMatrix("matrix", this);
  }

  /** Bytes the values take: `4 · rows · cols`. */
  get byteLength(): number {
    return 4 * this.rows * this.cols;
  }

  /** Whether {@linkcode GpuMatrix.dispose} was called: a backend then refuses the matrix. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /**
   * Release the matrix: runs the `dispose` it was made with, once (for the
   * backend's results: destroys their buffer). Calling it again does nothing.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#release?.();
  }
}

/**
 * Check that `m` can be read as a GpuMatrix named `name`: shape, size, usage,
 * not disposed, not mapped. Internal; backends add their device and binding checks.
 */
export function checkGpuMatrix(name: string, m: GpuMatrix): void {
  if (
    typeof m !== "object" || m === null || typeof m.buffer !== "object" || m.buffer === null ||
    typeof m.device !== "object" || m.device === null
  ) {
    throw new TypeError(`\`${name}\` must be a GpuMatrix (buffer, device, rows, cols)`);
  }
  if (!Number.isInteger(m.rows) || !Number.isInteger(m.cols) || m.rows < 1 || m.cols < 1) {
    throw new RangeError(
      `\`${name}\` must have positive integer rows and cols: current shape is ${m.rows} × ${m.cols}`,
    );
  }
  if ((m.layout ?? "row-major") !== "row-major" || (m.dtype ?? "float32") !== "float32") {
    throw new TypeError(
      `\`${name}\` must be float32, row-major: current value is ${m.dtype}, ${m.layout}`,
    );
  }
  const need = 4 * m.rows * m.cols;
  if (m.buffer.size < need) {
    throw new RangeError(
      `\`${name}\`'s buffer must hold ${m.rows} × ${m.cols} float32 values (${need} bytes): ` +
        `current size is ${m.buffer.size} bytes`,
    );
  }
  const missing = [[0x80, "STORAGE"], [0x04, "COPY_SRC"], [0x08, "COPY_DST"]]
    .filter(([flag]) => (m.buffer.usage & (flag as number)) === 0).map(([, label]) => label);
  if (missing.length > 0) {
    throw new TypeError(
      `\`${name}\`'s buffer must have usage STORAGE | COPY_SRC | COPY_DST: current usage ` +
        `0x${m.buffer.usage.toString(16)} lacks ${missing.join(" and ")}`,
    );
  }
  if (m.disposed) throw new TypeError(`\`${name}\` was disposed`);
  if (m.buffer.mapState !== "unmapped") {
    throw new TypeError(
      `\`${name}\`'s buffer must be unmapped: current state is ${m.buffer.mapState}`,
    );
  }
}
