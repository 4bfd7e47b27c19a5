/**
 * Models named on the Hugging Face Hub (`hf:Xenova/bert-base-uncased`,
 * optionally `@revision`), fetched once into the cache and read from there:
 * local-first, network only when allowed, every file hashed (SHA-256) and
 * checked against hashes the caller pins.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import {
  ChecksumError,
  DataNotFoundError,
  makeTempFile,
  sweepStaleTempsOnce,
  writeJsonAtomic,
} from "@brainorg/common";
import { externalDataFiles } from "./onnx_external.ts";

/** The files of a model folder: required, then optional. */
export const HF_FILES = {
  required: ["config.json", "tokenizer.json", "onnx/model.onnx"],
  optional: ["tokenizer_config.json"],
} as const;

/** Options of {@linkcode resolveHfModel}. */
export interface HubOptions {
  /** The user cache (models go to `hf/<owner>--<name>/<revision>/`). */
  cacheDir: string;
  /** Whether the network may be used. Default: true. */
  download?: boolean;
  /** The Hub's address. Default: `$BRAINORG_HF_ENDPOINT`, else https://huggingface.co. */
  endpoint?: string;
  /** SHA-256 per file (relative path), checked after download and on every later use. */
  sha256?: Record<string, string>;
  /** The fetch used for downloads. Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Told of each download. Default: silent. */
  log?: (line: string) => void;
}

async function fileSha256(path: string): Promise<string> {
  const h = createHash("sha256");
  const f = await Deno.open(path);
  for await (const chunk of f.readable) h.update(chunk);
  return h.digest("hex");
}

/**
 * A model folder for `ref`: a local folder as it is, or `hf:owner/name[@revision]`
 * from the cache, downloading what is missing when allowed.
 *
 * @param ref a folder, or `hf:owner/name` with an optional `@revision` (default `main`)
 * @param options the cache, whether to download, the endpoint, pinned hashes
 *   (see {@linkcode HubOptions})
 * @returns the folder and the SHA-256 of each of its files (none for a local folder)
 * @throws {DataNotFoundError} offline with files missing (naming the URL and the cache folder)
 * @throws {ChecksumError} when a file does not match a pinned hash
 *
 * @example
 * ```ts
 * import { openHfModel, resolveHfModel } from "@brainorg/models";
 * const { dir, files } = await resolveHfModel("hf:Xenova/bert-base-uncased", {
 *   cacheDir: "/tmp/brainorg-cache",
 * });
 * const bert = await openHfModel(dir);
 * ```
 */
export async function resolveHfModel(
  ref: string,
  options: HubOptions,
): Promise<{ dir: string; files: Record<string, string> }> {
  const m = /^hf:([\w.-]+\/[\w.-]+)(?:@([\w.-]+))?$/.exec(ref);
  if (!m) return { dir: ref, files: {} };
  const [, repo, revision = "main"] = m;
  const endpoint =
    (options.endpoint ?? Deno.env.get("BRAINORG_HF_ENDPOINT") ?? "https://huggingface.co")
      .replace(/\/$/, "");
  const dir = join(options.cacheDir, "hf", repo.replace("/", "--"), revision);
  const files: Record<string, string> = {};
  const doFetch = options.fetch ?? fetch;
  const names: string[] = [...HF_FILES.required, ...HF_FILES.optional], data = new Set<string>();
  for (const name of names) {
    const path = join(dir, name);
    const required = (HF_FILES.required as readonly string[]).includes(name) || data.has(name);
    let present = true;
    try {
      await Deno.stat(path);
    } catch {
      present = false;
    }
    const url = `${endpoint}/${repo}/resolve/${revision}/${name}`;
    if (!present) {
      if (options.download === false) {
        if (!required) continue;
        throw new DataNotFoundError(
          `${ref} ${name}`,
          [`${path}: absent`],
          `Downloads are off (--offline or BRAINORG_OFFLINE=1); allow them, or put the file ` +
            `there yourself. It comes from ${url}.`,
        );
      }
      const res = await doFetch(url, { redirect: "follow" });
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        if (!required && res.status === 404) continue;
        throw new DataNotFoundError(
          `${ref} ${name}`,
          [`${path}: absent`, `${url}: HTTP ${res.status}`],
          "Check the model name and revision, or download the folder yourself and give its path.",
        );
      }
      options.log?.(`${ref}: downloading ${name}`);
      await Deno.mkdir(dirname(path), { recursive: true });
      // Held while written, so that a later run removes what a killed download left.
      await sweepStaleTempsOnce(dirname(path));
      const { path: tmp, file: out } = await makeTempFile(path);
      try {
        for await (const chunk of res.body) {
          let off = 0;
          while (off < chunk.byteLength) off += await out.write(chunk.subarray(off));
        }
        await out.sync();
        const want = options.sha256?.[name], got = await fileSha256(tmp);
        if (want && got !== want) throw new ChecksumError(url, want, got);
        await Deno.rename(tmp, path);
      } catch (err) {
        await Deno.remove(tmp).catch(() => {});
        throw err;
      } finally {
        out.close();
      }
    }
    files[name] = await fileSha256(path);
    const want = options.sha256?.[name];
    if (want && files[name] !== want) throw new ChecksumError(path, want, files[name]);
    // A graph over 2 GB keeps its weights in data files beside it: they come with it.
    if (name === HF_FILES.required[2]) {
      for (const f of externalDataFiles(await Deno.readFile(path), name)) {
        (data.add(f), names.push(f));
      }
    }
  }
  await writeJsonAtomic(join(dir, "brainorg-files.json"), {
    ref,
    endpoint,
    revision,
    sha256: files,
  });
  return { dir, files };
}
