/**
 * Where reference files are looked for, in order: an explicit data folder,
 * `BRAINORG_DATA`, the `shared/data` folder beside the project checkout, and
 * the per-user cache.
 *
 * @module
 */

import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** How to find the data folders; every field has a default. */
export interface LocationOptions {
  /** A data folder named by the user (`--data-dir`). Default: none. */
  dataDir?: string;
  /** Reads an environment variable. Default: `Deno.env.get`. */
  env?: (name: string) => string | undefined;
  /** The project checkout's root. Default: two folders above this package. */
  projectRoot?: string;
  /**
   * The per-user cache. Default: `$BRAINORG_CACHE`, else
   * `$XDG_CACHE_HOME/brainorg`, else `~/.cache/brainorg`.
   */
  cacheDir?: string;
}

/** One folder to look in, and why it is on the list. */
export interface DataLocation {
  /** `--data-dir`, `BRAINORG_DATA`, `shared/data` beside the checkout, or the user cache. */
  kind: "data-dir" | "env" | "shared" | "cache";
  /** How the user would recognise it, e.g. `BRAINORG_DATA=/data`. */
  label: string;
  /** The folder; undefined when this location is not configured. */
  dir?: string;
}

const DEFAULT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * The environment reader used when none is given; permission-safe.
 *
 * @param name the variable
 * @returns its value; undefined when unset or when env access is not permitted
 *
 * @example
 * ```ts
 * import { readEnv } from "@brainorg/datasets";
 * const offline = readEnv("BRAINORG_OFFLINE") === "1";
 * ```
 */
export function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/**
 * The per-user cache folder for `options` (see {@linkcode LocationOptions.cacheDir}).
 *
 * @param options `cacheDir` and `env` are read. Default: the environment's.
 * @returns `options.cacheDir`, else `$BRAINORG_CACHE`, else
 *   `$XDG_CACHE_HOME/brainorg`, else `$HOME/.cache/brainorg`
 *
 * @example
 * ```ts
 * import { cacheDirFor } from "@brainorg/datasets";
 * const dir = cacheDirFor({ env: (n) => ({ HOME: "/home/ada" } as Record<string, string>)[n] });
 * // "/home/ada/.cache/brainorg"
 * ```
 */
export function cacheDirFor(options: LocationOptions = {}): string {
  const env = options.env ?? readEnv;
  if (options.cacheDir) return options.cacheDir;
  const explicit = env("BRAINORG_CACHE");
  if (explicit) return explicit;
  const xdg = env("XDG_CACHE_HOME");
  if (xdg) return join(xdg, "brainorg");
  return join(env("HOME") ?? ".", ".cache", "brainorg");
}

/**
 * The folders to look in, in order of precedence.
 *
 * @param options the data folder, the environment, the checkout's root, the cache
 *   (see {@linkcode LocationOptions}). Default: the environment's.
 * @returns all four locations, in order; `dir` is undefined for those not configured
 *
 * @example
 * ```ts
 * import { dataLocations } from "@brainorg/datasets";
 * for (const l of dataLocations({ dataDir: "/data" })) console.log(l.label, l.dir ?? "(not set)");
 * ```
 */
export function dataLocations(options: LocationOptions = {}): DataLocation[] {
  const env = options.env ?? readEnv;
  const root = options.projectRoot ?? DEFAULT_ROOT;
  const envDir = env("BRAINORG_DATA");
  return [
    { kind: "data-dir", label: "--data-dir", dir: options.dataDir },
    { kind: "env", label: "BRAINORG_DATA", dir: envDir || undefined },
    {
      kind: "shared",
      label: "shared data beside the checkout",
      dir: join(root, "..", "shared", "data"),
    },
    { kind: "cache", label: "user cache", dir: cacheDirFor(options) },
  ];
}
