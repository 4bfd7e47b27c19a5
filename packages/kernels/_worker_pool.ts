/**
 * Worker threads for the CPU backend's WebAssembly kernels: started on first
 * use, stopped after a second without work (so a program that never
 * disposes its backend still exits) or on {@linkcode WorkerPool.close}.
 * Where workers cannot start (a browser bundle without the worker file),
 * {@linkcode WorkerPool.broken} turns true and callers compute in the
 * calling thread.
 *
 * @module
 */

import type { WorkerReply, WorkerTask } from "./kernels_worker.ts";

/**
 * The cores the runtime reports (`navigator.hardwareConcurrency`); 1 where
 * there is no `navigator` (Node before 21) or it does not say.
 */
export function cores(): number {
  // Typed structurally: a worker's global has a WorkerNavigator, not a Navigator.
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return nav?.hardwareConcurrency ?? 1;
}

/** Idle time after which the workers stop. */
const IDLE_MS = 1000;

/** A fixed number of worker threads running {@linkcode WorkerTask}s. */
export class WorkerPool {
  #workers: Worker[] = [];
  /** Per worker, the end of its queue: a worker runs one task at a time. */
  #queues: Promise<unknown>[] = [];
  #idle: ReturnType<typeof setTimeout> | undefined;
  #busy = 0;
  #broken = false;

  /** @param size worker threads (≥ 1) */
  constructor(readonly size: number) {}

  /** Whether workers could not start here (callers then compute in this thread). */
  get broken(): boolean {
    return this.#broken;
  }

  /**
   * Run a task on worker `i` (0 … size − 1), after the tasks already sent
   * to it; `transfer` moves buffers instead of copying them.
   */
  async run<T>(i: number, task: WorkerTask, transfer: ArrayBuffer[] = []): Promise<T> {
    clearTimeout(this.#idle);
    this.#busy++;
    const next = (this.#queues[i] ?? Promise.resolve()).then(() => this.#run<T>(i, task, transfer));
    this.#queues[i] = next.catch(() => {});
    try {
      return await next;
    } finally {
      if (--this.#busy === 0 && !this.#broken) {
        this.#idle = setTimeout(() => this.close(), IDLE_MS);
        // The timer alone must not keep a finished program running (Deno's
        // timers have unref; a browser's are numbers and need none).
        (this.#idle as { unref?: () => void }).unref?.();
      }
    }
  }

  /** Stop the workers (a later `run` starts them again). */
  close(): void {
    clearTimeout(this.#idle);
    for (const w of this.#workers) w.terminate();
    this.#workers = [];
  }

  #worker(i: number): Worker | undefined {
    if (!this.#workers[i]) {
      try {
        this.#workers[i] = new Worker(new URL("./kernels_worker.ts", import.meta.url), {
          type: "module",
        });
      } catch {
        this.#broken = true;
        return undefined;
      }
    }
    return this.#workers[i];
  }

  #run<T>(i: number, task: WorkerTask, transfer: ArrayBuffer[]): Promise<T> {
    const worker = this.#worker(i);
    if (!worker) return Promise.reject(new Error("no worker"));
    return new Promise((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<WorkerReply>) => {
        if ("ok" in e.data) resolve(e.data.ok as T);
        else reject(new Error(`${task.kind} worker: ${e.data.error}`));
      };
      worker.onerror = (e) => {
        // A worker that cannot load (no module workers, no file) is not retried.
        e.preventDefault();
        this.#broken = true;
        this.close();
        reject(new Error(`${task.kind} worker failed: ${e.message}`));
      };
      worker.postMessage(task, transfer);
    });
  }
}
