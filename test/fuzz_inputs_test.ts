/**
 * A generated corpus of bad inputs for every reader: NIfTI (and masks), ROI
 * tables, transcripts, analysis files, GGUF models, Hugging Face folders and
 * both caches. Each case must give a sensible result or the project's
 * InputError naming the file and the field (see `fuzz.ts`). Seeded: set
 * BRAINORG_FUZZ_SEED to run another corpus.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { gzipSync } from "fflate";
import { InputError } from "@brainorg/common";
import { parseAnalysisConfig } from "@brainorg/core";
import { cachedCapture, openHfModel, readGgufLlama, writeHfLlama } from "@brainorg/models";
import {
  assertSameGrid,
  checkSeries,
  decodeNifti,
  encodeNifti1,
  identityAffine,
  maskFromImage,
  type NiftiImage,
  parseRoiTable,
  readTranscript,
  type Transcript,
} from "@brainorg/neuro";
import { dataPath } from "./data.ts";
import { describeTally, fuzzer, report, tally, verdict } from "./fuzz.ts";

// --- NIfTI --------------------------------------------------------------------

/** Byte offsets and types of the header fields we mutate, per NIfTI version. */
const NIFTI_FIELDS = {
  1: {
    sizeof_hdr: [0, "i32"],
    "dim[0]": [40, "i16"],
    "dim[1]": [42, "i16"],
    "dim[3]": [46, "i16"],
    "dim[4]": [48, "i16"],
    "dim[5]": [50, "i16"],
    datatype: [70, "i16"],
    bitpix: [72, "i16"],
    "pixdim[0]": [76, "f32"],
    "pixdim[1]": [80, "f32"],
    "pixdim[4]": [92, "f32"],
    vox_offset: [108, "f32"],
    scl_slope: [112, "f32"],
    scl_inter: [116, "f32"],
    xyzt_units: [123, "u8"],
    qform_code: [252, "i16"],
    sform_code: [254, "i16"],
    quatern_b: [256, "f32"],
    qoffset_x: [268, "f32"],
    "srow_x[0]": [280, "f32"],
    "srow_y[3]": [308, "f32"],
    "srow_z[2]": [320, "f32"],
    magic: [344, "u8"],
  },
  2: {
    sizeof_hdr: [0, "i32"],
    magic: [4, "u8"],
    datatype: [12, "i16"],
    bitpix: [14, "i16"],
    "dim[0]": [16, "i64"],
    "dim[1]": [24, "i64"],
    "dim[4]": [48, "i64"],
    "pixdim[1]": [112, "f64"],
    vox_offset: [168, "i64"],
    scl_slope: [176, "f64"],
    scl_inter: [184, "f64"],
    qform_code: [344, "i32"],
    sform_code: [348, "i32"],
    "srow_x[0]": [400, "f64"],
    "srow_z[3]": [488, "f64"],
  },
} as const;

type FieldType = "u8" | "i16" | "i32" | "i64" | "f32" | "f64";

const VALUES: Record<FieldType, number[]> = {
  u8: [0, 1, 0x2b, 0x69, 0xff],
  i16: [0, -1, 1, 2, 3, 7, 8, 16, 32, 128, 1536, 2304, 9999, 32767, -32768],
  i32: [0, 348, 349, 540, -1, 0x5c010000, 2 ** 31 - 1],
  i64: [0, -1, 1, 7, 544, 2 ** 40, 2 ** 53 + 2, -(2 ** 62)],
  f32: [0, -1, 0.5, 352.5, 1e9, 3.4e38, NaN, Infinity, -Infinity, 1e-30],
  f64: [0, -1, 1e300, NaN, Infinity, -Infinity],
};

function setField(bytes: Uint8Array, at: number, type: FieldType, value: number): void {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (type === "u8") v.setUint8(at, value & 0xff);
  else if (type === "i16") v.setInt16(at, value, true);
  else if (type === "i32") v.setInt32(at, value, true);
  else if (type === "i64") v.setBigInt64(at, BigInt(Math.trunc(value)), true);
  else if (type === "f32") v.setFloat32(at, value, true);
  else v.setFloat64(at, value, true);
}

/** A NIfTI-2 file written by hand (our writer makes NIfTI-1): float32, sform, 4-D. */
function nifti2(shape: number[], data: Float32Array): Uint8Array {
  const out = new Uint8Array(544 + 4 * data.length), v = new DataView(out.buffer);
  v.setInt32(0, 540, true);
  out.set([0x6e, 0x2b, 0x32, 0, 0x0d, 0x0a, 0x1a, 0x0a], 4);
  v.setInt16(12, 16, true);
  v.setInt16(14, 32, true);
  v.setBigInt64(16, BigInt(shape.length), true);
  shape.forEach((d, i) => v.setBigInt64(24 + 8 * i, BigInt(d), true));
  for (let i = 0; i < 8; i++) v.setFloat64(104 + 8 * i, i === 0 ? 1 : 2, true);
  v.setBigInt64(168, 544n, true);
  v.setFloat64(176, 1, true);
  v.setInt32(348, 4, true);
  [[2, 0, 0, -90], [0, 2, 0, -126], [0, 0, 2, -72]].forEach((row, r) =>
    row.forEach((x, c) => v.setFloat64(400 + 32 * r + 8 * c, x, true))
  );
  new Float32Array(out.buffer, 544).set(data);
  return out;
}

function sensibleImage(img: NiftiImage): void {
  assert.ok(img.shape.length === 3 || img.shape.length === 4, `shape ${img.shape}`);
  assert.ok(img.shape.every((d) => Number.isInteger(d) && d >= 1), `shape ${img.shape}`);
  assert.equal(img.data.length, img.shape.reduce((a, b) => a * b, 1));
  assert.ok(img.affine.every(Number.isFinite), "affine finite");
  assert.ok(img.tr === undefined || (Number.isFinite(img.tr) && img.tr > 0), `tr ${img.tr}`);
}

Deno.test("fuzz: NIfTI headers, truncations and gzip damage give an image or a named field", async () => {
  const f = fuzzer("nifti"), t = tally();
  const random = (n: number) => Float32Array.from({ length: n }, () => f.next() * 100 - 50);
  const bases: { name: string; version: 1 | 2; bytes: Uint8Array }[] = [
    {
      name: "f32_4d.nii",
      version: 1,
      bytes: encodeNifti1({
        shape: [5, 4, 3, 6],
        affine: identityAffine(),
        data: random(360),
        tr: 2,
      }, {
        gzip: false,
      }),
    },
    {
      name: "i16_scaled.nii",
      version: 1,
      bytes: encodeNifti1({ shape: [6, 5, 4], affine: identityAffine(), data: random(120) }, {
        gzip: false,
        datatype: "int16",
        scale: true,
      }),
    },
    { name: "v2_4d.nii", version: 2, bytes: nifti2([4, 3, 2, 2], random(48)) },
  ];
  for (const b of bases) {
    await verdict(
      t,
      `${b.name} as written`,
      b.name,
      () => decodeNifti(b.bytes, b.name),
      sensibleImage,
    );
  }
  assert.equal(t.accepted, 3, "the unmutated files are read");
  const cases: { label: string; name: string; bytes: Uint8Array }[] = [];
  for (const b of bases) {
    const fields = NIFTI_FIELDS[b.version];
    // Every field with every value of its type pool.
    for (const [field, [at, type]] of Object.entries(fields)) {
      for (const value of VALUES[type as FieldType]) {
        const bytes = b.bytes.slice();
        setField(bytes, at, type as FieldType, value);
        cases.push({ label: `${b.name}: ${field} = ${value}`, name: b.name, bytes });
      }
    }
    // Several fields at once, with random bytes too.
    for (let k = 0; k < 40; k++) {
      const bytes = b.bytes.slice(), what: string[] = [];
      for (let m = 1 + f.int(4); m > 0; m--) {
        const [field, [at, type]] = f.pick(Object.entries(fields));
        const value = f.next() < 0.3 ? f.int(2 ** 16) - 2 ** 15 : f.pick(VALUES[type as FieldType]);
        setField(bytes, at, type as FieldType, value);
        what.push(`${field} = ${value}`);
      }
      cases.push({ label: `${b.name}: ${what.join(", ")}`, name: b.name, bytes });
    }
    for (let k = 0; k < 15; k++) {
      const bytes = b.bytes.slice(), at = f.int(b.version === 1 ? 352 : 544);
      bytes[at] = f.int(256);
      cases.push({ label: `${b.name}: byte ${at} = ${bytes[at]}`, name: b.name, bytes });
    }
    // Truncations: nothing, mid-header, just the header, mid-data.
    const H = b.version === 1 ? 352 : 544;
    for (
      const n of [0, 1, 4, 100, 347, 348, 351, H, H + 3, b.bytes.length - 1, f.int(b.bytes.length)]
    ) {
      cases.push({
        label: `${b.name}: first ${n} bytes`,
        name: b.name,
        bytes: b.bytes.slice(0, n),
      });
    }
  }
  // Each case raw and gzipped: the streaming inflater must judge the same.
  for (const c of cases) {
    for (const gz of [false, true]) {
      const name = gz ? `${c.name}.gz` : c.name;
      const bytes = gz ? gzipSync(c.bytes) : c.bytes;
      await verdict(
        t,
        `${c.label}${gz ? " (gzipped)" : ""}`,
        name,
        () => decodeNifti(bytes, name),
        sensibleImage,
      );
    }
  }
  // Damaged gzip streams.
  const gz = gzipSync(bases[0].bytes);
  for (let k = 0; k < 30; k++) {
    const bytes = gz.slice(), what: string[] = [];
    if (k % 3 === 0) {
      const n = 10 + f.int(gz.length - 10);
      what.push(`cut at ${n}`);
      await verdict(
        t,
        `gzip ${what}`,
        "x.nii.gz",
        () => decodeNifti(gz.slice(0, n), "x.nii.gz"),
        sensibleImage,
      );
      continue;
    }
    for (let m = 1 + f.int(3); m > 0; m--) {
      const at = 10 + f.int(gz.length - 10);
      bytes[at] ^= 1 + f.int(255);
      what.push(`byte ${at}`);
    }
    await verdict(
      t,
      `gzip flipped ${what}`,
      "x.nii.gz",
      () => decodeNifti(bytes, "x.nii.gz"),
      sensibleImage,
    );
  }
  const garbage = Uint8Array.from({ length: 500 }, () => f.int(256));
  garbage.set([0x1f, 0x8b], 0);
  await verdict(t, "gzip magic, garbage after", "g.nii.gz", () => decodeNifti(garbage, "g.nii.gz"));
  const noise = Uint8Array.from({ length: 2000 }, () => f.int(256));
  await verdict(t, "noise", "n.nii", () => decodeNifti(noise, "n.nii"));
  report("nifti", t);
  assert.ok(t.accepted > 20 && t.refused > 300, describeTally(t));

  // NaN and ±Inf in the data are read as stored: screening is the caller's business.
  const nanData = random(360);
  nanData[7] = NaN;
  nanData[100] = Infinity;
  const withNan = decodeNifti(
    encodeNifti1({ shape: [5, 4, 3, 6], affine: identityAffine(), data: nanData }, { gzip: true }),
    "nan.nii.gz",
  );
  assert.ok(Number.isNaN(withNan.data[7]) && withNan.data[100] === Infinity);
  // scl_slope 0 or NaN means "no scaling" (the standard); the values stay as stored.
  for (const slope of [0, NaN]) {
    const bytes = bases[1].bytes.slice();
    setField(bytes, 112, "f32", slope);
    const stored = new Int16Array(bytes.buffer.slice(352, 352 + 240));
    assert.deepEqual([...decodeNifti(bytes, "s.nii").data], [...stored]);
  }
});

Deno.test("fuzz: huge dimensions are refused before anything is inflated or allocated", () => {
  const header = encodeNifti1({
    shape: [2, 2, 2],
    affine: identityAffine(),
    data: new Float32Array(8),
  }, {
    gzip: false,
  });
  const cases: [string, number[]][] = [
    ["32767^4", [4, 32767, 32767, 32767, 32767]],
    ["32767^3 × 1000", [4, 32767, 32767, 32767, 1000]],
    ["7-D", [7, 1000, 1000, 1000, 10, 10, 10, 10]],
  ];
  for (const [label, dims] of cases) {
    const bytes = header.slice();
    dims.forEach((d, i) => setField(bytes, 40 + 2 * i, "i16", d));
    for (const gz of [false, true]) {
      const started = performance.now();
      assert.throws(
        () => decodeNifti(gz ? gzipSync(bytes) : bytes, "huge.nii"),
        (e: unknown) =>
          e instanceof InputError && e.field === "dim" && /too large to read/.test(e.message),
        label,
      );
      assert.ok(performance.now() - started < 1000, `${label} refused at once`);
    }
  }
  // Within the limit but with almost no data: the stream ends, nothing of 4 GiB is held.
  const bytes = header.slice();
  [3, 1024, 1024, 1024].forEach((d, i) => setField(bytes, 40 + 2 * i, "i16", d));
  assert.throws(
    () => decodeNifti(gzipSync(bytes), "big.nii.gz"),
    /header dimensions disagree with the data size \(field: dim; expected: 4,294,967,648 bytes/,
  );
  // The limit is an option.
  assert.throws(
    () => decodeNifti(header, "small.nii", { maxValues: 7 }),
    /too large to read \(field: dim; expected: at most 7 values/,
  );
  assert.equal(decodeNifti(header, "small.nii", { maxValues: 8 }).data.length, 8);
});

Deno.test("fuzz: masks and maskers refuse what they cannot use", async () => {
  const t = tally(), f = fuzzer("mask");
  const img = (data: Float32Array, shape = [3, 3, 2]): NiftiImage => ({
    shape,
    affine: identityAffine(),
    data,
    description: "",
    affineSource: "sform",
    version: 1,
    datatype: "float32",
  });
  const pools = [0, 1, -1, NaN, Infinity, -Infinity, 0.5, 1e-30];
  for (let k = 0; k < 40; k++) {
    const data = Float32Array.from({ length: 18 }, () => f.pick(pools));
    if (k < 4) data.fill([0, NaN, Infinity, -0][k]);
    await verdict(
      t,
      `mask ${k}: ${[...data]}`,
      "m.nii",
      () => maskFromImage(img(data), "m.nii"),
      (m) => {
        assert.ok(m.indices.length >= 1);
        for (const i of m.indices) assert.ok(data[i] !== 0 && Number.isFinite(data[i]));
      },
    );
  }
  report("mask", t);
  assert.ok(t.refused >= 4 && t.accepted > 10, describeTally(t));
  const mask = maskFromImage(img(new Float32Array(18).fill(1)), "m.nii");
  const shifted = img(new Float32Array(36), [3, 3, 2, 2]);
  for (const affine of [[0.5, 0, 0], [NaN, 0, 0], [0, Infinity, 0]]) {
    const a = identityAffine();
    a.set(affine, 3);
    assert.throws(
      () => assertSameGrid(mask, { ...shifted, affine: a }, "b.nii"),
      (e: unknown) => e instanceof InputError && e.field === "affine" && /b\.nii/.test(e.message),
    );
  }
  assert.throws(
    () => assertSameGrid(mask, img(new Float32Array(12), [3, 2, 2]), "c.nii"),
    /field: dim/,
  );
});

// --- ROI tables -----------------------------------------------------------------

const CELLS = [
  "nan",
  "NaN",
  "inf",
  "-Infinity",
  "1e999",
  "",
  "abc",
  "0x1F",
  "1,5",
  "\u0000",
  "１２",
  "٣",
  "\u200f1.5",
  "-0",
  "1e-320",
  "+3",
  ".5",
  "5.",
  "1_000",
  "Infinity",
];

Deno.test("fuzz: ROI tables: odd cells, encodings and shapes give a table or a named line", async () => {
  const f = fuzzer("roi"), t = tally();
  const base = [
    "LATL RATL LPTL",
    ...Array.from(
      { length: 20 },
      () => [f.next(), f.next(), f.next()].map((x) => (x * 10 - 5).toFixed(4)).join(" "),
    ),
  ];
  const texts: [string, string][] = [
    ["empty", ""],
    ["header only", base[0]],
    ["BOM", "\uFEFF" + base.join("\n")],
    ["CRLF", base.join("\r\n")],
    ["lone CR", base.join("\r")],
    ["comments and blanks", ["# made by hand", ...base, "", "   "].join("\n")],
    ["one very long line", "1 ".repeat(100_000)],
  ];
  for (let k = 0; k < 120; k++) {
    const lines = base.slice();
    const r = 1 + f.int(lines.length - 1), cells = lines[r].split(" ");
    const what = f.int(4);
    if (what === 0) cells[f.int(cells.length)] = f.pick(CELLS);
    else if (what === 1) cells.splice(f.int(cells.length), 1);
    else if (what === 2) cells.push(f.pick(CELLS));
    else lines[0] = lines[0].replace("RATL", f.pick(["", "1.5", "R ATL", "RATL\u0000"]));
    lines[r] = cells.join(f.pick([" ", ",", "\t", ";", "  "]));
    texts.push([`mutation ${k} (line ${r + 1})`, lines.join("\n")]);
  }
  for (const [label, text] of texts) {
    await verdict(t, label, "s01.txt", () => parseRoiTable(text, "s01.txt"), (table) => {
      assert.equal(table.data.length, table.rows * table.columns.length);
      const problems = checkSeries(table, { expectedRows: 20 });
      assert.ok(Array.isArray(problems));
      if (table.data.some((v) => !Number.isFinite(v))) {
        assert.ok(problems.some((p) => p.problem === "non-finite"), "non-finite cells are found");
      }
    });
  }
  report("roi", t);
  assert.ok(t.accepted > 20 && t.refused > 20, describeTally(t));
});

// --- Transcripts -------------------------------------------------------------------

// deno-lint-ignore no-control-regex -- control characters are what it must not find
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;

function sensibleTranscript(tr: Transcript): void {
  assert.ok(tr.runCount >= 1 && tr.words.length >= 1);
  const last = new Map<number, number>();
  for (const w of tr.words) {
    assert.ok(w.word.length >= 1 && w.word.length <= 1000, `word of ${w.word.length} characters`);
    assert.ok(!INVISIBLE.test(w.word), `invisible characters in ${JSON.stringify(w.word)}`);
    assert.ok(w.word === w.word.normalize("NFC"), "NFC");
    assert.ok(Number.isFinite(w.onset) && w.onset >= 0, `onset ${w.onset}`);
    assert.ok(Number.isFinite(w.offset) && w.offset >= w.onset, `offset ${w.offset}`);
    assert.ok(Number.isInteger(w.run) && w.run >= 0 && w.run < tr.runCount, `run ${w.run}`);
    assert.ok(w.onset >= (last.get(w.run) ?? 0), `onsets in order: ${w.onset}`);
    last.set(w.run, w.onset);
  }
}

function textGrid(words: [string, number, number][], short = false): string {
  if (short) {
    return [
      '"ooTextFile"',
      '"TextGrid"',
      "0",
      "30",
      "<exists>",
      "1",
      '"IntervalTier"',
      '"words"',
      "0",
      "30",
      String(words.length),
      ...words.flatMap(([w, a, b]) => [String(a), String(b), `"${w}"`]),
    ].join("\n");
  }
  return [
    'File type = "ooTextFile"',
    'Object class = "TextGrid"',
    "",
    "xmin = 0",
    "xmax = 30",
    "tiers? <exists>",
    "size = 1",
    "item []:",
    "    item [1]:",
    '        class = "IntervalTier"',
    '        name = "word"',
    "        xmin = 0",
    "        xmax = 30",
    `        intervals: size = ${words.length}`,
    ...words.flatMap(([w, a, b], i) => [
      `        intervals [${i + 1}]:`,
      `            xmin = ${a}`,
      `            xmax = ${b}`,
      `            text = "${w}"`,
    ]),
  ].join("\n");
}

Deno.test("fuzz: transcripts: encodings, invisible characters, long words and impossible timings", async () => {
  const f = fuzzer("transcript"), t = tally();
  const vocab = [
    "Alice",
    "was",
    "beginning",
    "to",
    "get",
    "very",
    "tired",
    "sp",
    "of",
    "sitting",
    "café",
  ];
  const words: [string, number, number][] = Array.from({ length: 24 }, (_, i) => [
    vocab[i % vocab.length],
    +(i * 1.2).toFixed(3),
    +(i * 1.2 + 1).toFixed(3),
  ]);
  const csv = (ws: [string, number, number][], sep = ",") =>
    [["word", "onset", "offset"].join(sep), ...ws.map((w) => w.join(sep))].join("\n");
  const gentleCsv = (ws: [string, number, number][]) =>
    ws.map(([w, a, b]) => `${w},${w.toLowerCase()},${a},${b}`).join("\n");
  const gentleJson = (ws: [string, number, number][]) =>
    JSON.stringify({
      transcript: "",
      words: ws.map(([word, start, end]) => ({ word, start, end, case: "success" })),
    });
  const formats: [string, (ws: [string, number, number][]) => string][] = [
    ["story.TextGrid", (ws) => textGrid(ws)],
    ["short.TextGrid", (ws) => textGrid(ws, true)],
    ["story.csv", (ws) => csv(ws)],
    ["story.tsv", (ws) => csv(ws, "\t")],
    ["align.csv", gentleCsv],
    ["align.json", gentleJson],
  ];
  const dir = await Deno.makeTempDir({ prefix: "brainorg-fuzz-transcripts-" });
  const enc = new TextEncoder();
  const cases: { label: string; name: string; bytes: Uint8Array }[] = [];
  const wordMutations: [string, (ws: [string, number, number][]) => void][] = [
    ["RTL mark in a word", (ws) => (ws[3][0] = `\u200f${ws[3][0]}\u200e`)],
    ["zero-width joiner", (ws) => (ws[4][0] = `ti\u200dred`)],
    ["a word of invisible characters only", (ws) => (ws[5][0] = "\u200b\u2066\u2069")],
    ["NUL in a word", (ws) => (ws[6][0] = "ti\u0000red")],
    ["a 5,000-character word", (ws) => (ws[2][0] = "a".repeat(5000))],
    ["a 900-character word", (ws) => (ws[2][0] = "b".repeat(900))],
    ["decomposed accents (NFD)", (ws) => (ws[10][0] = "cafe\u0301")],
    ["emoji and Arabic", (ws) => ((ws[1][0] = "🐇"), (ws[2][0] = "أليس"))],
    ["duplicate onsets", (ws) => (ws[8][1] = ws[7][1])],
    ["overlapping words", (ws) => (ws[8][2] = ws[9][1] + 2)],
    ["unsorted onsets", (ws) => ([ws[5][1], ws[6][1]] = [ws[6][1], ws[5][1]])],
    ["a negative onset", (ws) => (ws[0][1] = -0.5)],
    ["offset before onset", (ws) => (ws[3][2] = ws[3][1] - 0.2)],
    ["a huge onset", (ws) => (ws[23][1] = 1e308)],
    ["an onset of 1e999", (ws) => (ws[23][1] = Number("1e999"))],
  ];
  for (const [name, render] of formats) {
    cases.push({ label: `${name} as written`, name, bytes: enc.encode(render(words)) });
    for (const [label, mutate] of wordMutations) {
      const ws = words.map((w) => [...w] as [string, number, number]);
      mutate(ws);
      cases.push({ label: `${name}: ${label}`, name, bytes: enc.encode(render(ws)) });
    }
    const text = render(words);
    const byteMutations: [string, Uint8Array][] = [
      ["UTF-8 BOM", new Uint8Array([0xef, 0xbb, 0xbf, ...enc.encode(text)])],
      ["CRLF", enc.encode(text.replaceAll("\n", "\r\n"))],
      ["lone CR", enc.encode(text.replaceAll("\n", "\r"))],
      [
        "UTF-16LE with BOM",
        new Uint8Array([
          0xff,
          0xfe,
          ...new Uint8Array(Uint16Array.from(text, (c) => c.charCodeAt(0)).buffer),
        ]),
      ],
      ["UTF-16 BOM, odd bytes", new Uint8Array([0xff, 0xfe, 0x41])],
      ["empty", new Uint8Array()],
    ];
    for (const [label, bytes] of byteMutations) {
      cases.push({ label: `${name}: ${label}`, name, bytes });
    }
    for (let k = 0; k < 12; k++) {
      const bytes = enc.encode(text), at = f.int(bytes.length);
      const what = f.int(4);
      let out: Uint8Array;
      if (what === 0) out = bytes.slice(0, at); // truncated
      else if (what === 1) {
        const bad = f.pick([[0xff], [0xc3], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [
          0xf5,
          0x80,
          0x80,
          0x80,
        ], [0xe9]]);
        out = new Uint8Array([...bytes.slice(0, at), ...bad, ...bytes.slice(at)]);
      } else if (what === 2) {
        out = bytes.slice();
        out[at] = 0x20 + f.int(0x5f); // another printable ASCII byte
      } else out = new Uint8Array([...bytes.slice(0, at), 0, ...bytes.slice(at)]);
      cases.push({ label: `${name}: byte mutation ${what} at ${at}`, name, bytes: out });
    }
  }
  try {
    for (const [i, c] of cases.entries()) {
      const path = join(dir, `${i}_${c.name}`);
      await Deno.writeFile(path, c.bytes);
      await verdict(t, c.label, path, () => readTranscript(path), sensibleTranscript);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  report("transcript", t);
  assert.ok(t.accepted > 60 && t.refused > 40, describeTally(t));
});

Deno.test("transcripts: what cleaning keeps, drops and refuses", async () => {
  const { parseTranscript } = await import("@brainorg/neuro");
  const tr = parseTranscript(
    "word,onset,offset\n\u200fAlice\u200e,1,1.5\n\u200b,2,2.5\ncafe\u0301,3,3.2\r\nwas,3,3.1\r",
    "s.csv",
  );
  assert.deepEqual(tr.words.map((w) => w.word), ["Alice", "café", "was"]);
  assert.deepEqual(tr.dropped, [{
    count: 1,
    reason: "no word (empty or invisible characters only)",
  }]);
  assert.throws(
    () => parseTranscript("word,onset\na,2\nb,1.5\n", "u.csv"),
    /onsets?[\s\S]*line 3[\s\S]*≥ 2, the onset at line 2/,
  );
  assert.throws(() => parseTranscript("word,onset\na,-1\n", "n.csv"), /field: onset \(line 2/);
  assert.throws(
    () => parseTranscript(`word,onset\n${"x".repeat(1001)},1\n`, "l.csv"),
    /implausibly long \(field: word \(line 2\); expected: at most 1000 characters/,
  );
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(
      join(dir, "latin1.csv"),
      new Uint8Array([...new TextEncoder().encode("word,onset\ncaf"), 0xe9, 0x2c, 0x31, 0x0a]),
    );
    await assert.rejects(
      () => readTranscript(join(dir, "latin1.csv")),
      /not valid UTF-8 \(field: byte 14 \(line 2\); expected: UTF-8 text[\s\S]*found: bytes e9 2c 31 0a/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// --- Analysis files -------------------------------------------------------------------

const CONFIG = {
  stimulus: {
    transcript: "s.TextGrid",
    tier: "words",
    tr: 2,
    runs: [{ volumes: 100, discarded: 2, stimulusOffset: 0 }],
    hrf: "spm",
    method: "hrf",
  },
  models: [{ name: "m", gguf: "m.gguf", engine: "typescript", randomControl: true }, {
    name: "h",
    hf: "hf:owner/name@main",
    units: "ffn_out",
    tensors: ["a", "b"],
    randomControl: false,
  }],
  voxels: {
    mask: "mask.nii.gz",
    subjects: [{ id: "a", bold: "a.nii" }, { id: "b", bold: "b.nii" }],
    discarded: 0,
    highPassSeconds: 128,
    voxelP: 0.01,
    maps: "ridge",
    maxBadVoxelShare: 0.1,
  },
  rois: { subjects: [{ id: "s1", table: "s1.txt" }], columns: ["L", "R"], discarded: 0 },
  networks: ["yeo7", "giles"],
  atoms: 16,
  targetDensity: 0.2,
  dictionaryAlpha: 0.5,
  null: "shift",
  permutations: 100,
  seed: 0,
};

/** Every path in a JSON value, e.g. `stimulus.runs[0].volumes`. */
function paths(v: unknown, prefix = ""): string[] {
  if (Array.isArray(v)) {
    return v.flatMap((x, i) => [`${prefix}[${i}]`, ...paths(x, `${prefix}[${i}]`)]);
  }
  if (typeof v === "object" && v !== null) {
    return Object.entries(v).flatMap(([k, x]) => {
      const p = prefix ? `${prefix}.${k}` : k;
      return [p, ...paths(x, p)];
    });
  }
  return [];
}

function getPath(root: unknown, path: string): unknown {
  return path.match(/[^.[\]]+/g)!.reduce(
    (o: unknown, k) => (o as Record<string, unknown>)[k],
    root,
  );
}

function setPath(root: unknown, path: string, value: unknown, remove = false): void {
  const keys = path.match(/[^.[\]]+/g)!.map((k) => (/^\d+$/.test(k) ? Number(k) : k));
  let o = root as Record<string | number, unknown>;
  for (const k of keys.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = keys.at(-1)!;
  if (remove) {
    if (Array.isArray(o)) o.splice(last as number, 1);
    else delete o[last];
  } else o[last] = value;
}

Deno.test("fuzz: analysis files: every field with every wrong type, missing and unknown fields, broken JSON", async () => {
  const f = fuzzer("config"), t = tally();
  const ok = parseAnalysisConfig(JSON.stringify(CONFIG), "/study/a.json");
  assert.equal(ok.voxels?.maxBadVoxelShare, 0.1);
  const wrong: unknown[] = [
    null,
    true,
    false,
    0,
    -1,
    1.5,
    1e15,
    "",
    "x",
    "../../etc/passwd\u0000",
    [],
    [1],
    {},
    { a: 1 },
  ];
  for (const path of paths(CONFIG)) {
    for (const value of [...wrong, "__delete__"]) {
      const doc = structuredClone(CONFIG);
      setPath(doc, path, value, value === "__delete__");
      const label = `${path} = ${JSON.stringify(value)}`;
      const err = await verdict(
        t,
        label,
        "a.json",
        () => parseAnalysisConfig(JSON.stringify(doc), "/study/a.json"),
        (c) => {
          assert.ok(c.models.length >= 1 && c.stimulus && c.stimulus.runs.length >= 1);
          assert.ok(Number.isFinite(c.stimulus.tr) && c.stimulus.tr > 0);
        },
      );
      if (!err) continue;
      // The error names the mutated field, a field inside it, or the object that holds it.
      const field = err.field!, parent = path.replace(/(\.[^.[\]]+|\[\d+\])$/, "");
      assert.ok(
        field === path || field.startsWith(`${path}.`) || field.startsWith(`${path}[`) ||
          field === parent,
        `${label}: the error names ${field}`,
      );
    }
  }
  // Unknown fields at every level are refused by name; comment keys are not.
  for (
    const path of [
      "",
      ...paths(CONFIG).filter((p) => !/\[\d+\]$/.test(p) || /models|runs|subjects/.test(p)),
    ]
  ) {
    const doc = structuredClone(CONFIG) as Record<string, unknown>;
    const holder = (path ? getPath(doc, path) : doc) as Record<string, unknown> | null;
    if (typeof holder !== "object" || holder === null || Array.isArray(holder)) continue;
    holder.permutatons = 10;
    assert.throws(
      () => parseAnalysisConfig(JSON.stringify(doc), "a.json"),
      (e: unknown) =>
        e instanceof InputError && e.field === (path ? `${path}.permutatons` : "permutatons") &&
        /an unknown field "permutatons"/.test(e.message),
      path,
    );
    delete holder.permutatons;
    holder._comment = "kept for people";
    parseAnalysisConfig(JSON.stringify(doc), "a.json");
  }
  // Broken JSON text.
  const text = JSON.stringify(CONFIG, null, 1);
  for (let k = 0; k < 40; k++) {
    const at = f.int(text.length);
    const broken = k % 2
      ? text.slice(0, at)
      : text.slice(0, at) + f.pick(["}", "\u0000", "'", ",", "1e999", "NaN"]) + text.slice(at + 1);
    await verdict(t, `broken JSON at ${at}`, "a.json", () => parseAnalysisConfig(broken, "a.json"));
  }
  for (const doc of ["", "null", "[]", "42", '"x"', "\uFEFF{}"]) {
    await verdict(
      t,
      `document ${JSON.stringify(doc)}`,
      "a.json",
      () => parseAnalysisConfig(doc, "a.json"),
    );
  }
  report("config", t);
  assert.ok(t.accepted > 30 && t.refused > 300, describeTally(t));
});

// --- GGUF -------------------------------------------------------------------------------

/** Where the parts of a GGUF file are: metadata values and tensor infos, by byte offset. */
function ggufLayout(bytes: Uint8Array) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  const u64 = () => ((at += 8), Number(v.getBigUint64(at - 8, true)));
  const str = () => {
    const n = u64();
    at += n;
    return new TextDecoder().decode(bytes.subarray(at - n, at));
  };
  const sizes: Record<number, number> = {
    0: 1,
    1: 1,
    2: 2,
    3: 2,
    4: 4,
    5: 4,
    6: 4,
    7: 1,
    10: 8,
    11: 8,
    12: 8,
  };
  const skip = (type: number) => {
    if (type === 8) str();
    else if (type === 9) {
      const inner = v.getUint32(at, true);
      at += 4;
      const n = u64();
      for (let i = 0; i < n; i++) skip(inner);
    } else at += sizes[type];
  };
  const tensorCount = u64(), kvCount = u64();
  const kv = new Map<string, { typeAt: number; valueAt: number }>();
  for (let i = 0; i < kvCount; i++) {
    const key = str(), typeAt = at, type = v.getUint32(at, true);
    at += 4;
    kv.set(key, { typeAt, valueAt: at });
    skip(type);
  }
  const tensors: { name: string; dimsAt: number; typeAt: number; offsetAt: number }[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = str(), n = v.getUint32(at, true);
    at += 4;
    const dimsAt = at;
    at += 8 * n;
    tensors.push({ name, dimsAt, typeAt: at, offsetAt: at + 4 });
    at += 12;
  }
  return { tensorCount, kvCount, kv, tensors, end: at };
}

Deno.test("fuzz: GGUF files: magic, version, counts, metadata, tensor tables and truncation", async () => {
  const f = fuzzer("gguf"), t = tally();
  const original = await Deno.readFile(await dataPath("models/stories260K.gguf"));
  const layout = ggufLayout(original);
  assert.equal(layout.tensors.length, layout.tensorCount);
  const cases: { label: string; bytes: Uint8Array }[] = [];
  const edit = (label: string, fn: (b: Uint8Array, v: DataView) => void) => {
    const bytes = original.slice();
    fn(bytes, new DataView(bytes.buffer));
    cases.push({ label, bytes });
  };
  edit("magic", (b) => b.set([0x47, 0x47, 0x55, 0x58], 0));
  for (const version of [0, 1, 2, 4, 0xffffffff, 0x03000000]) {
    edit(`version ${version}`, (_, v) => v.setUint32(4, version, true));
  }
  for (
    const n of [
      0n,
      BigInt(layout.tensorCount - 1),
      BigInt(layout.tensorCount + 1),
      2n ** 40n,
      2n ** 63n,
    ]
  ) {
    edit(`tensor count ${n}`, (_, v) => v.setBigUint64(8, n, true));
  }
  for (const n of [0n, BigInt(layout.kvCount - 1), BigInt(layout.kvCount + 3), 2n ** 40n]) {
    edit(`metadata count ${n}`, (_, v) => v.setBigUint64(16, n, true));
  }
  for (
    const key of [
      "llama.embedding_length",
      "llama.block_count",
      "llama.attention.head_count",
      "llama.attention.head_count_kv",
      "llama.context_length",
      "llama.feed_forward_length",
      "tokenizer.ggml.bos_token_id",
    ]
  ) {
    const entry = layout.kv.get(key);
    if (!entry) continue;
    for (const value of [0, 1, 3, 7, 2 ** 31, 0xffffffff]) {
      edit(`${key} = ${value}`, (_, v) => v.setUint32(entry.valueAt, value, true));
    }
    for (const type of [6, 8, 9, 13, 0xffff]) {
      edit(`${key} of type ${type}`, (_, v) => v.setUint32(entry.typeAt, type, true));
    }
  }
  for (let k = 0; k < 20; k++) {
    const tensor = f.pick(layout.tensors);
    const what = f.int(3);
    if (what === 0) {
      const value = f.pick([0n, 1n, 7n, 2n ** 32n, 2n ** 62n]);
      edit(`${tensor.name} dim 0 = ${value}`, (_, v) => v.setBigUint64(tensor.dimsAt, value, true));
    } else if (what === 1) {
      const type = f.pick([1, 2, 8, 30, 99, 0xffffffff]);
      edit(`${tensor.name} type ${type}`, (_, v) => v.setUint32(tensor.typeAt, type, true));
    } else {
      const offset = f.pick([BigInt(original.length), BigInt(original.length) * 2n, 2n ** 63n, 1n]);
      edit(
        `${tensor.name} offset ${offset}`,
        (_, v) => v.setBigUint64(tensor.offsetAt, offset, true),
      );
    }
  }
  for (let k = 0; k < 6; k++) {
    const tensor = f.pick(layout.tensors.filter((x) => x.name.includes("weight")));
    edit(`NaN in ${tensor.name}`, (b, v) => {
      const start = Math.ceil(layout.end / 32) * 32 + Number(v.getBigUint64(tensor.offsetAt, true));
      v.setFloat32(start + 4 * f.int(8), f.pick([NaN, Infinity, -Infinity]), true);
      void b;
    });
  }
  for (
    const n of [
      0,
      3,
      8,
      16,
      24,
      200,
      layout.end - 10,
      layout.end + 100,
      original.length - 4,
      f.int(original.length),
    ]
  ) {
    cases.push({ label: `first ${n} bytes`, bytes: original.slice(0, n) });
  }
  for (let k = 0; k < 12; k++) {
    const bytes = original.slice(), at = f.int(layout.end);
    bytes[at] = f.int(256);
    cases.push({ label: `header byte ${at} = ${bytes[at]}`, bytes });
  }
  const dir = await Deno.makeTempDir({ prefix: "brainorg-fuzz-gguf-" });
  try {
    const path = join(dir, "model.gguf");
    await Deno.writeFile(path, original);
    await verdict(t, "as published", path, () => readGgufLlama(path));
    for (const c of cases) {
      await Deno.writeFile(path, c.bytes);
      await verdict(t, c.label, path, () => readGgufLlama(path), (m) => {
        const { dim, heads, kvHeads, layers } = m.config;
        assert.ok(dim % heads === 0 && heads % kvHeads === 0 && layers >= 1);
        assert.equal(m.embedding.length, m.config.vocabSize * dim);
        for (const l of m.layers) assert.ok(l.down.every(Number.isFinite));
        assert.ok(m.vocab.bos < m.config.vocabSize);
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  report("gguf", t);
  assert.ok(t.accepted >= 2 && t.refused > 60, describeTally(t));
});

Deno.test("fuzz: the SentencePiece tokenizer takes any text: ids inside the vocabulary, decoding never throws", async () => {
  const { createTokenizer } = await import("@brainorg/models");
  const f = fuzzer("tokenizer");
  const { vocab } = await readGgufLlama(await dataPath("models/stories260K.gguf"));
  const tokenizer = createTokenizer(vocab);
  const pools = [
    [0x20, 0x7e],
    [0x00, 0x1f],
    [0x80, 0x2ff],
    [0x590, 0x6ff], // Hebrew, Arabic
    [0x200b, 0x206f], // zero-width and bidirectional controls
    [0xd800, 0xdfff], // lone surrogates
    [0x1f300, 0x1faff], // emoji
  ];
  for (let k = 0; k < 200; k++) {
    let text = "";
    for (let n = f.int(40); n > 0; n--) {
      const [lo, hi] = f.pick(pools);
      text += String.fromCodePoint(lo + f.int(hi - lo + 1));
    }
    const ids = tokenizer.encode(text);
    assert.ok(
      ids.every((id) => Number.isInteger(id) && id >= 0 && id < vocab.pieces.length),
      `ids of ${JSON.stringify(text)}`,
    );
    assert.equal(ids[0], vocab.bos);
    assert.equal(typeof tokenizer.decode(ids), "string");
    for (const id of ids) assert.equal(typeof tokenizer.piece(id), "string");
  }
  // Printable ASCII survives the round trip.
  assert.equal(
    tokenizer.decode(tokenizer.encode("Once upon a time, 42 ~ rabbits!")),
    "Once upon a time, 42 ~ rabbits!",
  );
});

Deno.test({
  name:
    "a story whose words overflow the model's context is an input error naming the model, on both engines",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const { captureWords, captureWordsFramed, createTokenizer } = await import("@brainorg/models");
  const path = await dataPath("models/stories260K.gguf");
  const model = await readGgufLlama(path);
  // Three words of 400 characters, spelled byte by byte: over the model's 2,048 tokens.
  const words = ["Alice", "ж".repeat(400), "ы".repeat(400), "ф".repeat(400), "was"];
  assert.throws(
    () => captureWords(model, createTokenizer(model.vocab), words, { context: 5 }),
    (e: unknown) =>
      e instanceof InputError && e.file === path && /words 1–5/.test(e.field ?? "") &&
      /more tokens than the model's context/.test(e.message),
  );
  const dir = await Deno.makeTempDir({ prefix: "brainorg-fuzz-context-" });
  try {
    await writeHfLlama(join(dir, "hf"), model);
    const hf = await openHfModel(join(dir, "hf"));
    await assert.rejects(
      () => captureWordsFramed(hf.onnx, hf.tokenizeWord, hf.frame, words, { context: 5 }),
      (e: unknown) =>
        e instanceof InputError && /model\.onnx/.test(e.file ?? "") &&
        /more tokens than the model's context/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// --- Hugging Face folders (ONNX) ---------------------------------------------------------------

Deno.test({
  name: "fuzz: Hugging Face folders: broken config, tokenizer and graph files name the file",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const f = fuzzer("hf"), t = tally();
  const dir = await Deno.makeTempDir({ prefix: "brainorg-fuzz-hf-" });
  try {
    const model = await readGgufLlama(await dataPath("models/stories260K.gguf"));
    const folder = join(dir, "hf");
    await writeHfLlama(folder, model);
    const files = [
      "config.json",
      "tokenizer.json",
      "tokenizer_config.json",
      join("onnx", "model.onnx"),
    ];
    const originals = new Map(
      await Promise.all(files.map(async (n) => [n, await Deno.readFile(join(folder, n))] as const)),
    );
    const enc = new TextEncoder();
    const config = JSON.parse(new TextDecoder().decode(originals.get("config.json")!));
    const tensors = (await openHfModel(folder)).onnx.tensors.map((x) => x.tensor);
    const cases: [string, string, Uint8Array | null][] = [
      ["config.json", "not JSON", enc.encode("{ nope")],
      ["config.json", "null", enc.encode("null")],
      ["config.json", "an array", enc.encode("[1]")],
      [
        "config.json",
        "context 0",
        enc.encode(JSON.stringify({ ...config, max_position_embeddings: 0 })),
      ],
      [
        "config.json",
        "context as text",
        enc.encode(JSON.stringify({ ...config, max_position_embeddings: "512" })),
      ],
      ["config.json", "missing", null],
      ["tokenizer.json", "empty object", enc.encode("{}")],
      [
        "tokenizer.json",
        "an unknown model",
        enc.encode(JSON.stringify({ model: { type: "Nope" } })),
      ],
      ["tokenizer.json", "truncated", originals.get("tokenizer.json")!.slice(0, 500)],
      ["tokenizer_config.json", "not JSON", enc.encode("{")],
      ["tokenizer_config.json", "absent (optional)", null],
      [join("onnx", "model.onnx"), "empty", new Uint8Array()],
      [
        join("onnx", "model.onnx"),
        "truncated",
        originals.get(join("onnx", "model.onnx"))!.slice(0, 3000),
      ],
      [join("onnx", "model.onnx"), "noise", Uint8Array.from({ length: 4000 }, () => f.int(256))],
      [join("onnx", "model.onnx"), "missing", null],
    ];
    for (const [name, label, bytes] of cases) {
      const path = join(folder, name);
      if (bytes) await Deno.writeFile(path, bytes);
      else await Deno.remove(path);
      // As the model, as its random-weights control, and with its tensors named.
      for (const options of [{}, { randomSeed: 2 }, { tensors }]) {
        await verdict(
          t,
          `${name}: ${label} (${Object.keys(options).join() || "default"})`,
          name.split("/").pop()!,
          () => openHfModel(folder, options),
          (m) => assert.ok(m.layers >= 1 && m.tokenizeWord("Alice").length >= 1),
        );
      }
      await Deno.writeFile(path, originals.get(name)!);
    }
    report("hf", t);
    assert.ok(t.accepted >= 3 && t.refused >= 36, describeTally(t));
    // A damaged rewritten graph in the cache is rewritten, with a warning.
    const cacheDir = join(dir, "cache"), warnings: string[] = [];
    const open = () => openHfModel(folder, { cacheDir, warn: (l) => warnings.push(l) });
    await open();
    const [graph] = [...Deno.readDirSync(join(cacheDir, "onnx"))].map((e) =>
      join(cacheDir, "onnx", e.name)
    );
    const good = await Deno.readFile(graph);
    await Deno.writeFile(graph, good.slice(0, 1000));
    const reopened = await open();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /the cached graph .* is not usable .*; rewriting it/);
    assert.deepEqual(await Deno.readFile(graph), good);
    assert.equal(reopened.layers, model.config.layers);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// --- Caches ------------------------------------------------------------------------------

Deno.test("fuzz: a damaged activation cache entry is a miss, recomputed with a warning", async () => {
  const f = fuzzer("activation-cache");
  const dir = await Deno.makeTempDir({ prefix: "brainorg-fuzz-cache-" });
  try {
    const words = ["Alice", "was", "tired"], layers = 2, per = 3, units = layers * per;
    const fresh = () => ({
      data: Float32Array.from({ length: words.length * units }, (_, i) => i / 7 - 1),
      words: words.length,
      units,
      index: Array.from(
        { length: units },
        (_, c) => ({ layer: Math.floor(c / per), unit: c % per }),
      ),
      tokens: words.map((_, i) => [i + 5, i + 6]),
    });
    const key = { model: "sha", words, options: { context: 64 } };
    let computed = 0;
    const warnings: string[] = [];
    const run = () =>
      cachedCapture(dir, key, layers, () => (computed++, fresh()), {
        warn: (l) => warnings.push(l),
      });
    await run();
    const [entry] = [...Deno.readDirSync(dir)].map((e) => join(dir, e.name));
    const meta = JSON.parse(await Deno.readTextFile(join(entry, "meta.json")));
    const damage: [string, () => Promise<void>][] = [
      ["meta.json not JSON", () => Deno.writeTextFile(join(entry, "meta.json"), "{")],
      ["meta.json null", () => Deno.writeTextFile(join(entry, "meta.json"), "null")],
      ["meta.json deleted", () => Deno.remove(join(entry, "meta.json"))],
      ...[-1, 0, 2.5, "3", 1e12].map((u) =>
        [
          `unitsPerLayer ${u}`,
          () =>
            Deno.writeTextFile(
              join(entry, "meta.json"),
              JSON.stringify({ ...meta, unitsPerLayer: u }),
            ),
        ] as [string, () => Promise<void>]
      ),
      [
        "tokens missing",
        () =>
          Deno.writeTextFile(
            join(entry, "meta.json"),
            JSON.stringify({ ...meta, tokens: undefined }),
          ),
      ],
      [
        "tokens wrong",
        () =>
          Deno.writeTextFile(
            join(entry, "meta.json"),
            JSON.stringify({ ...meta, tokens: [[1], ["x"], [2]] }),
          ),
      ],
      ["layer file truncated", async () => {
        const b = await Deno.readFile(join(entry, "layer_01.f32"));
        await Deno.writeFile(join(entry, "layer_01.f32"), b.slice(0, f.int(b.length)));
      }],
      ["layer file too long", async () => {
        const b = await Deno.readFile(join(entry, "layer_00.f32"));
        await Deno.writeFile(join(entry, "layer_00.f32"), new Uint8Array([...b, 0, 0, 0, 0]));
      }],
      ["layer file deleted", () => Deno.remove(join(entry, "layer_00.f32"))],
      ["NaN in a layer file", async () => {
        const b = await Deno.readFile(join(entry, "layer_01.f32"));
        new DataView(b.buffer).setFloat32(4 * f.int(b.length / 4), NaN, true);
        await Deno.writeFile(join(entry, "layer_01.f32"), b);
      }],
    ];
    for (const [label, hurt] of damage) {
      await hurt();
      const before = computed, warned = warnings.length;
      const got = await run();
      assert.equal(got.cached, false, label);
      assert.equal(computed, before + 1, `${label}: recomputed`);
      assert.equal(warnings.length, warned + 1, `${label}: one warning`);
      assert.match(warnings.at(-1)!, /cached activations in .* are not usable/);
      assert.deepEqual(got.activations.data, fresh().data);
      // Rewritten: the next run is a hit, silently.
      const again = await run();
      assert.equal(again.cached, true, `${label}: rewritten`);
      assert.equal(warnings.length, warned + 1);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fuzz: a damaged voxel result in the cache is a miss with a warning, never a crash", async () => {
  const { loadVoxelResult, saveVoxelResult } = await import("../packages/core/voxel_cache.ts");
  const dir = await Deno.makeTempDir({ prefix: "brainorg-fuzz-voxcache-" });
  try {
    const K = 2,
      V = 5,
      m = (n: number, s: number) => Float32Array.from({ length: n }, (_, i) => i * s);
    const d = (n: number) => Float64Array.from({ length: n }, (_, i) => i / 10);
    const result = {
      model: "m",
      threshold: 3.1,
      templates: [{
        name: "Yeo-7",
        matches: [{
          atom: 0,
          sign: 1 as const,
          network: 1,
          networkName: "Visual",
          voxels: 3,
          dice: 0.5,
          overlap: 0.4,
          p: 0.01,
          z: 2,
          q: 0.02,
          pFWE: 0.1,
          linked: true,
        }],
        metrics: { atoms: 2 } as never,
      }],
      subjects: [{
        id: "s1",
        r: m(V, 0.1),
        r2: m(V, 0.01),
        alpha: d(V),
        p: d(V),
        q: d(V),
        weights: { rows: K, cols: V, data: m(K * V, 1) },
        z: { rows: K, cols: V, data: m(K * V, 2) },
      }],
      group: {
        subjects: 1,
        t: { rows: K, cols: V, data: m(K * V, 3) },
        p: d(K * V),
        meanR: m(V, 0.2),
        pR: d(V),
        qR: d(V),
      },
    };
    const entry = join(dir, "entry");
    const warnings: string[] = [];
    const load = () => loadVoxelResult(entry, { warn: (l) => warnings.push(l) });
    assert.equal(await load(), null);
    assert.equal(warnings.length, 0, "an absent entry is a plain miss");
    await saveVoxelResult(entry, result as never);
    const back = await load();
    assert.deepEqual(back?.group.t.data, result.group.t.data);
    const meta = JSON.parse(await Deno.readTextFile(join(entry, "result.json")));
    const damage: [string, () => Promise<void>][] = [
      ["result.json not JSON", () => Deno.writeTextFile(join(entry, "result.json"), "{")],
      ["result.json an array", () => Deno.writeTextFile(join(entry, "result.json"), "[]")],
      [
        "K negative",
        () =>
          Deno.writeTextFile(
            join(entry, "result.json"),
            JSON.stringify({ ...meta, group: { ...meta.group, K: -1 } }),
          ),
      ],
      [
        "V huge",
        () =>
          Deno.writeTextFile(
            join(entry, "result.json"),
            JSON.stringify({ ...meta, group: { ...meta.group, V: 2 ** 40 } }),
          ),
      ],
      [
        "templates not a list",
        () =>
          Deno.writeTextFile(join(entry, "result.json"), JSON.stringify({ ...meta, templates: 3 })),
      ],
      [
        "a match without sign",
        () =>
          Deno.writeTextFile(
            join(entry, "result.json"),
            JSON.stringify({
              ...meta,
              templates: [{ ...meta.templates[0], matches: [{ atom: 0 }] }],
            }),
          ),
      ],
      [
        "subjects not a list",
        () =>
          Deno.writeTextFile(
            join(entry, "result.json"),
            JSON.stringify({ ...meta, subjects: { id: "s1" } }),
          ),
      ],
      ["a map truncated", async () => {
        const b = await Deno.readFile(join(entry, "group_t.f32"));
        await Deno.writeFile(join(entry, "group_t.f32"), b.slice(0, 7));
      }],
      ["a map deleted", () => Deno.remove(join(entry, "s0_z.f32"))],
      ["result.json deleted", () => Deno.remove(join(entry, "result.json"))],
    ];
    for (const [label, hurt] of damage) {
      await saveVoxelResult(entry, result as never);
      await hurt();
      const warned: number = warnings.length;
      assert.equal(await load(), null, label);
      assert.equal(warnings.length, warned + 1, `${label}: one warning`);
      assert.match(warnings.at(-1)!, /cached voxel results in .* are not usable/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
