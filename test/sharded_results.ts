/**
 * Two results folders that hold the same results within float tolerance:
 * what a sharded run is held to against a single process (a block of
 * voxels goes through the products in other batches, so the last bits of
 * float32 sums differ); and the CLI in a subprocess, as those tests run it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { readNifti } from "@brainorg/neuro";
import { listFiles } from "./small_study.ts";

/** Relative tolerance of unformatted numbers (float32 rounding, with room). */
const TOL = 1e-4;

const ROOT = new URL("..", import.meta.url).pathname;

/** `brainorg <args>` in a subprocess (CPU backend, plain TypeScript products, as startAnalyze). */
export async function brainorg(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "apps/cli/main.ts", ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1", BRAINORG_BLAS: "typescript", ...env },
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

const close = (x: number, y: number, slack = 0) =>
  (Number.isNaN(x) && Number.isNaN(y)) || x === y ||
  Math.abs(x - y) <= TOL * Math.max(1, Math.abs(x), Math.abs(y)) + slack;

/** JSON values equal but for numbers, which are close. */
function assertJsonClose(a: unknown, b: unknown, path: string): void {
  if (typeof a === "number" && typeof b === "number") {
    assert.ok(close(a, b), `${path}: ${a} vs ${b}`);
  } else if (Array.isArray(a) && Array.isArray(b)) {
    assert.equal(a.length, b.length, `${path}: length`);
    a.forEach((x, i) => assertJsonClose(x, b[i], `${path}[${i}]`));
  } else if (a && b && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a).sort(), kb = Object.keys(b).sort();
    assert.deepEqual(kb, ka, `${path}: keys`);
    for (const k of ka) {
      assertJsonClose(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        `${path}.${k}`,
      );
    }
  } else assert.deepEqual(b, a, path);
}

const NUMBER = /-?\d+(?:\.\d+)?(?:e[-+]?\d+)?/gi;

/**
 * Texts (CSV, HTML) equal but for numbers, which are close; a number
 * printed with d decimals may differ by one in its last digit (rounding).
 */
function assertTextClose(a: string, b: string, file: string): void {
  const strip = (s: string) => s.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "<time>");
  [a, b] = [strip(a), strip(b)];
  assert.equal(b.replace(NUMBER, "#"), a.replace(NUMBER, "#"), `${file}: text around numbers`);
  const na = a.match(NUMBER) ?? [], nb = b.match(NUMBER) ?? [];
  na.forEach((x, i) => {
    const decimals = /\.(\d+)$/.exec(x)?.[1].length ?? 0;
    const slack = /e/i.test(x) ? 0 : 10 ** -decimals * 1.01;
    assert.ok(close(Number(x), Number(nb[i]), decimals ? slack : 0), `${file}: ${x} vs ${nb[i]}`);
  });
}

/**
 * Assert that two results folders hold the same files, and the same
 * results within float tolerance: JSON (less the provenance's time and
 * command), CSV and HTML with numbers compared within tolerance, NIfTI maps
 * with the same header fields and voxel values within tolerance.
 */
export async function assertResultsWithin(a: string, b: string): Promise<void> {
  const files = await listFiles(a);
  assert.deepEqual(await listFiles(b), files, `the files of ${a} and ${b}`);
  for (const f of files) {
    const [x, y] = [join(a, f), join(b, f)];
    if (f.endsWith(".json")) {
      const [p, q] = [
        JSON.parse(await Deno.readTextFile(x)),
        JSON.parse(await Deno.readTextFile(y)),
      ];
      if (f === "provenance.json") {
        for (const v of [p, q]) delete v.createdAt, delete v.command;
      }
      assertJsonClose(p, q, f);
    } else if (/\.nii(\.gz)?$/.test(f)) {
      const [p, q] = [await readNifti(x), await readNifti(y)];
      assert.deepEqual(q.shape, p.shape, f);
      assert.deepEqual(q.affine, p.affine, f);
      for (let i = 0; i < p.data.length; i++) {
        if (!close(p.data[i], q.data[i])) {
          assert.fail(`${f}: value ${i} is ${q.data[i]}, not ${p.data[i]}`);
        }
      }
    } else if (/\.(csv|html|txt)$/.test(f)) {
      assertTextClose(await Deno.readTextFile(x), await Deno.readTextFile(y), f);
    } else {
      assert.deepEqual(await Deno.readFile(y), await Deno.readFile(x), f);
    }
  }
}
