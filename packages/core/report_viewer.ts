/**
 * The self-contained report: `renderReport`'s page with an interactive
 * "Brain maps" section added — every atom's group map of every model
 * (masked, int8-quantized, gzipped, base64; see `report_maps.ts`), the
 * anatomy and the network outlines, drawn by NiiVue inlined as a script,
 * and the same maps on the left and right cortex (the meshes packed by
 * `report_surfaces.ts`, the maps sampled at their vertices in the page) —
 * so that `report.html` alone, opened from `file://` without a network,
 * shows the maps. The demo's report is about 4.0 MB: NiiVue 2.3 MB, the
 * meshes 0.62 MB.
 *
 * @module
 */

import { join } from "node:path";
import type { ResolveOptions } from "@brainorg/datasets";
import { sampleGrid } from "@brainorg/neuro";
import { reportViewerClient } from "./_report_viewer_client.ts";
import { readReportMaps } from "./report_maps_read.ts";
import { niivueScript } from "./niivue_script.ts";
import { decodeHemisphere, type ReportPayload } from "./report_surfaces.ts";
import { RESULT_FILES, type ResultsSummary } from "./results.ts";

/** Marks around the section, so that writing the report again replaces it. */
const BEGIN = "<!-- brainorg:viewer -->", END = "<!-- /brainorg:viewer -->";

function esc(v: unknown): string {
  return String(v).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

/** Text safe inside `<script>`: no `</script`, no `<!--` (which changes how HTML ends a script). */
function scriptSafe(js: string): string {
  return js.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

/**
 * The four surface views: each hemisphere from the side and from the midline
 * (NiiVue's azimuth: 90 looks from the subject's left, 270 from the right).
 */
export const SURFACE_VIEWS = [
  { hemi: "lh", side: "lateral", azimuth: 90 },
  { hemi: "rh", side: "lateral", azimuth: 270 },
  { hemi: "lh", side: "medial", azimuth: 270 },
  { hemi: "rh", side: "medial", azimuth: 90 },
] as const;

/** The cortex part of the section: four canvases the page draws into, or why there are none. */
function surfacesBlock(p: ReportPayload): string {
  const s = p.surfaces;
  if (!s) {
    return `<p data-testid="surfaces-unavailable">No cortical surfaces in this report: ${
      esc(p.surfacesUnavailable ?? "no meshes")
    }.</p>`;
  }
  const views = SURFACE_VIEWS.map((v) =>
    `<figure style="margin:0"><div style="position:relative;width:100%;height:240px;background:#fff">` +
    `<canvas data-testid="surface-${v.hemi}-${v.side}" data-hemi="${v.hemi}" data-azimuth="${v.azimuth}" ` +
    `style="width:100%;height:100%;display:block"></canvas>` +
    `</div><figcaption class="muted">${
      v.hemi === "lh" ? "left" : "right"
    } hemisphere, ${v.side}</figcaption></figure>`
  ).join("\n");
  return `<h3 id="brain-surfaces">On the cortex</h3>
<p class="muted">The same map on the ICBM152 pial surfaces (${
    esc(s.meshes.join(", "))
  }): sampled at each vertex, trilinear over the analysed voxels (a vertex with none of its 8 voxels
analysed takes the closest one within ${
    s.fallbackRadius.toFixed(1)
  } mm), with the colours and threshold
above${s.borders ? `; dark lines: borders between the ${esc(s.borders)} networks` : ""}. Drawn once
scrolled into view.</p>
<div data-testid="surfaces" data-ready="0" style="display:grid;grid-template-columns:1fr 1fr;gap:4px">
${views}
</div>`;
}

/** What the viewer section shows: the maps and NiiVue, or why it cannot. */
export type ReportViewerContent =
  | { payload: ReportPayload; niivue: string }
  | { unavailable: string };

/**
 * The "Brain maps" section: the controls, the canvas, the payload as JSON,
 * NiiVue and the viewer's script.
 *
 * @param content the payload and NiiVue's script, or the reason there is no viewer
 * @returns HTML, between marks that {@linkcode withReportViewer} finds again
 */
export function reportViewerSection(content: ReportViewerContent): string {
  if ("unavailable" in content) {
    return `${BEGIN}<h2 id="brain-maps">Brain maps</h2>
<p>No interactive maps in this report: ${esc(content.unavailable)}.</p>${END}`;
  }
  const p = content.payload;
  const atoms = p.models.reduce((n, m) => n + m.atoms.length, 0);
  return `${BEGIN}
<h2 id="brain-maps">Brain maps</h2>
<p>Every atom's map (${esc(p.quantity)}) of each model, drawn by NiiVue in this page alone (no
server, no network): ${atoms} maps on the ${p.voxels.toLocaleString("en")} voxels analysed (grid ${
    p.shape.join("×")
  }). To stay small, each map is stored on the mask's voxels only and quantized to 8 bits with a scale
of its own (value = code × max|value| / 127, so values read here are within half a step, 0.4 % of the
map's peak, of the NIfTI files in <code>voxels/</code>). Colours: warm above +threshold, winter below
−threshold; the network outlines are ${esc(p.atlas?.name ?? "absent")}. Click on a slice to move
the crosshair.</p>
<div id="brainorg-viewer" data-testid="report-viewer" data-ready="0">
<p>model <select data-testid="model"></select> · atom <select data-testid="atom"></select>
· threshold |value| ≥ <input type="range" data-testid="threshold" min="0" max="10" step="0.1">
<output data-testid="threshold-value"></output></p>
<div style="position:relative;width:100%;height:380px;background:#000"><canvas data-testid="niivue" style="width:100%;height:100%;display:block"></canvas></div>
<p class="muted">crosshair: <span data-testid="crosshair-info">loading…</span></p>
<p class="muted">under the pointer: <span data-testid="cursor-info">—</span></p>
<p class="error" data-testid="viewer-error" hidden></p>
${surfacesBlock(p)}
</div>
<script type="application/json" id="brainorg-maps">${
    JSON.stringify(p).replace(/</g, "\\u003c")
  }</script>
<script>${scriptSafe(content.niivue)}</script>
<script>(${scriptSafe(reportViewerClient.toString())})({ sampleGrid: ${
    scriptSafe(sampleGrid.toString())
  }, decodeHemisphere: ${scriptSafe(decodeHemisphere.toString())} });</script>
${END}`;
}

/**
 * A report page with the viewer section put in: before `</body>`, or in
 * place of the one it already has.
 *
 * @param html a page from `renderReport` (or one written with a viewer before)
 * @param content what the section shows
 * @returns the page with the section
 *
 * @example
 * ```ts
 * import { withReportViewer } from "@brainorg/core";
 * const page = withReportViewer("<html><body><h1>r</h1></body></html>", {
 *   unavailable: "no voxel level",
 * });
 * console.log(page.includes("Brain maps")); // true
 * ```
 */
export function withReportViewer(html: string, content: ReportViewerContent): string {
  const section = reportViewerSection(content);
  const a = html.indexOf(BEGIN), b = html.indexOf(END);
  if (a >= 0 && b > a) return html.slice(0, a) + section + html.slice(b + END.length);
  const end = html.lastIndexOf("</body>");
  return end < 0 ? html + section : `${html.slice(0, end)}${section}\n${html.slice(end)}`;
}

/** Options of {@linkcode embedReportViewer}. */
export interface EmbedReportViewerOptions {
  /** The brainorg cache folder, where NiiVue's bundle is kept. Default: none (built each time). */
  cacheDir?: string;
  /** The folder's summary; default: read from its `summary.json`. */
  summary?: ResultsSummary;
  /** Told when the section could not be built (the report is written without maps). Default: none. */
  warn?: (message: string) => void;
  /** Where the cortical meshes are looked for (the run's data folder, offline). Default: the environment's. */
  data?: ResolveOptions;
}

/**
 * Add the brain maps to a results folder's report: read its group maps,
 * pack them, get NiiVue's script (from the cache) and put the section in.
 * A folder without a voxel level, or a NiiVue that cannot be bundled,
 * gives a report that says so instead of failing the run.
 *
 * @param dir the results folder, its maps written
 * @param html the report as `renderReport` made it
 * @param options the cache folder, the summary, where warnings go
 * @returns the self-contained report
 *
 * @example
 * ```ts
 * import { embedReportViewer } from "@brainorg/core";
 * const html = await Deno.readTextFile("results/demo/report.html");
 * await Deno.writeTextFile("results/demo/report.html", await embedReportViewer("results/demo", html));
 * ```
 */
export async function embedReportViewer(
  dir: string,
  html: string,
  options: EmbedReportViewerOptions = {},
): Promise<string> {
  const summary = options.summary ??
    JSON.parse(await Deno.readTextFile(join(dir, RESULT_FILES.summary))) as ResultsSummary;
  const payload = await readReportMaps(dir, summary, {
    ...options.data,
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
  });
  if (!payload) return withReportViewer(html, { unavailable: "the run has no voxel level" });
  if (payload.surfacesUnavailable) {
    options.warn?.(`report.html without cortical surfaces: ${payload.surfacesUnavailable}`);
  }
  let niivue: string;
  try {
    niivue = (await niivueScript({ cacheDir: options.cacheDir, warn: options.warn })).js;
  } catch (err) {
    const why = `NiiVue could not be bundled (${(err as Error).message.split("\n")[0]})`;
    options.warn?.(why);
    return withReportViewer(html, { unavailable: why });
  }
  return withReportViewer(html, { payload, niivue });
}
