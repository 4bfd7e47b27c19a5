/**
 * Results folders that are missing, truncated, of the wrong schema or
 * hostile (HTML and script in every free-text field and in file names, huge
 * and non-finite numbers, broken NIfTI maps, links out of the folder), for
 * the dashboard's robustness test.
 *
 * @module
 */

import { join } from "node:path";
import { writeResultsFolder } from "./fixture.ts";

/** Script that would run if a page put it in the HTML unescaped (closes an island's script too). */
export const SCRIPT = "</script><script>window.__pwned=1</script>";
/** Breaks out of a double-quoted attribute; no slash, so it also fits a file or folder name. */
export const IMG = `"><img src=x onerror="window.__pwned=1">`;
/** Both: what goes in every free-text field. */
export const HOSTILE = IMG + SCRIPT;
/** Substrings that only an unescaped payload puts into HTML. */
export const RAW_MARKERS = ["<img src=x onerror", "<script>window.__pwned"];
/** What an escaped payload looks like in HTML. */
export const ESCAPED_MARKER = "&lt;img src=x onerror";
/** The content of the file outside every results folder. */
export const SECRET = "TOP SECRET: outside the results folders";

/** A fixture folder and what the dashboard should say about it. */
export interface HostileFolder {
  /** Path given to the server. */
  dir: string;
  /** The run id the server derives from the folder name. */
  id: string;
  /** Model names in its summary (for atom pages). */
  models: string[];
}

const SMALL = { atoms: 4, layers: 3, volumes: 40, words: 200, grid: [12, 14, 12], subjects: 1 };

async function patchJson(file: string, patch: (json: Record<string, unknown>) => void) {
  const json = JSON.parse(await Deno.readTextFile(file));
  patch(json);
  await Deno.writeTextFile(file, JSON.stringify(json));
}

async function appendText(file: string, text: string) {
  await Deno.writeTextFile(file, text, { append: true });
}

async function replaceText(file: string, from: RegExp, to: string) {
  await Deno.writeTextFile(file, (await Deno.readTextFile(file)).replace(from, to));
}

/**
 * Write every hostile and broken folder under `root`, plus `secret.txt`
 * beside them (never to be served).
 *
 * @returns the folders by role, and the paths that are not folders at all
 */
export async function writeHostileFolders(root: string) {
  await Deno.writeTextFile(join(root, "secret.txt"), SECRET);
  const made = async (name: string, options: { models?: string[] } = {}) => {
    const dir = join(root, name);
    const { models } = await writeResultsFolder(dir, {
      ...SMALL,
      grid: SMALL.grid as [number, number, number],
      ...options,
    });
    return { dir, id: name, models };
  };

  // Hostile text everywhere it can go, huge and non-finite numbers, links out.
  const hostileModel = `${IMG} model`;
  const hostileDir = join(root, IMG);
  const { models } = await writeResultsFolder(hostileDir, {
    ...SMALL,
    grid: SMALL.grid as [number, number, number],
    models: [hostileModel, "stories260K"],
    text: HOSTILE,
  });
  await patchJson(join(hostileDir, "summary.json"), (s) => {
    s.brainorg = HOSTILE;
    s.backend = { name: HOSTILE };
    (s.stimulus as Record<string, unknown>).tr = "2 s";
    const m = s.models as Record<string, unknown>[];
    m[1].atoms = 1e12;
    const voxel = s.voxel as Record<string, unknown>;
    voxel.threshold = null;
    voxel.permutations = HOSTILE;
    // deno-lint-ignore no-explicit-any
    const vm = voxel.models as any[];
    vm[0].templates[0].metrics.links = 1e308;
    vm[0].templates[0].metrics.normalizedEntropy = null;
    vm[0].templates[0].metrics.layerSpread = -1e308;
    vm[1].recovery = null;
  });
  const m0 = join(hostileDir, "models", hostileModel);
  const quoted = `"${HOSTILE.replace(/"/g, '""')}"`;
  await appendText(
    join(m0, "subgroups.csv"),
    `1000000000,0,5,5\n${quoted},1,1,1\n0,99999999,1,1\n`,
  );
  // Members: a unit and an atom out of range, hostile text, a code that is not a number.
  await appendText(
    join(m0, "members.csv"),
    `0,99999999,0,0.5\n0,1,1000000000,0.5\n${quoted},1,1,1\n1,2,0,NaN\n1,3,0,${quoted}\n`,
  );
  await replaceText(
    join(m0, "atoms.csv"),
    /\n3,[^,\n]*,[^,\n]*,[^,\n]*,/,
    "\n3,NaN,Infinity,1e308,",
  );
  await replaceText(join(m0, "atoms.csv"), /\n4,[^,\n]*,[^,\n]*,/, "\n4,-1e308,,");
  await replaceText(
    join(hostileDir, "voxels", hostileModel, "networks_Yeo-7.csv"),
    /\n0,1,1,([^\n]*?),200,[^,]*,/,
    "\n0,1,1,$1,200,Infinity,",
  );
  await appendText(
    join(hostileDir, "encoding", "models_roi.csv"),
    `stories260K,atoms,s01,LATL,Infinity,NaN,1,10\nstories260K,atoms,s02,LATL,-1e308,,1,10\n`,
  );
  await Deno.copyFile(
    join(hostileDir, "voxels", hostileModel, "group_mean_r.nii.gz"),
    join(hostileDir, "voxels", `${IMG}.nii.gz`),
  );
  await Deno.mkdir(join(hostileDir, "notes"));
  await Deno.writeTextFile(join(hostileDir, "notes", `${IMG} #?%2e%2e.txt`), "a note");
  await Deno.writeTextFile(join(hostileDir, "notes", `${IMG}.html`), `<p>${HOSTILE}</p>`);
  await Deno.symlink(join(root, "secret.txt"), join(hostileDir, "link-out.txt"));
  await Deno.symlink(root, join(hostileDir, "linkdir"));

  // Structurally broken folders.
  const missingSummary = await made("missing-summary");
  await Deno.remove(join(missingSummary.dir, "summary.json"));
  const truncated = await made("truncated-json");
  const text = await Deno.readTextFile(join(truncated.dir, "summary.json"));
  await Deno.writeTextFile(join(truncated.dir, "summary.json"), text.slice(0, text.length >> 1));
  const schema99 = await made("schema-99");
  await patchJson(join(schema99.dir, "summary.json"), (s) => (s.schema = "brainorg.results/99"));
  // Python's json.dumps writes NaN bare; JSON (and brainorg's writer) does not.
  const nanLiteral = await made("nan-literal");
  await replaceText(join(nanLiteral.dir, "summary.json"), /"tr": 2/, '"tr": NaN');
  const arrayJson = await made("array-summary");
  await Deno.writeTextFile(join(arrayJson.dir, "summary.json"), "[1, 2, 3]");
  const binary = await made("binary-summary");
  await Deno.writeFile(join(binary.dir, "summary.json"), new Uint8Array([0xff, 0xfe, 0, 0x7b]));
  const wrongTypes = await made("wrong-types");
  await patchJson(join(wrongTypes.dir, "summary.json"), (s) => {
    s.models = "everything";
    s.voxel = 42;
    s.stimulus = [];
    s.brainorg = { version: 1 };
  });
  await Deno.writeTextFile(join(wrongTypes.dir, "provenance.json"), "null");

  // Maps missing or truncated.
  const missingMaps = await made("missing-maps");
  const mm = missingMaps.models[0];
  for (const f of ["anatomy.nii.gz", "networks_Yeo-7.nii.gz", `${mm}/group_t.nii.gz`]) {
    await Deno.remove(join(missingMaps.dir, "voxels", f));
  }
  const truncatedMaps = await made("truncated-maps");
  const tm = truncatedMaps.models[0], voxels = join(truncatedMaps.dir, "voxels");
  const groupT = await Deno.readFile(join(voxels, tm, "group_t.nii.gz"));
  await Deno.writeFile(join(voxels, tm, "group_t.nii.gz"), groupT.slice(0, groupT.length >> 1));
  const anatomy = await Deno.readFile(join(voxels, "anatomy.nii.gz"));
  await Deno.writeFile(join(voxels, "anatomy.nii.gz"), anatomy.slice(0, 100));
  await Deno.writeTextFile(join(voxels, tm, "group_mean_r.nii.gz"), "not a NIfTI file at all");
  const missingTables = await made("missing-tables");
  for (const d of ["models", "encoding", "stimulus"]) {
    await Deno.remove(join(missingTables.dir, d), { recursive: true });
  }
  await Deno.remove(join(missingTables.dir, "voxels", "networks_Yeo-7.csv"));
  await Deno.remove(
    join(missingTables.dir, "voxels", missingTables.models[0], "networks_Yeo-7.csv"),
  );

  await Deno.writeTextFile(join(root, "a-file"), "not a folder");
  return {
    hostile: { dir: hostileDir, id: "img-src-x-onerror-window.__pwned-1", models },
    missingSummary,
    truncated,
    schema99,
    nanLiteral,
    arrayJson,
    binary,
    wrongTypes,
    missingMaps,
    truncatedMaps,
    missingTables,
    notAFolder: join(root, "a-file"),
    nowhere: join(root, "does-not-exist"),
  };
}
