/** Reference files for tests, resolved (and checksum-verified) by the data layer, offline. */

import { resolveDataFile } from "@brainorg/datasets";

/** Verified local path of a registered reference file. */
export async function dataPath(name: string): Promise<string> {
  return (await resolveDataFile(name, { download: false })).path;
}

export { pearson } from "@brainorg/core";
