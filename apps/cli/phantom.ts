/**
 * `brainorg phantom`: write a voxel-level phantom with planted atom →
 * network links, from stories260K's atoms on the Alice story.
 *
 * @module
 */

import {
  demoModelAtoms,
  demoStimulus,
  networkDisplayName,
  resolveSettings,
  writePhantom,
  writePhantomBids,
} from "@brainorg/core";
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

With --bids DIR it writes a mini-Narratives instead: a BIDS dataset whose
subjects (4 unless --subjects) each heard two stories (Alice, and the first
run of Le Petit Prince), one run each (TR 2 s), with fMRIPrep-style
derivatives (BOLD on the 4 mm MNI grid, brain mask, confounds with fMRIPrep's
columns). The atoms are learned from both stories as \`analyze --bids\` learns
them; a speech-locked head motion (in trans_z and rot_x) also drives the
limbic network, which no atom drives: confound regression must remove it.
The truth is in DIR/derivatives/brainorg-phantom/truth.json. DIR must be
new, empty or a previous phantom; it is replaced atomically.

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
  if (run.phantomBids !== undefined) {
    // The BIDS phantom is made on one grid and atlas: the stories' atoms in Yeo-7 at 4 mm.
    for (const name of ["resolution", "networks", "out"] as const) {
      if (line.given[name] !== undefined) fail(name, "left out with --bids", line.given[name]);
    }
  }
  const backend = await createBackend({
    backend: run.backend,
    ...(run.threads ? { cpu: { threads: run.threads } } : {}),
  });
  try {
    if (run.phantomBids !== undefined) {
      const truth = await writePhantomBids(run.phantomBids, backend, {
        subjects: line.given.phantomSubjects === undefined ? 4 : subjects,
        r2,
        atoms,
        seed,
        data,
        log,
      });
      log(
        `phantom: mini-Narratives, ${truth.subjects} subjects × ` +
          truth.stories.map((s) => `${s.task} (${s.volumes} volumes)`).join(" + ") +
          `, ${truth.voxels} voxels; planted: ` +
          truth.links.map((l) =>
            `atom${l.atom}${l.sign > 0 ? "+" : "−"}→${
              networkDisplayName(truth.space.templates, l.networkName)
            }`
          ).join(", ") +
          `; artefact: word-rate motion (r ${
            truth.artefact.correlationWithWordRate.toFixed(2)
          }) → ${networkDisplayName(truth.space.templates, truth.artefact.networkName)}`,
      );
      log(`written to ${run.phantomBids}`);
      return 0;
    }
    const { config } = await demoStimulus(data);
    const [planted] = await demoModelAtoms(backend, { atoms, seed }, { data, log });
    const truth = await writePhantom(out, backend, planted.atoms.atoms, {
      resolution,
      networks,
    }, { subjects, r2, seed, tr: config.stimulus.tr, data, log });
    log(
      `phantom: ${truth.subjects} subjects × ${truth.volumes} volumes × ${truth.voxels} voxels ` +
        `(${resolution} mm, ${truth.templates}); planted: ` +
        truth.links.map((l) =>
          `atom${l.atom}${l.sign > 0 ? "+" : "−"}→${
            networkDisplayName(truth.templates, l.networkName)
          }`
        ).join(", "),
    );
    log(`written to ${out}`);
  } finally {
    backend.dispose();
  }
  return 0;
}
