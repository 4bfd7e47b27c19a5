/**
 * What one scan of a BIDS dataset reads more than once (folder listings,
 * JSON sidecars), read once. A dataset of 345 subjects shares its
 * top-level sidecars among ~900 runs. Private to `@brainorg/neuro`.
 *
 * @module
 */

import { readdir, readFile, stat } from "node:fs/promises";
import { InputError, unreadableFile } from "@brainorg/common";

/** A folder entry: its name and whether it is a folder. */
export interface Entry {
  name: string;
  isDir: boolean;
}

/** Listings and parsed JSON files, each read at most once. */
export class BidsFsCache {
  #dirs = new Map<string, Promise<Entry[]>>();
  #json = new Map<string, Promise<Record<string, unknown>>>();

  /**
   * The entries of a folder, sorted by name; none when it does not exist
   * or is not a folder. Dot files are left out (`.DS_Store`, git-annex's
   * `.git`): they are no part of a dataset. Symbolic links count as what
   * they point to (DataLad datasets are made of links into the annex).
   */
  list(dir: string): Promise<Entry[]> {
    let p = this.#dirs.get(dir);
    if (!p) {
      p = readdir(dir, { withFileTypes: true }).then(
        (ds) =>
          Promise.all(
            ds.filter((d) => !d.name.startsWith(".")).map(async (d) => ({
              name: d.name,
              isDir: d.isDirectory() || (d.isSymbolicLink() && await isDirLink(`${dir}/${d.name}`)),
            })),
          ).then((es) => es.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))),
        () => [],
      );
      this.#dirs.set(dir, p);
    }
    return p;
  }

  /**
   * A JSON file that must hold an object.
   *
   * @throws {InputError} naming the file when it cannot be read, is not JSON or not an object
   */
  json(path: string): Promise<Record<string, unknown>> {
    let p = this.#json.get(path);
    if (!p) {
      p = readJsonObject(path);
      this.#json.set(path, p);
    }
    return p;
  }
}

async function isDirLink(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function readJsonObject(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw unreadableFile(path, err);
  }
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (err) {
    throw new InputError("the JSON sidecar cannot be parsed", {
      file: path,
      field: "(JSON)",
      expected: "a JSON object",
      found: String((err as Error).message ?? err),
      cause: err,
    });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InputError("the JSON sidecar is not an object", {
      file: path,
      field: "(JSON)",
      expected: "a JSON object ({ … })",
      found: Array.isArray(value) ? "an array" : JSON.stringify(value),
    });
  }
  return value as Record<string, unknown>;
}
