/**
 * `brainorg data`: list, locate, verify and fetch the reference data.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { dataLocations, REGISTRY, REGISTRY_COLLECTIONS, resolveDataFile } from "@brainorg/datasets";
import { UsageError } from "./usage_error.ts";

export const DATA_HELP = `brainorg data — the reference data (atlases, Alice fMRI, stories260K)

Usage:
  deno task data list [PREFIX]      registered files (path, size, licence)
  deno task data where              the folders searched, in order
  deno task data verify [PREFIX]    find every file and check its SHA-256, offline
  deno task data fetch [PREFIX]     like verify, downloading missing files into the cache

Options:
  --data-dir DIR    look in DIR first
  -h, --help        this help

Search order: --data-dir, $BRAINORG_DATA, shared/data beside the checkout,
the user cache ($BRAINORG_CACHE, else $XDG_CACHE_HOME/brainorg, else
~/.cache/brainorg); then a download into the cache when allowed.
`;

/** Run `data` with the arguments after the subcommand. */
export async function dataCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        "data-dir": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
      allowPositionals: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message, DATA_HELP);
  }
  const { values, positionals } = parsed;
  const [verb = "list", prefix = ""] = positionals;
  if (values.help) {
    console.log(DATA_HELP);
    return 0;
  }
  const entries = REGISTRY.filter((e) => e.path.startsWith(prefix));
  switch (verb) {
    case "list":
      for (const e of entries) {
        console.log(`${e.path}\t${e.bytes}\t${e.collection.license}`);
      }
      console.log(`\n${entries.length} files. Collections:`);
      for (const c of REGISTRY_COLLECTIONS) {
        console.log(`  ${c.id}: ${c.title} (${c.license})\n    ${c.citation}`);
      }
      return 0;
    case "where":
      for (const l of dataLocations({ dataDir: values["data-dir"] })) {
        console.log(`${l.label}: ${l.dir ?? "(not set)"}`);
      }
      return 0;
    case "verify":
    case "fetch": {
      let bad = 0;
      for (const e of entries) {
        try {
          const r = await resolveDataFile(e.path, {
            dataDir: values["data-dir"],
            download: verb === "fetch",
          });
          console.log(`ok\t${r.source}\t${e.path}`);
        } catch (err) {
          bad++;
          console.log(`FAIL\t${e.path}\t${(err as Error).message.split("\n")[0]}`);
        }
      }
      console.log(`${entries.length - bad} of ${entries.length} files verified`);
      return bad ? 4 : 0;
    }
    default:
      throw new UsageError(`unknown data command "${verb}"`, DATA_HELP);
  }
}
