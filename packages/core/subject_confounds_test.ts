import assert from "node:assert/strict";
import { join } from "node:path";
import { InputError } from "@brainorg/common";
import { CONFOUND_PRESETS } from "@brainorg/neuro";
import { CONFOUND_PRESET_NAMES } from "./_options_spec.ts";
import { subjectConfounds } from "./subject_confounds.ts";

const MOTION = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"];
const expand = (b: string) => [b, `${b}_derivative1`, `${b}_power2`, `${b}_derivative1_power2`];

/** An fMRIPrep-like confounds table of `rows` volumes with `compcor` a_comp_cor columns. */
function table(rows: number, compcor: number, seed: number): string {
  const columns = [
    ...MOTION.flatMap(expand),
    ...["white_matter", "csf"].flatMap(expand),
    ...Array.from({ length: compcor }, (_, k) => `a_comp_cor_${String(k).padStart(2, "0")}`),
    "cosine00",
    "cosine01",
    "framewise_displacement",
  ];
  const lines = [columns.join("\t")];
  for (let t = 0; t < rows; t++) {
    lines.push(
      columns.map((c, j) =>
        t === 0 && (c.includes("derivative") || c === "framewise_displacement")
          ? "n/a"
          : c.startsWith("cosine")
          ? String(Math.cos((Math.PI * (j % 2 + 1) * (t + 0.5)) / rows))
          : String(Math.sin(seed + 0.37 * t * (j + 1)) * (c === "framewise_displacement" ? 0.1 : 1))
      ).join("\t"),
    );
  }
  return lines.join("\n") + "\n";
}

Deno.test("the analysis file's confound presets are the neuro package's", () => {
  assert.deepEqual([...CONFOUND_PRESET_NAMES].sort(), Object.keys(CONFOUND_PRESETS).sort());
});

Deno.test("a subject's confounds: runs end to end, discarded volumes dropped, CompCor per run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-confounds-" });
  try {
    const a = join(dir, "run-1.tsv"), b = join(dir, "run-2.tsv");
    await Deno.writeTextFile(a, table(42, 3, 1));
    await Deno.writeTextFile(b, table(32, 5, 2));
    const subject = { id: "sub-01", bold: ["a.nii", "b.nii"], confounds: [a, b] };
    const simple = await subjectConfounds(subject, "simple", {
      volumes: 70,
      discarded: 2,
      runs: [40, 30],
    });
    assert.ok(simple);
    // simple = motion 24 + WM/CSF 2 + the cosines, as nilearn selects them.
    assert.equal(
      simple.columns.filter((c) => c.startsWith("trans_") || c.startsWith("rot_")).length,
      24,
    );
    assert.ok(simple.columns.includes("white_matter") && simple.columns.includes("cosine00"));
    assert.equal(simple.matrix.rows, 70);
    assert.equal(simple.censored, 0);
    const compcor = await subjectConfounds(subject, "compcor", {
      volumes: 70,
      discarded: 2,
      runs: [40, 30],
    });
    // Run 1 has 3 components, run 2 has 5: the union, zeros where a run lacks one.
    const c4 = compcor!.columns.indexOf("a_comp_cor_04");
    assert.ok(c4 >= 0);
    const C = compcor!.matrix.cols;
    assert.ok(
      Array.from({ length: 40 }, (_, t) => compcor!.matrix.data[t * C + c4]).every((v) => v === 0),
    );
    assert.ok(
      Array.from({ length: 30 }, (_, t) => compcor!.matrix.data[(40 + t) * C + c4]).some((v) =>
        v !== 0
      ),
    );
    assert.equal(
      await subjectConfounds(subject, "none", { volumes: 70, discarded: 2, runs: [40, 30] }),
      undefined,
    );
    const wrong = await subjectConfounds(subject, "simple", {
      volumes: 70,
      discarded: 0,
      runs: [40, 30],
    })
      .catch((e) => e);
    assert.ok(wrong instanceof InputError);
    assert.match(wrong.message, /wrong number of rows/);
    assert.equal(wrong.file, a);
    assert.match(wrong.expected ?? "", /^40 /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
