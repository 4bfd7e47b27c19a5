/**
 * `brainorg phantom`: write a voxel-level phantom with planted atom →
 * network links, from stories260K's atoms on the Alice story.
 *
 * @module
 */

import { demoModelAtoms, demoStimulus, resolveSettings, writePhantom } from "@brainorg/core";
import { createBackend } from "@brainorg/kernels";
import {
  dataSettings,
  ENVIRONMENT_HELP,
  flagFailure,
  optionsHelp,
  PHANTOM,
  readCommandLine,
} from "./args.ts";

export const PHANTOM_HELP = `brainorg phantom — a voxel-level phantom whose truth is known

Usage:
  deno task phantom [options]

Learns stories260K's atoms on the Alice story (activations are cached), plants
seven of them in brain networks of a real atlas (one atom drives two networks,
one network is driven by two atoms of opposite sign, one link is negative; the
other atoms drive nothing), adds fMRI-like noise (AR(1), spatially smooth
components, drift, motion-like confounds) scaled so that the median R² in
driven voxels is --r2, and writes one 4-D NIfTI per subject, the mask, the
ground-truth networks, atoms.csv and truth.json.

${optionsHelp(PHANTOM)}

${ENVIRONMENT_HELP}
`;

/** Run `phantom` with the arguments after the subcommand. */
export async function phantomCommand(args: string[]): Promise<number> {
  const line = readCommandLine(args, PHANTOM, PHANTOM_HELP);
  if (line.help) {
    console.log(PHANTOM_HELP);
    return 0;
  }
  const fail = flagFailure("phantom", PHANTOM_HELP);
  const run = resolveSettings("phantom", line.given, { scope: "run", fail });
  const { resolution, networks, phantomSubjects: subjects, r2, atoms, seed } = resolveSettings(
    "phantom",
    line.given,
    { scope: "analysis", fail },
  );
  const log = (l: string) => run.quiet || console.error(l);
  const data = dataSettings(run);
  const out = run.out;
  const backend = await createBackend({
    backend: run.backend,
    ...(run.threads ? { cpu: { threads: run.threads } } : {}),
  });
  try {
    const { config } = await demoStimulus(data);
    const [planted] = await demoModelAtoms(backend, { atoms, seed }, { data, log });
    const truth = await writePhantom(out, backend, planted.atoms.atoms, {
      resolution,
      networks,
    }, { subjects, r2, seed, tr: config.stimulus.tr, data, log });
    log(
      `phantom: ${truth.subjects} subjects × ${truth.volumes} volumes × ${truth.voxels} voxels ` +
        `(${resolution} mm, ${truth.templates}); planted: ` +
        truth.links.map((l) => `atom${l.atom}${l.sign > 0 ? "+" : "−"}→${l.networkName}`).join(
          ", ",
        ),
    );
    log(`written to ${out}`);
  } finally {
    backend.dispose();
  }
  return 0;
}
