/**
 * Provenance records: what produced a result (tool and runtime versions, the
 * inputs with their SHA-256, parameters, seed, compute backend), written next
 * to the result as `provenance.json`.
 *
 * @module
 */

import { join } from "node:path";
import { writeJsonAtomic } from "./atomic_write.ts";
import { sha256File } from "./hash.ts";
import { BRAINORG_VERSION } from "./version.ts";

/** One input file of a result. */
export interface ProvenanceInput {
  /** What the file is to the analysis, e.g. `"transcript"`. */
  role: string;
  /** Path as given or resolved. */
  path: string;
  /** SHA-256 of its content, hex. */
  sha256: string;
  /** Size in bytes. */
  bytes: number;
}

/** Everything needed to say how a result was made. */
export interface Provenance {
  /** Version of this record's layout. */
  schema: "brainorg.provenance/1";
  /** The tool and its version. */
  tool: { name: "brainorg"; version: string };
  /** Deno, V8 and TypeScript versions, operating system and CPU architecture. */
  runtime: { deno: string; v8: string; typescript: string; os: string; arch: string };
  /** ISO 8601 time the record was made. */
  createdAt: string;
  /** The command line, when run from the CLI. */
  command?: string[];
  /** Every input file, with its SHA-256 and size. */
  inputs: ProvenanceInput[];
  /** The step's parameters, as given. */
  parameters: Record<string, unknown>;
  /** Seed of every random choice, when any was made. */
  seed?: number;
  /** The compute backend and adapter, when kernels ran. */
  backend?: Record<string, unknown>;
}

/** What {@linkcode createProvenance} needs. */
export interface ProvenanceOptions {
  /** Input files by role; each is hashed. */
  inputs?: { role: string; path: string }[];
  /** Parameters of the step. Default: `{}`. */
  parameters?: Record<string, unknown>;
  /** Seed of every random choice. Default: none (no random choice was made). */
  seed?: number;
  /** The compute backend, e.g. a backend's `info`. Default: none (no kernels ran). */
  backend?: Record<string, unknown>;
  /** The command line. Default: none (not run from the CLI). */
  command?: string[];
}

/**
 * Build a provenance record, hashing every input file.
 *
 * @param options inputs, parameters, seed, backend, command (see
 *   {@linkcode ProvenanceOptions}). Default: none of them.
 * @returns the record, stamped with the tool's and runtime's versions and the time
 * @throws the file system's error when an input cannot be read
 *
 * @example
 * ```ts
 * import { createProvenance } from "@brainorg/common";
 * const p = await createProvenance({ inputs: [{ role: "config", path: "deno.json" }] });
 * console.log(p.inputs[0].sha256);
 * ```
 */
export async function createProvenance(options: ProvenanceOptions = {}): Promise<Provenance> {
  const inputs: ProvenanceInput[] = [];
  for (const { role, path } of options.inputs ?? []) {
    const [sha, stat] = await Promise.all([sha256File(path), Deno.stat(path)]);
    inputs.push({ role, path, sha256: sha, bytes: stat.size });
  }
  return {
    schema: "brainorg.provenance/1",
    tool: { name: "brainorg", version: BRAINORG_VERSION },
    runtime: { ...Deno.version, os: Deno.build.os, arch: Deno.build.arch },
    createdAt: new Date().toISOString(),
    ...(options.command ? { command: options.command } : {}),
    inputs,
    parameters: options.parameters ?? {},
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.backend ? { backend: options.backend } : {}),
  };
}

/**
 * Write `record` as `provenance.json` in `dir`, atomically.
 *
 * @param dir the folder of the result it describes
 * @param record from {@linkcode createProvenance}
 * @returns the path written
 * @throws {OutputError} when the file system refuses
 *
 * @example
 * ```ts
 * import { createProvenance, writeProvenance } from "@brainorg/common";
 * const record = await createProvenance({ parameters: { atoms: 16 }, seed: 0 });
 * console.log(await writeProvenance("/tmp/brainorg-demo", record)); // /tmp/brainorg-demo/provenance.json
 * ```
 */
export async function writeProvenance(dir: string, record: Provenance): Promise<string> {
  const path = join(dir, "provenance.json");
  await writeJsonAtomic(path, record);
  return path;
}
