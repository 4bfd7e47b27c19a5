/**
 * Downloads into the cache: streamed to a temporary file while hashed, then
 * renamed into place only when the SHA-256 matches the registry.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { dirname } from "node:path";
import { ChecksumError } from "@brainorg/common";
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
  const tmp = `${dest}.download-${crypto.randomUUID().slice(0, 8)}`;
  const hash = createHash("sha256");
  let bytes = 0;
  const file = await Deno.open(tmp, { write: true, createNew: true });
  try {
    for await (const chunk of response.body) {
      hash.update(chunk);
      bytes += chunk.byteLength;
      let off = 0;
      while (off < chunk.byteLength) off += await file.write(chunk.subarray(off));
      options.onProgress?.(bytes, entry.bytes);
    }
    file.close();
    const digest = hash.digest("hex");
    if (digest !== entry.sha256) throw new ChecksumError(url, entry.sha256, digest);
    await Deno.rename(tmp, dest);
  } catch (err) {
    try {
      file.close();
    } catch { /* already closed */ }
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}
