/**
 * Resolving a registered reference file to a verified local path, downloading
 * it into the cache when it is nowhere local and the network is allowed.
 *
 * @module
 */

import { join } from "node:path";
import { ChecksumError, DataNotFoundError, sha256File } from "@brainorg/common";
import { type RegistryEntry, registryEntry } from "./registry.ts";
import { type DataLocation, dataLocations, type LocationOptions, readEnv } from "./locations.ts";
import { downloadVerified } from "./download.ts";

/** Options of {@linkcode resolveDataFile}. */
export interface ResolveOptions extends LocationOptions {
  /**
   * Download into the cache when the file is found nowhere. Default: true,
   * unless `BRAINORG_OFFLINE=1`.
   */
  download?: boolean;
  /** The fetch used for downloads. Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Called with progress lines while downloading. Default: silent. */
  onProgress?: (bytes: number, total: number) => void;
}

/** A reference file found and verified. */
export interface ResolvedFile {
  /** The file's registry entry. */
  entry: RegistryEntry;
  /** Absolute or caller-relative path of the verified file. */
  path: string;
  /** Which location served it, or `"download"` when it was fetched just now. */
  source: DataLocation["kind"] | "download";
}

// Digests already checked in this process, keyed by path, size and mtime, so a
// file used by several steps is hashed once.
const verified = new Map<string, string>();

async function statFile(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    const info = await Deno.stat(path);
    return info.isFile ? info : undefined;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw err;
  }
}

async function digestOf(path: string, info: Deno.FileInfo): Promise<string> {
  const key = `${path}\0${info.size}\0${info.mtime?.getTime()}`;
  let digest = verified.get(key);
  if (!digest) {
    digest = await sha256File(path);
    verified.set(key, digest);
  }
  return digest;
}

/**
 * Find a registered reference file and verify its SHA-256.
 *
 * Looks in: `dataDir` (`--data-dir`) → `$BRAINORG_DATA` → `shared/data`
 * beside the checkout → the user cache; then downloads into the cache when
 * allowed. A file found with the wrong checksum is never used: a corrupt
 * cached copy is replaced by a fresh download when the network is allowed,
 * and anywhere else (or offline) it raises {@linkcode ChecksumError}.
 *
 * @param name registry path, e.g. `"atlases/Yeo-7.csv"`
 * @param options where to look and whether to download
 * @returns the verified path and the location that served it
 * @throws {DataNotFoundError} listing every place looked and how to provide the file
 * @throws {ChecksumError} for a file present with the wrong content
 *
 * @example
 * ```ts
 * import { resolveDataFile } from "@brainorg/datasets";
 * const { path, source } = await resolveDataFile("atlases/Yeo-7.csv", { download: false });
 * console.log(path, source);
 * ```
 */
export async function resolveDataFile(
  name: string,
  options: ResolveOptions = {},
): Promise<ResolvedFile> {
  const entry = registryEntry(name);
  const env = options.env ?? readEnv;
  const allowDownload = options.download ?? env("BRAINORG_OFFLINE") !== "1";
  const searched: string[] = [];
  let cachePath: string | undefined;
  let corruptCache: ChecksumError | undefined;

  for (const loc of dataLocations(options)) {
    if (!loc.dir) {
      searched.push(`${loc.label}: not set`);
      continue;
    }
    const path = join(loc.dir, entry.path);
    if (loc.kind === "cache") cachePath = path;
    const info = await statFile(path);
    if (!info) {
      searched.push(`${loc.label}: ${path} (absent)`);
      continue;
    }
    const digest = await digestOf(path, info);
    if (digest === entry.sha256) return { entry, path, source: loc.kind };
    const err = new ChecksumError(path, entry.sha256, digest);
    if (loc.kind !== "cache" || !allowDownload) throw err;
    corruptCache = err;
    searched.push(`${loc.label}: ${path} (checksum mismatch; will be replaced)`);
  }

  const hint =
    `Provide it with --data-dir DIR or BRAINORG_DATA=DIR (a folder holding ${entry.path}), ` +
    (entry.urls.length
      ? `or allow downloads (unset BRAINORG_OFFLINE) so it is fetched from ${entry.urls[0]}.`
      : `after downloading it from ${entry.collection.homepage}.`);
  if (!allowDownload || entry.urls.length === 0 || !cachePath) {
    searched.push(
      !allowDownload
        ? "download: not allowed (offline)"
        : `download: ${entry.collection.id} offers no direct download`,
    );
    throw new DataNotFoundError(entry.path, searched, hint);
  }

  const failures: string[] = [];
  for (const url of entry.urls) {
    try {
      await downloadVerified(url, cachePath, entry, options);
      return { entry, path: cachePath, source: "download" };
    } catch (err) {
      if (err instanceof ChecksumError) throw err;
      failures.push(`download: ${url} failed (${err instanceof Error ? err.message : err})`);
    }
  }
  const notFound = new DataNotFoundError(entry.path, [...searched, ...failures], hint);
  if (corruptCache) notFound.cause = corruptCache;
  throw notFound;
}

/**
 * Resolve every registered file whose path starts with `prefix`, e.g. all of
 * `"alice/"` (see {@linkcode resolveDataFile}), one after another.
 *
 * @param prefix the start of the registry paths
 * @param options where to look, whether to download (see {@linkcode ResolveOptions}). Default: all defaults.
 * @returns the files found and verified, in registry order
 * @throws {RangeError} when no registered file starts with `prefix`
 * @throws {DataNotFoundError} for the first file found nowhere (see {@linkcode resolveDataFile})
 * @throws {ChecksumError} for the first file whose download has the wrong digest
 *
 * @example
 * ```ts
 * import { resolveDataFiles } from "@brainorg/datasets";
 * const alice = await resolveDataFiles("alice/", { download: false });
 * console.log(alice.map((f) => f.path));
 * ```
 */
export async function resolveDataFiles(
  prefix: string,
  options: ResolveOptions = {},
): Promise<ResolvedFile[]> {
  const { REGISTRY } = await import("./registry.ts");
  const names = REGISTRY.filter((e) => e.path.startsWith(prefix)).map((e) => e.path);
  if (names.length === 0) {
    throw new RangeError(`no registered reference file starts with "${prefix}"`);
  }
  const out: ResolvedFile[] = [];
  for (const name of names) out.push(await resolveDataFile(name, options));
  return out;
}
