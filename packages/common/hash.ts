/**
 * SHA-256 digests of files, streamed so that multi-gigabyte model files are
 * hashed without being held in memory.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/**
 * SHA-256 of a file's content, as lowercase hex.
 *
 * @param path the file
 * @returns 64 hex characters
 *
 * @example
 * ```ts
 * import { sha256File } from "@brainorg/common";
 * console.log(await sha256File("deno.json"));
 * ```
 */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("error", reject)
      .on("data", (chunk) => hash.update(chunk))
      .on("end", () => resolve(hash.digest("hex")));
  });
}

/**
 * SHA-256 of bytes or a string (UTF-8), as lowercase hex.
 *
 * @param data the bytes, or a string hashed as its UTF-8 encoding
 * @returns 64 hex characters
 *
 * @example
 * ```ts
 * import { sha256 } from "@brainorg/common";
 * const digest = sha256("abc"); // "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
 * ```
 */
export function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}
