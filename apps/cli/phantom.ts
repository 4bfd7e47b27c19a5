/**
 * `brainorg phantom`: write a voxel-level phantom with planted atom →
 * network links, from stories260K's atoms on the Alice story.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  ALICE_TIMING,
  aliceModelAtoms,
  aliceStimulus,
  type NetworkChoice,
  writePhantom,
} from "@brainorg/core";
import { createBackend } from "@brainorg/kernels";
import {
  COMPUTE_HELP,
  COMPUTE_OPTIONS,
  computeSettings,
  DATA_OPTIONS,
  dataSettings,
  oneOf,
  wholeNumber,
} from "./args.ts";
import { UsageError } from "./usage_error.ts";

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

Options:
  --out DIR            folder to write (default: phantom); replaced atomically
  --resolution MM      4 or 2 (default: 4)
  --networks NAME      yeo7, yeo17 or giles (default: yeo7)
  --subjects N         subjects (default: 6)
  --r2 X               median true R² in driven voxels (default: 0.1, as the paper reports)
  --atoms K            atoms learned from stories260K (default: 16)
  --seed N             seed of every random choice (default: 0)
${COMPUTE_HELP}
  --data-dir DIR, --cache-dir DIR, --offline   as for analyze
  --quiet              print nothing but errors
  -h, --help           this help
`;

/** Run `phantom` with the arguments after the subcommand. */
export async function phantomCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        out: { type: "string", default: "phantom" },
        resolution: { type: "string", default: "4" },
        networks: { type: "string", default: "yeo7" },
        subjects: { type: "string", default: "6" },
        r2: { type: "string", default: "0.1" },
        atoms: { type: "string", default: "16" },
        seed: { type: "string", default: "0" },
        ...COMPUTE_OPTIONS,
        ...DATA_OPTIONS,
        quiet: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message, PHANTOM_HELP);
  }
  if (values.help) {
    console.log(PHANTOM_HELP);
    return 0;
  }
  const resolution = Number(
    oneOf("resolution", values.resolution, ["4", "2"] as const, PHANTOM_HELP),
  ) as 2 | 4;
  const networks = oneOf(
    "networks",
    values.networks,
    ["yeo7", "yeo17", "giles"] as const,
    PHANTOM_HELP,
  ) as NetworkChoice;
  const subjects = wholeNumber("subjects", values.subjects, 1, PHANTOM_HELP);
  const atoms = wholeNumber("atoms", values.atoms, 7, PHANTOM_HELP);
  const seed = wholeNumber("seed", values.seed, 0, PHANTOM_HELP);
  const r2 = Number(values.r2);
  if (!(r2 > 0 && r2 < 1)) {
    throw new UsageError(
      `--r2 must be between 0 and 1: current value is "${values.r2}"`,
      PHANTOM_HELP,
    );
  }
  const compute = computeSettings(values, PHANTOM_HELP);
  const log = (l: string) => values.quiet || console.error(l);
  const data = dataSettings(values);
  const backend = await createBackend({
    backend: compute.backend,
    ...(compute.threads ? { cpu: { threads: compute.threads } } : {}),
  });
  try {
    const stimulus = await aliceStimulus(data);
    const learned = await aliceModelAtoms(backend, stimulus, { data, atoms, seed, log });
    const truth = await writePhantom(values.out, backend, learned.models[0].atoms.atoms, {
      resolution,
      networks,
    }, { subjects, r2, seed, tr: ALICE_TIMING.tr, data, log });
    log(
      `phantom: ${truth.subjects} subjects × ${truth.volumes} volumes × ${truth.voxels} voxels ` +
        `(${resolution} mm, ${truth.templates}); planted: ` +
        truth.links.map((l) => `atom${l.atom}${l.sign > 0 ? "+" : "−"}→${l.networkName}`).join(
          ", ",
        ),
    );
    log(`written to ${values.out}`);
  } finally {
    backend.dispose();
  }
  return 0;
}
