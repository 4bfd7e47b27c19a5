/**
 * `deno task web`: the results dashboard. Not built yet (issue 9): this entry
 * point says so, and where the results are, instead of failing obscurely.
 *
 * @module
 */

if (import.meta.main) {
  console.error(
    "brainorg web: the dashboard is not built yet (tracked as issue 9).\n" +
      "Results are plain files meanwhile: summary.json, CSV tables and provenance.json in the\n" +
      "results folder (results/demo after 'deno task analyze').",
  );
  Deno.exit(2);
}
