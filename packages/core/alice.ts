/**
 * The Alice in Wonderland dataset (Brennan et al. 2016) as brainorg uses it:
 * the stimulus TextGrid, 28 subjects' ROI tables and the authors' own
 * word-rate and sound-power regressors, resolved through the data layer.
 *
 * @module
 */

import { REGISTRY, resolveDataFile, type ResolveOptions } from "@brainorg/datasets";

/** The ROI columns of the Alice tables, in file order. */
export const ALICE_ROIS = ["LATL", "RATL", "LPTL", "LIPL", "LPreM", "LIFG"] as const;

/** Scanner timing of the Alice data: TR 2 s, 372 volumes of which the first 10 were discarded. */
export const ALICE_TIMING = { tr: 2, volumes: 362, discarded: 10 } as const;

/** Registry path of the Alice stimulus TextGrid. */
export const ALICE_TEXTGRID =
  "alice/alice_stim_shared/DownTheRabbitHoleFinal_exp120_pad_1.TextGrid";

/** One subject's files, verified. */
export interface AliceSubject {
  id: string;
  timecourses: string;
  rate: string;
  soundPower: string;
}

/**
 * Resolve every Alice subject's files (6 mm or 10 mm ROI radius).
 *
 * @returns subjects sorted by id, e.g. `s18`, `s22`, …
 */
export async function resolveAliceSubjects(
  radius: "6mm" | "10mm" = "6mm",
  options: ResolveOptions = {},
): Promise<AliceSubject[]> {
  const re = new RegExp(`^alice/alice_data_shared/${radius}/(s\\d+)-timecourses\\.txt$`);
  const ids = REGISTRY.map((e) => re.exec(e.path)?.[1]).filter((x): x is string => !!x).sort();
  const out: AliceSubject[] = [];
  for (const id of ids) {
    const base = "alice/alice_data_shared/";
    const [tc, rate, snd] = await Promise.all([
      resolveDataFile(`${base}${radius}/${id}-timecourses.txt`, options),
      resolveDataFile(`${base}${id}-rate.txt`, options),
      resolveDataFile(`${base}${id}-sndpwr.txt`, options),
    ]);
    out.push({ id, timecourses: tc.path, rate: rate.path, soundPower: snd.path });
  }
  return out;
}
