/**
 * Downloads into the cache: streamed to a temporary sibling file while
 * hashed, flushed to disk, then renamed into place only when the SHA-256
 * matches the registry. Two processes downloading the same file each write
 * their own copy; both renames put the same verified bytes in place.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { dirname } from "node:path";
import { ChecksumError, makeTempFile, sweepStaleTempsOnce } from "@brainorg/common";
import type { RegistryEntry } from "./registry.ts";

/** Fetch `url` to `dest`, verifying size and SHA-256 against `entry`. */
export async function downloadVerified(
  url: string,
  dest: string,
  entry: RegistryEntry,
  options: { fetch?: typeof fetch; onProgress?: (bytes: number, total: number) => void } = {},
): Promise<void> {
  const doFetch = options.fetch ?? fetch;
  const response = await doFetch(url, { redirect: "follow" });
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
  }
  await Deno.mkdir(dirname(dest), { recursive: true });
  // Held by this process, so that the next download beside it removes what a killed one left.
  await sweepStaleTempsOnce(dirname(dest));
  const { path: tmp, file } = await makeTempFile(dest);
  const hash = createHash("sha256");
  let bytes = 0;
  try {
    for await (const chunk of response.body) {
      hash.update(chunk);
      bytes += chunk.byteLength;
      let off = 0;
      while (off < chunk.byteLength) off += await file.write(chunk.subarray(off));
      options.onProgress?.(bytes, entry.bytes);
    }
    await file.sync();
    const digest = hash.digest("hex");
    if (digest !== entry.sha256) throw new ChecksumError(url, entry.sha256, digest);
    await Deno.rename(tmp, dest);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  } finally {
    file.close();
  }
}
