import assert from "node:assert/strict";
import { renderShaderModule, SHADER_MODULE } from "../../tools/embed_shaders.ts";
import { WGSL } from "./wgsl_sources.ts";

Deno.test("the embedded WGSL is the current content of shaders/ (run `deno task shaders`)", async () => {
  assert.equal(await Deno.readTextFile(SHADER_MODULE), await renderShaderModule());
  assert.deepEqual(Object.keys(WGSL).sort(), [
    "column_correlation",
    "column_pearson",
    "column_stats",
    "copy_padded",
    "gemm",
    "gemm_large",
    "lasso_cd",
    "ridge_score",
    "select_product",
    "stacked_r2",
  ]);
});
