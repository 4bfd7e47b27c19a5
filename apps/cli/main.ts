/**
 * The brainorg command line.
 *
 * @module
 */

import {
  BRAINORG_VERSION,
  ChecksumError,
  DataNotFoundError,
  InputError,
  OutputError,
} from "@brainorg/common";
import { EXIT } from "./exit_codes.ts";
import { UsageError } from "./usage_error.ts";

const HELP = `brainorg ${BRAINORG_VERSION} — brain-like functional organization in language models

Usage:
  deno task analyze [options]     the main job (no options: the built-in demo)
  deno task phantom [options]     write a voxel-level phantom with planted atom → network links
  deno task convert MODEL.gguf DIR a GGUF Llama model to the Hugging Face layout (ONNX)
  deno task shard DIR N           run shard N of a plan (deno task analyze … --plan DIR)
  deno task merge DIR             the results folder of a plan's finished shards
  deno task data <command>        reference data: list, where, verify, fetch

Run a command with --help for its options.
`;

/**
 * Vulkan's software adapter complains on every run when XDG_RUNTIME_DIR is
 * unset: give it a private one for this process.
 */
function ensureRuntimeDir(): void {
  try {
    if (Deno.env.get("XDG_RUNTIME_DIR")) return;
    Deno.env.set("XDG_RUNTIME_DIR", Deno.makeTempDirSync({ prefix: "brainorg-runtime-" }));
  } catch { /* no env or write permission: leave it */ }
}

/** Run the CLI; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  ensureRuntimeDir();
  const [command, ...rest] = args;
  try {
    switch (command) {
      // Loaded on demand: the model commands bring onnxruntime's native addon,
      // which `data` neither needs nor has the permission (--allow-ffi) for.
      case "analyze":
        return await (await import("./analyze.ts")).analyzeCommand(rest, {
          plan: (await import("./shard.ts")).planCommand,
        });
      case "shard":
        return await (await import("./shard.ts")).shardCommand(rest);
      case "merge":
        return await (await import("./shard.ts")).mergeCommand(rest);
      case "data":
        return await (await import("./data.ts")).dataCommand(rest);
      case "phantom":
        return await (await import("./phantom.ts")).phantomCommand(rest);
      case "convert":
        return await (await import("./convert.ts")).convertCommand(rest);
      case "--version":
        console.log(BRAINORG_VERSION);
        return EXIT.ok;
      case undefined:
      case "-h":
      case "--help":
        console.log(HELP);
        return command === undefined ? EXIT.usage : EXIT.ok;
      default:
        throw new UsageError(`unknown command "${command}"`, HELP);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}\n\n${err.help}`);
      return EXIT.usage;
    }
    if (err instanceof InputError) {
      console.error(`error: ${err.message}`);
      return EXIT.input;
    }
    if (err instanceof DataNotFoundError || err instanceof ChecksumError) {
      console.error(`error: ${err.message}`);
      return EXIT.data;
    }
    if (err instanceof OutputError) {
      console.error(`error: ${err.message}`);
      return EXIT.output;
    }
    console.error(err);
    return EXIT.failure;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
