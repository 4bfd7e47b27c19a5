/**
 * The dashboard's URLs, built in one place with every path segment
 * encoded: model names and file names come from results folders and may
 * hold `/`, `#`, `?`, `%` or quotes, which must reach the router as the
 * same text (it decodes each segment) instead of changing the URL.
 *
 * @module
 */

const seg = (s: string | number) => encodeURIComponent(String(s));

/**
 * A page of a run: `runHref("demo", "atoms", "stories260K", 3)` is
 * `/runs/demo/atoms/stories260K/3`.
 */
export function runHref(run: string, ...segments: (string | number)[]): string {
  return ["/runs", seg(run), ...segments.map(seg)].join("/");
}

/**
 * A file of a run by its path relative to the run's folder (`/` separates
 * folders): `fileHref("demo", "voxels/a b.nii.gz")` is
 * `/runs/demo/files/voxels/a%20b.nii.gz`.
 */
export function fileHref(run: string, path: string): string {
  return runHref(run, "files") + "/" + path.split("/").map(seg).join("/");
}

/**
 * One volume of a run's 4-D map, as a 3-D NIfTI the server cuts out:
 * `volumeHref("demo", "voxels/m/group_t.nii.gz", 3)` is
 * `/runs/demo/files/voxels/m/group_t.nii.gz?volume=3`.
 */
export function volumeHref(run: string, path: string, volume: number): string {
  return `${fileHref(run, path)}?volume=${volume}`;
}

/**
 * NiiVue's browser module (`export * from "@niivue/niivue"`), served apart
 * from the islands' bundle: islands that draw a brain `import()` it, so
 * pages without one never download it.
 */
export const NIIVUE_URL = "/assets/niivue.js";
