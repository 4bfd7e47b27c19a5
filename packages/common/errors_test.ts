import assert from "node:assert/strict";
import { DataNotFoundError, InputError } from "./errors.ts";

Deno.test("InputError names file, field, expected and found", () => {
  const e = new InputError("mask does not match the image grid", {
    file: "mask.nii.gz",
    field: "dim",
    expected: "91×109×91",
    found: "45×54×45",
  });
  assert.equal(
    e.message,
    "mask does not match the image grid (field: dim; expected: 91×109×91; found: 45×54×45; " +
      "file: mask.nii.gz)",
  );
  assert.equal(e.file, "mask.nii.gz");
});

Deno.test("DataNotFoundError lists every place looked", () => {
  const e = new DataNotFoundError(
    "a/b.nii.gz",
    ["--data-dir: not given", "cache: missing"],
    "hint",
  );
  assert.match(e.message, /- --data-dir: not given\n {2}- cache: missing\nhint/);
});
