/**
 * What the dashboard made of each file (a parsed table, a checked summary,
 * a checked map, a reduced members table), kept while the file stays the
 * same version, so that a page under load does not read and parse a file
 * per request, and a folder rewritten by a new run is seen on the next
 * request without a restart.
 *
 * A version is the file's inode, size, modification and change times: a
 * file rewritten in place changes its size or modification time (Deno
 * gives it in milliseconds; the change time only in seconds); a results
 * folder replaced atomically (a new run renames a new folder into place)
 * has new files, hence new inodes, even where sizes and times agree.
 *
 * @module
 */

/** A file's version as the cache compares it. */
export function fileVersion(stat: Deno.FileInfo): string {
  return [stat.ino ?? "", stat.size, stat.mtime?.getTime() ?? "", stat.ctime?.getTime() ?? ""]
    .join(":");
}

/** What {@linkcode FileCache.get} keeps. */
interface Entry {
  version: string;
  value: Promise<unknown>;
  bytes: number;
}

/** Options of a {@linkcode FileCache}. */
export interface FileCacheOptions {
  /** The most entries kept. Default: 1,024. */
  maxEntries?: number;
  /** The most bytes kept, as the loaders count them. Default: 256 MiB. */
  maxBytes?: number;
}

/**
 * Values derived from files, each kept until its file changes (least
 * recently used dropped first when full). A value is kept as its promise,
 * so concurrent requests for a file being read share the one read.
 *
 * @example
 * ```ts
 * const cache = new FileCache();
 * const text = await cache.get("/tmp/run/summary.json", "text", (file) => Deno.readTextFile(file));
 * console.log(text === null ? "absent" : text.length, cache.loads);
 * ```
 */
export class FileCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #bytes = 0;
  /** Loader calls so far (a file read and derived): what tests count to see a hit. */
  loads = 0;

  constructor(options: FileCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 1024;
    this.#maxBytes = options.maxBytes ?? 256 * 2 ** 20;
  }

  /**
   * The value derived from a file's current version.
   *
   * @param file an absolute path (resolved already: the cache does not check where it is)
   * @param kind what is derived (one file may hold several: a table typed two ways)
   * @param load reads the file and derives the value; called once per version
   * @param options.bytes what the value costs (default: the file's size);
   *   a value costing more than a quarter of the cache is not kept
   * @returns the value, or null when the file is absent (or not a file)
   */
  async get<T>(
    file: string,
    kind: string,
    load: (file: string, stat: Deno.FileInfo) => Promise<T> | T,
    options: { bytes?: (stat: Deno.FileInfo) => number } = {},
  ): Promise<T | null> {
    let stat: Deno.FileInfo;
    try {
      stat = await Deno.stat(file);
    } catch {
      return null;
    }
    if (!stat.isFile) return null;
    const key = `${kind}\0${file}`, version = fileVersion(stat), hit = this.#entries.get(key);
    if (hit?.version === version) {
      // Re-inserted: a Map keeps insertion order, so the first key is the least recently used.
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit.value as Promise<T>;
    }
    if (hit) this.#drop(key, hit);
    this.loads++;
    const value = Promise.resolve().then(() => load(file, stat));
    const bytes = options.bytes?.(stat) ?? stat.size;
    if (bytes <= this.#maxBytes / 4) {
      const entry = { version, value, bytes };
      this.#entries.set(key, entry);
      this.#bytes += bytes;
      // A load that fails is not kept: the next request tries again.
      value.catch(() => this.#entries.get(key) === entry && this.#drop(key, entry));
      this.#evict();
    }
    return value;
  }

  /** Entries kept and the bytes they cost. */
  get size(): { entries: number; bytes: number } {
    return { entries: this.#entries.size, bytes: this.#bytes };
  }

  /** Forget everything (tests). */
  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  #drop(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }

  #evict(): void {
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) break;
      this.#drop(key, entry);
    }
  }
}

/** The dashboard's one cache: tables, summaries, map checks and members share its budget. */
export const fileCache: FileCache = new FileCache();
