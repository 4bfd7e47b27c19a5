import assert from "node:assert/strict";
import { InputError } from "@brainorg/common";
import {
  boolean,
  choice,
  closestName,
  fieldAt,
  fieldsOf,
  filePath,
  type Infer,
  integer,
  list,
  nameDistance,
  number,
  object,
  readDocument,
  setField,
  text,
} from "./options_schema.ts";

const STUDY = object({
  stimulus: object({
    tr: number({ min: 0.01, max: 100, doc: "repetition time" }),
    runs: list(
      object({ volumes: integer({ min: 1, max: 10, doc: "volumes" }) }, { doc: "a run" }),
      { doc: "runs" },
    ),
  }, { doc: "stimulus" }),
  voxels: object({
    mask: filePath({ doc: "mask" }),
    voxelP: number({ above: 0, below: 1, default: 0.01, doc: "voxel p" }),
    subjects: list(
      object({ id: text({ doc: "id" }) }, { doc: "a subject" }),
      {
        min: 2,
        tooFew: "at least 2 subjects",
        unique: { by: "id", expected: "a name used once" },
        doc: "s",
      },
    ),
  }, { optional: true, doc: "voxels" }),
  networks: list(choice(["yeo7", "giles"], { doc: "a set" }), {
    default: ["yeo7"],
    unique: { expected: "each set once" },
    doc: "networks",
  }),
  tier: text({ optional: true, doc: "tier" }),
  control: boolean({ default: true, doc: "control" }),
  null: choice(["shift", "phase"], { default: "shift", doc: "null" }),
  permutations: integer({ min: 2, max: 1000, default: 100, doc: "permutations" }),
}, { doc: "a study", rename: { null: "nullMethod" } });

const GOOD = {
  stimulus: { tr: 2, runs: [{ volumes: 5 }] },
  voxels: { mask: "m.nii", subjects: [{ id: "a" }, { id: "b" }] },
};

/** The InputError a document gives, or a failure if it is accepted. */
function refused(doc: unknown): InputError {
  try {
    readDocument(STUDY, doc, { file: "/data/s.json" });
  } catch (err) {
    assert.ok(err instanceof InputError, String(err));
    assert.equal(err.file, "/data/s.json");
    return err;
  }
  throw new assert.AssertionError({ message: `accepted: ${JSON.stringify(doc)}` });
}

Deno.test("a document is read with its defaults, paths resolved, keys renamed, optional fields left out", () => {
  const s = readDocument(STUDY, GOOD, { file: "/data/s.json" });
  // The type is inferred: these lines would not compile if it were not.
  const typed: { nullMethod: "shift" | "phase"; tier?: string; networks: ("yeo7" | "giles")[] } = s;
  assert.equal(typed.nullMethod, "shift");
  assert.equal(s.voxels?.mask, "/data/m.nii");
  assert.equal(s.voxels?.voxelP, 0.01);
  assert.deepEqual(s.networks, ["yeo7"]);
  assert.equal(s.control, true);
  assert.equal(s.permutations, 100);
  assert.ok(!("tier" in s) && !("null" in s));
  // A default is a copy: changing one document's list leaves the next one's alone.
  s.networks.push("giles");
  assert.deepEqual(readDocument(STUDY, GOOD, { file: "s.json" }).networks, ["yeo7"]);
  // Comment keys are ignored at every level.
  readDocument(STUDY, { ...GOOD, _note: 1, stimulus: { ...GOOD.stimulus, $x: 2 } }, {
    file: "s.json",
  });
});

Deno.test("each bad value names its JSON path, what was expected and what was found", () => {
  const cases: [unknown, string, string, string][] = [
    [{ ...GOOD, permutations: 1 }, "permutations", "a whole number ≥ 2 and ≤ 1000", "1"],
    [{ ...GOOD, permutations: 2.5 }, "permutations", "a whole number ≥ 2 and ≤ 1000", "2.5"],
    [{ ...GOOD, permutations: "10" }, "permutations", "a whole number ≥ 2 and ≤ 1000", '"10"'],
    [{ ...GOOD, stimulus: { runs: [] } }, "stimulus.tr", "a number ≥ 0.01 and ≤ 100", "nothing"],
    [
      { ...GOOD, stimulus: { tr: 2, runs: [{ volumes: 5 }, { volumes: 11 }] } },
      "stimulus.runs[1].volumes",
      "a whole number ≥ 1 and ≤ 10",
      "11",
    ],
    [{ ...GOOD, stimulus: { tr: 2, runs: [] } }, "stimulus.runs", "a non-empty list", "[]"],
    [
      { ...GOOD, voxels: { ...GOOD.voxels, voxelP: 1 } },
      "voxels.voxelP",
      "a number > 0 and < 1",
      "1",
    ],
    [
      { ...GOOD, voxels: { ...GOOD.voxels, subjects: [{ id: "a" }] } },
      "voxels.subjects",
      "at least 2 subjects",
      "1 entry",
    ],
    [
      { ...GOOD, voxels: { ...GOOD.voxels, subjects: [{ id: "a" }, { id: "a" }] } },
      "voxels.subjects[1].id",
      "a name used once",
      '"a"',
    ],
    [{ ...GOOD, networks: ["giles", "giles"] }, "networks[1]", "each set once", '"giles"'],
    [{ ...GOOD, networks: ["aal"] }, "networks[0]", '"yeo7" or "giles"', '"aal"'],
    [{ ...GOOD, null: "none" }, "null", '"shift" or "phase"', '"none"'],
    [{ ...GOOD, control: "yes" }, "control", "true or false", '"yes"'],
    [{ ...GOOD, voxels: null }, "voxels", "an object", "null"],
    [
      { ...GOOD, voxels: { ...GOOD.voxels, mask: "a\0b" } },
      "voxels.mask",
      "a file path (relative to the analysis file), or data:<reference file>",
      '"a\\u0000b"',
    ],
    [[], "(root)", "an object", "[]"],
  ];
  for (const [doc, field, expected, found] of cases) {
    const err = refused(doc);
    assert.deepEqual([err.field, err.expected, err.found], [field, expected, found], field);
    assert.match(err.message, /^invalid analysis file \(field: .*; file: \/data\/s\.json\)$/);
  }
});

Deno.test("an unknown field is refused with the closest name: a sibling, or a field elsewhere", () => {
  let err = refused({ ...GOOD, permutaions: 5000 });
  assert.equal(err.field, "permutaions");
  assert.equal(err.found, 'an unknown field "permutaions" (did you mean "permutations"?)');
  assert.match(err.expected!, /^one of the fields stimulus, voxels, networks, tier, control, null/);
  // Case and swapped letters are slips too.
  assert.match(refused({ ...GOOD, Permutations: 5 }).found!, /did you mean "permutations"\?/);
  assert.match(refused({ ...GOOD, contorl: true }).found!, /did you mean "control"\?/);
  // A field of another object: where it belongs.
  err = refused({ ...GOOD, voxelP: 0.05 });
  assert.equal(err.found, 'an unknown field "voxelP" (did you mean "voxelP" in "voxels"?)');
  err = refused({ ...GOOD, stimulus: { ...GOOD.stimulus, permutations: 5 } });
  assert.equal(err.field, "stimulus.permutations");
  assert.match(err.found!, /did you mean "permutations" at the top level\?/);
  err = refused({ ...GOOD, stimulus: { tr: 2, runs: [{ volumes: 5, volume: 3 }] } });
  assert.equal(err.field, "stimulus.runs[0].volume");
  assert.match(err.found!, /did you mean "volumes"\?/);
  // Nothing close: no guess.
  assert.equal(refused({ ...GOOD, frobnicate: 1 }).found, 'an unknown field "frobnicate"');
  // "constructor" is not a field just because every object has one.
  assert.equal(refused({ ...GOOD, constructor: 1 }).field, "constructor");
});

Deno.test("names: edit distance and the closest candidate within a third of its length", () => {
  assert.equal(nameDistance("permutaions", "permutations"), 1);
  assert.equal(nameDistance("seed", "sede"), 1); // a swap is one edit
  assert.equal(nameDistance("ATOMS", "atoms"), 0);
  assert.equal(nameDistance("", "abc"), 3);
  assert.equal(closestName("permutaions", ["seed", "permutations", "atoms"]), "permutations");
  assert.equal(closestName("atom", ["atoms", "seed"]), "atoms");
  assert.equal(closestName("tx", ["tr", "tier"]), "tr");
  assert.equal(closestName("hrf", ["tr"]), undefined);
  assert.equal(closestName("voxel-perms", ["voxel-permutations"]), undefined);
});

Deno.test("flag text: the same ranges and choices, plain decimal numbers only", () => {
  const atoms = integer({ min: 1, max: 4096, default: 64, doc: "atoms" });
  assert.equal(atoms.readText?.("16"), 16);
  for (const bad of ["", " ", "0", "4097", "1.5", "0x10", "1e1x", "many"]) {
    assert.equal(atoms.readText?.(bad), undefined, bad);
  }
  assert.equal(atoms.readText?.("1e1"), 10);
  const r2 = number({ above: 0, below: 1, default: 0.1, doc: "r2" });
  assert.equal(r2.readText?.(".5"), 0.5);
  assert.equal(r2.readText?.("1"), undefined);
  const resolution = choice([4, 2], { default: 4, doc: "mm" });
  assert.equal(resolution.readText?.("2"), 2);
  assert.equal(resolution.readText?.("3"), undefined);
  // A list on the command line: comma-separated items, each read as its flag text.
  const nets = list(choice(["yeo7", "giles"], { doc: "set" }), { doc: "sets" });
  assert.deepEqual(nets.readText?.("yeo7, giles"), ["yeo7", "giles"]);
  for (const bad of ["", "yeo7,,giles", "yeo7,yeo8"]) {
    assert.equal(nets.readText?.(bad), undefined, bad);
  }
  assert.match(nets.expectedText, /comma-separated/);
  assert.equal(resolution.expectedText, "4 or 2");
  const backend = choice(["auto", "webgpu", "cpu"], { default: "auto", doc: "backend" });
  assert.equal(backend.expected, '"auto", "webgpu" or "cpu"');
  assert.equal(backend.expectedText, "auto, webgpu or cpu");
});

Deno.test("a variant changes the default or the bound, and a default outside the range is a schema error", () => {
  const permutations = integer({ min: 2, max: 1000, default: 100, doc: "permutations" });
  const demo = permutations.with({ default: 200, min: 0 });
  assert.equal(demo.default, 200);
  assert.equal(demo.readText?.("0"), 0);
  assert.equal(permutations.readText?.("0"), undefined);
  assert.equal(demo.expected, "a whole number ≥ 0 and ≤ 1000");
  assert.throws(() => permutations.with({ default: 5000 }), /default 5000 is not a whole number/);
  assert.throws(
    () => choice(["a", "b"], { default: "c" as "a", doc: "x" }),
    /default "c" is not "a" or "b"/,
  );
});

Deno.test("fields by path: listed for docs, looked up and set for overrides", () => {
  const all = fieldsOf(STUDY).map((f) => (f.parent ? `${f.parent}.${f.key}` : f.key));
  assert.ok(all.includes("stimulus.runs[].volumes") && all.includes("voxels.subjects[].id"));
  assert.equal(all.indexOf("stimulus"), 0);
  assert.equal(fieldAt(STUDY, "voxels.voxelP").default, 0.01);
  assert.throws(() => fieldAt(STUDY, "voxels.nope"), /no field "voxels.nope"/);
  const s: Infer<typeof STUDY> = readDocument(STUDY, GOOD, { file: "s.json" });
  const t = setField(STUDY, s, "voxels.voxelP", 0.05);
  assert.equal(t.voxels?.voxelP, 0.05);
  assert.equal(s.voxels?.voxelP, 0.01, "the original is unchanged");
  assert.equal(setField(STUDY, s, "null", "phase").nullMethod, "phase");
  const { voxels: _, ...noVoxels } = s;
  assert.throws(() => setField(STUDY, noVoxels, "voxels.voxelP", 0.05), /has no "voxels"/);
});
