/**
 * Readable names of the template networks, for every page, the report and
 * the log lines; the raw labels (`5_Lymbic_Area`, `network 12`, `map 3`)
 * stay in the CSV files, where scripts match them.
 *
 * Yeo-7: the names of Yeo et al. 2011 (Visual, Somatomotor, Dorsal
 * attention, Ventral attention, Limbic, Frontoparietal, Default), from the
 * labels of `atlases/Yeo-7.csv` (`1_Visual_Area` … `7_Default_Network_Area`).
 *
 * Yeo-17: the 17-network atlas has no names file, so its networks come in
 * as `network N`. Their names follow the 17 networks' usual names (Schaefer
 * et al. 2018's `VisCent`, `VisPeri`, …, `DefaultB`, matched to Yeo's
 * `17Networks_N` through the colours of `Yeo2011_17Networks_ColorLUT.txt`;
 * Kong et al. 2019 call them Visual A/B, Control A/B/C, Default A/B/C), in
 * the 7-network vocabulary above, with Yeo's number kept: `Visual A (17-1)`.
 * The grouping into the 7 networks is Yeo et al. 2011's: 1–2 visual, 3–4
 * somatomotor, 5–6 dorsal attention, 7–8 ventral attention (salience),
 * 9–10 limbic, 11–13 frontoparietal (control), 14–17 default. The 17
 * networks are not nested in the 7 (network 8 lies half in ventral
 * attention, half in frontoparietal): `network_names_test.ts` checks each
 * group against the two atlases' overlap.
 *
 * Giles' 39 ICA maps have no names of their own (`map N`), which read as
 * they are and are kept.
 *
 * This module imports nothing, so the dashboard may import it (through
 * `@brainorg/core/results`) without the compute packages.
 *
 * @module
 */

/** Yeo-7's networks by label (1–7), as Yeo et al. 2011 name them. */
export const YEO7_NAMES: readonly string[] = [
  "Visual",
  "Somatomotor",
  "Dorsal attention",
  "Ventral attention",
  "Limbic",
  "Frontoparietal",
  "Default",
];

/**
 * Yeo-17's networks by label (1–17): the name and the Yeo-7 network (1–7)
 * each belongs to. Short names after Schaefer et al. 2018 in comments.
 */
export const YEO17_NETWORKS: readonly { name: string; yeo7: number }[] = [
  { name: "Visual A", yeo7: 1 }, // VisCent (central visual)
  { name: "Visual B", yeo7: 1 }, // VisPeri (peripheral visual)
  { name: "Somatomotor A", yeo7: 2 }, // SomMotA
  { name: "Somatomotor B", yeo7: 2 }, // SomMotB
  { name: "Dorsal attention A", yeo7: 3 }, // DorsAttnA
  { name: "Dorsal attention B", yeo7: 3 }, // DorsAttnB
  { name: "Ventral attention A", yeo7: 4 }, // SalVentAttnA
  { name: "Ventral attention B", yeo7: 4 }, // SalVentAttnB
  { name: "Limbic A (temporal pole)", yeo7: 5 }, // LimbicA_TempPole
  { name: "Limbic B (orbitofrontal)", yeo7: 5 }, // LimbicB_OFC
  { name: "Frontoparietal C", yeo7: 6 }, // ContC
  { name: "Frontoparietal A", yeo7: 6 }, // ContA
  { name: "Frontoparietal B", yeo7: 6 }, // ContB
  { name: "Temporal parietal", yeo7: 7 }, // TempPar
  { name: "Default C", yeo7: 7 }, // DefaultC
  { name: "Default A", yeo7: 7 }, // DefaultA
  { name: "Default B", yeo7: 7 }, // DefaultB
];

/** The set a name refers to: `Yeo-7`/`yeo7` → 7, `Yeo-17`/`yeo17` → 17, anything else null. */
function yeoSet(set: string): 7 | 17 | null {
  const m = /^yeo-?(7|17)$/i.exec(set.trim());
  return m ? (Number(m[1]) as 7 | 17) : null;
}

/**
 * The label number in a raw Yeo name: `5_Lymbic_Area` → 5, `network 12` →
 * 12, `17Networks_12` → 12, `7Networks_5` → 5; null for anything else.
 */
function yeoLabel(raw: string, set: 7 | 17): number | null {
  const m = /^(\d{1,2})_[A-Za-z_]+$/.exec(raw) ?? /^network (\d{1,2})$/i.exec(raw) ??
    new RegExp(`^${set}Networks_(\\d{1,2})$`).exec(raw);
  const n = m ? Number(m[1]) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= set ? n : null;
}

/**
 * A network's name as people read it.
 *
 * @param set the template set, as the results name it (`Yeo-7`, `Yeo-17`,
 *   `Giles-39`) or as the options do (`yeo7`, `yeo17`, `giles`)
 * @param rawName the network's label as the CSV files have it
 *   (`networkName`: `5_Lymbic_Area`, `network 12`, `map 3`)
 * @returns the readable name (`Limbic`, `Frontoparietal A (17-12)`); a name
 *   it does not know, of any set, unchanged
 *
 * @example
 * ```ts
 * import { networkDisplayName } from "@brainorg/core/results";
 * networkDisplayName("Yeo-7", "5_Lymbic_Area"); // "Limbic"
 * networkDisplayName("Yeo-17", "network 12"); // "Frontoparietal A (17-12)"
 * networkDisplayName("Giles-39", "map 3"); // "map 3"
 * ```
 */
export function networkDisplayName(set: string, rawName: string): string {
  const yeo = yeoSet(set);
  const label = yeo ? yeoLabel(rawName.trim(), yeo) : null;
  if (yeo === null || label === null) return rawName;
  return yeo === 7 ? YEO7_NAMES[label - 1] : `${YEO17_NETWORKS[label - 1].name} (17-${label})`;
}
