import assert from "node:assert/strict";
import { mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { InputError } from "@brainorg/common";
import { havePython, runPython } from "../../test/python.ts";
import { identityAffine } from "./affine.ts";
import { encodeNifti1, writeNifti } from "./nifti_write.ts";
import {
  type BidsScan,
  formatBidsListing,
  parseBidsName,
  readNiftiHeaderInfo,
  readSidecar,
  scanBids,
} from "./bids.ts";

const HAVE_NIBABEL = havePython(["numpy", "nibabel"], "NIfTI header fields against nibabel");
const MNI = "space-MNI152NLin2009cAsym_res-2";
const DERIV = "derivatives/fmriprep";

async function put(path: string, content: string | Uint8Array | object): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const data = typeof content === "string" || content instanceof Uint8Array
    ? content
    : JSON.stringify(content);
  await writeFile(path, data);
}

/** A 4×4×4×volumes float32 series (TR in pixdim[4]), `.nii` or `.nii.gz` by the name. */
async function bold(path: string, volumes = 10, tr = 1.5): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const data = new Float32Array(64 * volumes).map((_, i) => (i * 7919) % 101);
  await writeNifti(path, { shape: [4, 4, 4, volumes], affine: identityAffine(), data, tr });
}

async function mask(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeNifti(
    path,
    { shape: [4, 4, 4], affine: identityAffine(), data: new Float32Array(64).fill(1) },
    { datatype: "uint8" },
  );
}

/** fMRIPrep's outputs of one run: `rel` is e.g. `sub-001/func/sub-001_task-pieman`. */
async function fmriprep(
  root: string,
  rel: string,
  o: {
    space?: string;
    volumes?: number;
    tr?: number;
    ext?: string;
    confounds?: boolean;
    mask?: boolean;
  } = {},
): Promise<string> {
  const base = join(root, DERIV, rel);
  const space = o.space ?? MNI;
  const path = `${base}_${space}_desc-preproc_bold${o.ext ?? ".nii.gz"}`;
  await bold(path, o.volumes ?? 10, o.tr ?? 1.5);
  if (o.mask ?? true) await mask(`${base}_${space}_desc-brain_mask.nii.gz`);
  if (o.confounds ?? true) {
    await put(`${base}_desc-confounds_timeseries.tsv`, "global_signal\tcsf\n1\t2\n");
    await put(`${base}_desc-confounds_timeseries.json`, {});
  }
  return path;
}

const EVENTS_HEAD = "onset\tduration\ttrial_type\tstim_file\n";

/**
 * A mini Narratives (see the brief's layout): 8 subjects, tasks pieman,
 * lucy, tunnel; one run per problem the scanner must report.
 */
async function miniNarratives(root: string): Promise<void> {
  await put(join(root, "dataset_description.json"), { Name: "mini", BIDSVersion: "1.9.0" });
  await put(join(root, "participants.tsv"), "participant_id\nsub-001\n");
  await put(join(root, "task-pieman_bold.json"), { RepetitionTime: 1.5, TaskName: "pieman" });
  await put(join(root, "task-tunnel_bold.json"), { RepetitionTime: 1.5, TaskName: "tunnel" });
  // Inherited by every pieman run without its own: the story's row is the second.
  await put(
    join(root, "task-pieman_events.tsv"),
    EVENTS_HEAD + "0\t2\tnoise\tn/a\n3\t400\tpieman\tn/a\n",
  );
  const gentle = {
    transcript: "I began",
    words: [
      { case: "success", word: "I", alignedWord: "i", start: 0.1, end: 0.3 },
      { case: "success", word: "began", alignedWord: "began", start: 0.3, end: 0.7 },
    ],
  };
  await put(join(root, "stimuli/gentle/pieman/align.json"), gentle);
  await put(join(root, "stimuli/gentle/pieman/align.csv"), "I,i,0.1,0.3\n");
  await put(join(root, "stimuli/gentle/pieman/transcript.txt"), "I began\n");
  await put(
    join(root, "stimuli/lucy.TextGrid"),
    `File type = "ooTextFile"\nObject class = "TextGrid"\n\n0\n2\n<exists>\n1\n"IntervalTier"\n"words"\n0\n2\n2\n0\n1\n"hello"\n1\n2\n"lucy"\n`,
  );
  await put(join(root, DERIV, "dataset_description.json"), {
    Name: "fMRIPrep",
    DatasetType: "derivative",
  });

  const raw = async (rel: string, tr?: number) =>
    await bold(join(root, `${rel}_bold.nii.gz`), 10, tr);
  // sub-001: everything; its own events (story row named by stim_file); a T1w output too.
  await raw("sub-001/func/sub-001_task-pieman");
  await put(
    join(root, "sub-001/func/sub-001_task-pieman_events.tsv"),
    EVENTS_HEAD + "2\t5\tnoise\tn/a\n12\t400\tstory\tpieman_audio.wav\n",
  );
  await fmriprep(root, "sub-001/func/sub-001_task-pieman");
  await fmriprep(root, "sub-001/func/sub-001_task-pieman", { space: "space-T1w" });
  // sub-002: sidecars at three levels; the func-level one sets TR 1.0 s.
  await raw("sub-002/func/sub-002_task-pieman", 1);
  await put(join(root, "sub-002/sub-002_task-pieman_bold.json"), {
    RepetitionTime: 3,
    SliceTiming: [0, 0.5],
  });
  await put(join(root, "sub-002/func/sub-002_task-pieman_bold.json"), { RepetitionTime: 1.0 });
  await fmriprep(root, "sub-002/func/sub-002_task-pieman", { tr: 1 });
  // sub-003: no confounds.
  await raw("sub-003/func/sub-003_task-pieman");
  await fmriprep(root, "sub-003/func/sub-003_task-pieman", { confounds: false });
  // sub-004: the preprocessed BOLD is cut short (an interrupted download).
  await raw("sub-004/func/sub-004_task-pieman");
  const cut = await fmriprep(root, "sub-004/func/sub-004_task-pieman");
  const whole = await readFile(cut);
  await writeFile(cut, whole.subarray(0, whole.length - 400));
  // sub-005: only a T1w output.
  await raw("sub-005/func/sub-005_task-pieman");
  await fmriprep(root, "sub-005/func/sub-005_task-pieman", { space: "space-T1w" });
  // sub-006: two sessions, runs; events inherited from the top level.
  for (const [ses, run, volumes] of [["1", "1", 10], ["1", "2", 12], ["2", "1", 10]] as const) {
    const rel = `sub-006/ses-${ses}/func/sub-006_ses-${ses}_task-pieman_run-${run}`;
    await raw(rel);
    await fmriprep(root, rel, { volumes });
  }
  // sub-007: lucy without raw BOLD, sidecars, events or mask (TR from the header, .nii);
  // tunnel without transcript.
  await fmriprep(root, "sub-007/func/sub-007_task-lucy", {
    space: "space-MNI152NLin2009cAsym",
    tr: 2,
    ext: ".nii",
    mask: false,
  });
  await raw("sub-007/func/sub-007_task-tunnel");
  await fmriprep(root, "sub-007/func/sub-007_task-tunnel");
  // sub-008: a good run and two misnamed files.
  await raw("sub-008/func/sub-008_task-pieman");
  await fmriprep(root, "sub-008/func/sub-008_task-pieman");
  await bold(join(root, "sub-008/func/sub-009_task-pieman_bold.nii.gz"));
  await bold(join(root, "sub-008/func/pieman_bold.nii.gz"));
}

async function withDataset(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "brainorg-bids-" });
  try {
    await miniNarratives(root);
    await fn(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function verdictOf(scan: BidsScan, unit: string) {
  const v = scan.verdicts.find((x) => x.unit === unit);
  assert.ok(v, `no verdict for ${unit}: ${scan.verdicts.map((x) => x.unit).join(", ")}`);
  return v;
}

Deno.test("parseBidsName: entities in BIDS order, suffix, extension; non-BIDS names", () => {
  const n = parseBidsName(
    "sub-001_task-pieman_space-MNI152NLin2009cAsym_res-2_desc-preproc_bold.nii.gz",
  );
  assert.deepEqual(n, {
    entities: {
      sub: "001",
      task: "pieman",
      space: "MNI152NLin2009cAsym",
      res: "2",
      desc: "preproc",
    },
    suffix: "bold",
    extension: ".nii.gz",
  });
  // Written out of order: listed in BIDS order (rec before dir, run after both).
  const o = parseBidsName("task-x_run-2_dir-AP_sub-01_rec-mag_from-T1w_bold.json")!;
  assert.deepEqual(Object.keys(o.entities), ["sub", "task", "rec", "dir", "run", "from"]);
  assert.deepEqual(parseBidsName("task-pieman_bold.json")?.entities, { task: "pieman" });
  assert.equal(
    parseBidsName("sub-01_task-x_space-fsLR_den-91k_bold.dtseries.nii")?.extension,
    ".dtseries.nii",
  );
  for (
    const bad of [
      "pieman_audio.wav", // parts without key-value
      "sub-01_task-pie_man_bold.nii.gz", // "man" is no key-value pair
      "sub-01_task-alice_bold", // no extension
      "sub-01_sub-02_bold.nii", // a key twice
      "sub-01__bold.nii",
      "sub-01_task-al-ice_bold.nii", // a dash in a value
      "sub-_task-x_bold.nii", // empty value
      "sub-01_task-x_bo-ld.nii", // suffix with a dash
      ".DS_Store",
      "sub-01_task-x_bold.nii.",
    ]
  ) assert.equal(parseBidsName(bad), undefined, bad);
});

Deno.test("readSidecar: top level, subject, func folder; closer overrides farther", async () => {
  await withDataset(async (root) => {
    const file = join(root, "sub-002/func/sub-002_task-pieman_bold.nii.gz");
    const s = await readSidecar(root, file);
    assert.deepEqual(s.metadata, {
      RepetitionTime: 1.0,
      TaskName: "pieman",
      SliceTiming: [0, 0.5],
    });
    assert.deepEqual(s.files, [
      join(root, "task-pieman_bold.json"),
      join(root, "sub-002/sub-002_task-pieman_bold.json"),
      join(root, "sub-002/func/sub-002_task-pieman_bold.json"),
    ]);
    // Another subject inherits only the top level; another task's sidecar never applies.
    const other = await readSidecar(
      root,
      join(root, "sub-003/func/sub-003_task-pieman_bold.nii.gz"),
    );
    assert.deepEqual(other, {
      metadata: { RepetitionTime: 1.5, TaskName: "pieman" },
      files: [join(root, "task-pieman_bold.json")],
    });
    // Within one folder the file with more entities wins.
    await put(join(root, "sub-003/func/sub-003_bold.json"), { RepetitionTime: 9, Echo: 1 });
    await put(join(root, "sub-003/func/sub-003_task-pieman_bold.json"), { RepetitionTime: 2.5 });
    const same = await readSidecar(
      root,
      join(root, "sub-003/func/sub-003_task-pieman_bold.nii.gz"),
    );
    assert.equal(same.metadata.RepetitionTime, 2.5);
    assert.equal(same.metadata.Echo, 1);
    // Errors name the file.
    await assert.rejects(readSidecar(root, join(root, "sub-003/func/pie_man.nii")), InputError);
    await assert.rejects(
      readSidecar(join(root, "sub-003"), join(root, "sub-001/x_bold.nii")),
      InputError,
    );
    await put(join(root, "sub-005/sub-005_task-pieman_bold.json"), "{ not json");
    await assert.rejects(
      readSidecar(root, join(root, "sub-005/func/sub-005_task-pieman_bold.nii.gz")),
      (e) =>
        e instanceof InputError && e.file === join(root, "sub-005/sub-005_task-pieman_bold.json"),
    );
  });
});

Deno.test("readNiftiHeaderInfo: header, TR, truncation by size, ISIZE and inflating", async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-nifti-header-" });
  try {
    const img = {
      shape: [4, 4, 4, 10],
      affine: identityAffine(),
      data: new Float32Array(640).map((_, i) => i),
      tr: 1.5,
    };
    const plain = encodeNifti1(img, { gzip: false });
    const expected = 352 + 640 * 4;
    assert.equal(plain.length, expected);
    await writeFile(join(dir, "a.nii"), plain);
    await writeFile(join(dir, "a.nii.gz"), encodeNifti1(img));
    await writeFile(join(dir, "cut.nii"), plain.subarray(0, expected - 100));
    const gz = encodeNifti1(img);
    await writeFile(join(dir, "cut.nii.gz"), gz.subarray(0, gz.length - 200));
    // Two gzip members (pigz --independent, or files concatenated): the trailer holds the last only.
    await writeFile(
      join(dir, "multi.nii.gz"),
      new Uint8Array([...gzipSync(plain.subarray(0, 1000)), ...gzipSync(plain.subarray(1000))]),
    );

    for (const f of ["a.nii", "a.nii.gz"]) {
      const h = await readNiftiHeaderInfo(join(dir, f));
      assert.deepEqual(h.dims, [4, 4, 4, 10]);
      assert.deepEqual(h.pixdim, [1, 1, 1, 1.5]);
      assert.equal(h.tr, 1.5);
      assert.equal(h.timeUnit, "s");
      assert.equal(h.volumes, 10);
      assert.equal(h.voxOffset, 352);
      assert.equal(h.datatype.name, "float32");
      assert.equal(h.gzip, f.endsWith(".gz"));
      assert.equal(h.size.status, "complete");
      assert.equal(h.size.method, f.endsWith(".gz") ? "gzip ISIZE" : "file size");
    }
    const cut = await readNiftiHeaderInfo(join(dir, "cut.nii"));
    assert.deepEqual([cut.size.status, cut.size.found, cut.size.expected], [
      "truncated",
      expected - 100,
      expected,
    ]);
    const cutGz = await readNiftiHeaderInfo(join(dir, "cut.nii.gz"));
    assert.equal(cutGz.size.status, "truncated");
    assert.equal(cutGz.size.method, "inflated");
    assert.ok(cutGz.size.found! < expected);
    const multi = await readNiftiHeaderInfo(join(dir, "multi.nii.gz"));
    assert.deepEqual([multi.size.status, multi.size.method, multi.size.found], [
      "complete",
      "inflated",
      expected,
    ]);
    const unsure = await readNiftiHeaderInfo(join(dir, "multi.nii.gz"), {
      inflateWhenUnsure: false,
    });
    assert.equal(unsure.size.status, "not checked");
    assert.match(unsure.size.detail, /multi-member/);

    await writeFile(join(dir, "junk.nii.gz"), new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3]));
    await writeFile(join(dir, "short.nii"), plain.subarray(0, 200));
    for (const f of ["junk.nii.gz", "short.nii", "missing.nii"]) {
      await assert.rejects(
        readNiftiHeaderInfo(join(dir, f)),
        (e) => e instanceof InputError && e.file === join(dir, f),
        f,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

const NIBABEL_HEADERS = `
import json, os, sys, numpy as np, nibabel as nib
out = sys.argv[1]
cases = []
for name, klass, dt, shape, zooms, units, endian in [
    ("v2_ms.nii.gz", nib.Nifti2Image, "float32", (5, 4, 3, 7), (2.0, 2.5, 3.0, 1500.0), ("mm", "msec"), "<"),
    ("v1_be.nii.gz", nib.Nifti1Image, "int16", (3, 3, 3, 4), (3.0, 3.0, 3.0, 2.0), ("mm", "sec"), ">"),
    ("v1_3d.nii", nib.Nifti1Image, "uint8", (6, 5, 4), (1.0, 1.0, 1.0), ("mm", "unknown"), "<"),
    ("v1_us.nii", nib.Nifti1Image, "float64", (2, 2, 2, 3), (1.0, 1.0, 1.0, 720000.0), ("micron", "usec"), "<"),
]:
    hdr = klass.header_class()
    hdr.set_data_dtype(dt)
    if endian == ">":
        hdr = hdr.as_byteswapped(">")
    img = klass(np.arange(np.prod(shape)).reshape(shape).astype(dt), np.eye(4), hdr)
    img.header.set_zooms(zooms)
    img.header.set_xyzt_units(*units)
    nib.save(img, f"{out}/{name}")
    back = nib.load(f"{out}/{name}")
    h = back.header
    n = int(h["dim"][0])
    cases.append({
        "file": name,
        "dims": [int(d) for d in h["dim"][1:n + 1]],
        "pixdim": [float(p) for p in h["pixdim"][1:n + 1]],
        "units": list(h.get_xyzt_units()),
        "vox_offset": int(back.dataobj.offset),
        "datatype": int(h["datatype"]),
        "size": os.path.getsize(f"{out}/{name}"),
    })
print(json.dumps(cases))
`;

Deno.test({
  name: "readNiftiHeaderInfo reads dims, pixdim, units, offset, datatype as nibabel does",
  ignore: !HAVE_NIBABEL,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-nifti-header-nib-" });
    try {
      const cases = await runPython<
        {
          file: string;
          dims: number[];
          pixdim: number[];
          units: string[];
          vox_offset: number;
          datatype: number;
          size: number;
        }[]
      >(NIBABEL_HEADERS, [dir], ["nibabel"]);
      assert.equal(cases.length, 4);
      const unitNames: Record<string, string> = {
        sec: "s",
        msec: "ms",
        usec: "us",
        unknown: "unknown",
      };
      const toSeconds: Record<string, number> = { sec: 1, msec: 1e-3, usec: 1e-6 };
      for (const c of cases) {
        const h = await readNiftiHeaderInfo(join(dir, c.file));
        assert.deepEqual(h.dims, c.dims, c.file);
        assert.deepEqual(h.pixdim, c.pixdim, c.file);
        assert.equal(h.voxOffset, c.vox_offset, c.file);
        assert.equal(h.datatype.code, c.datatype, c.file);
        assert.equal(h.spaceUnit, c.units[0] === "micron" ? "um" : c.units[0], c.file);
        assert.equal(h.timeUnit, unitNames[c.units[1]], c.file);
        if (c.dims.length === 4) assert.equal(h.tr, c.pixdim[3] * toSeconds[c.units[1]], c.file);
        else assert.equal(h.tr, undefined, c.file);
        assert.equal(h.fileBytes, c.size, c.file);
        assert.equal(h.size.status, "complete", c.file);
        assert.equal(h.littleEndian, !c.file.includes("be"), c.file);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
});

Deno.test("scanBids: a verdict per run, the good runs with their files, TR, volumes, onset", async () => {
  await withDataset(async (root) => {
    const scan = await scanBids({ root, exclude: ["sub-006_ses-2"] });
    const d = (rel: string) => join(root, DERIV, rel);
    assert.deepEqual(scan.verdicts.map((v) => [v.unit, v.usable]), [
      ["sub-001_task-pieman", true],
      ["sub-002_task-pieman", false],
      ["sub-003_task-pieman", false],
      ["sub-004_task-pieman", false],
      ["sub-005_task-pieman", false],
      ["sub-006_ses-1_task-pieman_run-1", true],
      ["sub-006_ses-1_task-pieman_run-2", true],
      ["sub-006_ses-2_task-pieman_run-1", false],
      ["sub-007_task-lucy", true],
      ["sub-007_task-tunnel", false],
      ["pieman_bold.nii.gz", false],
      ["sub-008_task-pieman", true],
      ["sub-009_task-pieman_bold.nii.gz", false],
    ]);
    const reason = (u: string) => verdictOf(scan, u).reason;
    assert.equal(reason("sub-001_task-pieman"), "");
    assert.equal(reason("sub-002_task-pieman"), "TR 1.0 s, the task's other runs have 1.5 s");
    assert.equal(reason("sub-003_task-pieman"), "no desc-confounds_timeseries.tsv");
    assert.match(
      reason("sub-004_task-pieman"),
      /^truncated image: the gzip stream holds [\d,]+ of 2,912 bytes$/,
    );
    assert.equal(
      reason("sub-005_task-pieman"),
      "no preproc bold in space MNI152NLin2009cAsym; this run has T1w",
    );
    assert.equal(reason("sub-006_ses-2_task-pieman_run-1"), "excluded by the analysis (exclude)");
    assert.equal(
      reason("sub-007_task-lucy"),
      "no brain mask in this space; no events.tsv: stimulus onset taken as 0 s; " +
        "TR from the NIfTI header (no sidecar)",
    );
    assert.equal(
      reason("sub-007_task-tunnel"),
      "no transcript for task tunnel; no events.tsv: stimulus onset taken as 0 s",
    );
    assert.equal(
      reason("sub-009_task-pieman_bold.nii.gz"),
      "misnamed: sub-009 in the folder of sub-008",
    );
    assert.match(reason("pieman_bold.nii.gz"), /^misnamed: not a BIDS name/);
    assert.equal(verdictOf(scan, "pieman_bold.nii.gz").subject, "008");
    assert.deepEqual(verdictOf(scan, "pieman_bold.nii.gz").files, [
      join(root, "sub-008/func/pieman_bold.nii.gz"),
    ]);

    assert.deepEqual(scan.units.map((u) => u.id), [
      "sub-001_task-pieman",
      "sub-006_ses-1_task-pieman_run-1",
      "sub-006_ses-1_task-pieman_run-2",
      "sub-007_task-lucy",
      "sub-008_task-pieman",
    ]);
    const [s1, r1, r2, lucy] = scan.units;
    assert.deepEqual(s1, {
      id: "sub-001_task-pieman",
      subject: "001",
      task: "pieman",
      rawBold: join(root, "sub-001/func/sub-001_task-pieman_bold.nii.gz"),
      bold: d(`sub-001/func/sub-001_task-pieman_${MNI}_desc-preproc_bold.nii.gz`),
      space: "MNI152NLin2009cAsym",
      res: "2",
      volumes: 10,
      mask: d(`sub-001/func/sub-001_task-pieman_${MNI}_desc-brain_mask.nii.gz`),
      confounds: d("sub-001/func/sub-001_task-pieman_desc-confounds_timeseries.tsv"),
      events: join(root, "sub-001/func/sub-001_task-pieman_events.tsv"),
      stimulusOnset: 12, // the row whose stim_file names the task, not the first row
      tr: 1.5,
      transcript: join(root, "stimuli/gentle/pieman/align.json"), // JSON before CSV
    });
    assert.deepEqual([r1.session, r1.run, r1.volumes, r2.run, r2.volumes], ["1", 1, 10, 2, 12]);
    assert.equal(r1.events, join(root, "task-pieman_events.tsv")); // inherited from the top
    assert.equal(r1.stimulusOnset, 3);
    assert.equal(r1.tr, 1.5);
    assert.deepEqual(
      [lucy.tr, lucy.volumes, lucy.stimulusOnset, lucy.rawBold, lucy.mask, lucy.res],
      [2, 10, 0, undefined, undefined, undefined],
    );
    assert.equal(lucy.transcript, join(root, "stimuli/lucy.TextGrid"));
    assert.ok(
      lucy.bold.endsWith("sub-007_task-lucy_space-MNI152NLin2009cAsym_desc-preproc_bold.nii"),
    );

    assert.deepEqual(scan.tasks, ["lucy", "pieman", "tunnel"]);
    assert.deepEqual(scan.subjects, ["001", "002", "003", "004", "005", "006", "007", "008"]);
    assert.deepEqual(scan.spaces, ["MNI152NLin2009cAsym", "T1w"]);
    assert.deepEqual(scan.warnings, []);
    const pieman = scan.taskSummaries.find((t) => t.task === "pieman")!;
    assert.deepEqual(
      [pieman.tr, pieman.runs, pieman.usable, pieman.words],
      [1.5, 9, 4, 2],
    );
    assert.equal(
      scan.taskSummaries.find((t) => t.task === "tunnel")!.transcriptProblem,
      "no transcript for task tunnel (looked for stimuli/gentle/tunnel/align.json, " +
        "stimuli/gentle/tunnel/align.csv, stimuli/tunnel.TextGrid, stimuli/tunnel_align.csv)",
    );

    const listing = formatBidsListing(scan);
    assert.match(
      listing,
      /^ {2}usable {4}sub-001_task-pieman +TR 1\.5 s, 10 volumes, onset 12 s$/m,
    );
    assert.match(
      listing,
      /^ {2}EXCLUDED {2}sub-003_task-pieman +no desc-confounds_timeseries\.tsv$/m,
    );
    assert.match(
      listing,
      /^ {2}pieman +transcript stimuli\/gentle\/pieman\/align\.json \(2 words\) +TR 1\.5 s +4 of 9 runs usable$/m,
    );
    assert.match(
      listing,
      /^ {2}tunnel +NO TRANSCRIPT: \(looked for stimuli\/gentle\/tunnel\/align\.json, .*\) +TR 1\.5 s +0 of 1 run usable$/m,
    );
    assert.match(
      listing,
      /^ {2}MISNAMED {2}sub-008\/func\/sub-009_task-pieman_bold\.nii\.gz {2}misnamed: /m,
    );
    assert.match(
      listing,
      /\nTotal: 11 runs of 8 subjects and 3 tasks: 5 usable, 6 excluded; 2 misnamed files$/,
    );
    if (Deno.env.get("SHOW_LISTING")) console.log(listing);
    // A caller's verdicts (a run set aside later, a subject-level verdict) are what is counted.
    const later = formatBidsListing({
      ...scan,
      verdicts: [
        ...scan.verdicts.map((v) =>
          v.unit === "sub-008_task-pieman" ? { ...v, usable: false, reason: "12 volumes" } : v
        ),
        { unit: "sub-002", subject: "002", usable: false, reason: "lacks a usable run", files: [] },
      ],
    });
    assert.match(later, / 3 of 9 runs usable$/m);
    assert.match(later, /^ {2}EXCLUDED {2}sub-008_task-pieman +12 volumes$/m);
    assert.match(later, /\nOther verdicts \(1\):\n {2}EXCLUDED {2}sub-002 {2}lacks a usable run\n/);
    assert.match(later, /\nTotal: 11 runs of 8 subjects and 3 tasks: 4 usable, 7 excluded; /);
  });
});

Deno.test("scanBids: filters, res, requireConfounds, warnings", async () => {
  await withDataset(async (root) => {
    const some = await scanBids({
      root,
      subjects: ["001", "sub-007"],
      tasks: ["task-lucy", "pieman"],
    });
    assert.deepEqual(some.verdicts.map((v) => v.unit), [
      "sub-001_task-pieman",
      "sub-007_task-lucy",
    ]);
    assert.deepEqual([some.subjects, some.tasks], [["001", "007"], ["lucy", "pieman"]]);
    // A filtered-out subject's misnamed files are not listed; a kept one's are.
    const s8 = await scanBids({ root, subjects: ["008"] });
    assert.deepEqual(s8.verdicts.map((v) => v.unit), [
      "pieman_bold.nii.gz",
      "sub-008_task-pieman",
      "sub-009_task-pieman_bold.nii.gz",
    ]);

    const lax = await scanBids({ root, subjects: ["003"], requireConfounds: false });
    assert.deepEqual(
      lax.verdicts.map((v) => [v.unit, v.usable, v.reason]),
      [["sub-003_task-pieman", true, "no desc-confounds_timeseries.tsv"]],
    );
    assert.equal(lax.units[0].confounds, undefined);

    const native = await scanBids({
      root,
      subjects: ["001", "007"],
      res: "native",
      tasks: ["pieman", "lucy"],
    });
    assert.equal(
      verdictOf(native, "sub-001_task-pieman").reason,
      "no preproc bold in space MNI152NLin2009cAsym (res-native); this run has " +
        "MNI152NLin2009cAsym (res-2), T1w",
    );
    assert.equal(verdictOf(native, "sub-007_task-lucy").usable, true); // no res- is native

    const ex = await scanBids({
      root,
      subjects: ["001", "042"],
      exclude: ["sub-001", "sub-077_task-x"],
    });
    assert.equal(verdictOf(ex, "sub-001_task-pieman").reason, "excluded by the analysis (exclude)");
    assert.deepEqual(ex.units, []);
    assert.deepEqual(ex.warnings, [
      "subject sub-042 is not in the dataset",
      "exclude entry sub-077_task-x matches no run",
    ]);
    // The derivatives' parent given by mistake: every run lacks its preprocessed BOLD, and a
    // warning says what the folder holds.
    const parent = await scanBids({ root, derivatives: "derivatives", subjects: ["001"] });
    assert.match(parent.warnings[0], /derivatives has no sub-\* folders \(it holds fmriprep\)/);
    assert.match(parent.verdicts[0].reason, /fMRIPrep wrote no preproc bold for this run/);
    // A DataLad dataset whose BOLD was never fetched: a link to nowhere.
    const link = join(
      root,
      DERIV,
      `sub-010/func/sub-010_task-pieman_${MNI}_desc-preproc_bold.nii.gz`,
    );
    await mkdir(dirname(link), { recursive: true });
    await symlink(join(root, ".git/annex/objects/XX/missing"), link);
    const annex = await scanBids({ root, subjects: ["010"] });
    assert.match(annex.verdicts[0].reason, /^unreadable header: .* is listed but cannot be opened/);
    // An exclude entry names runs by any of their entities, in any order.
    const byRun = await scanBids({ root, subjects: ["006"], exclude: ["run-2_sub-006"] });
    assert.deepEqual(byRun.verdicts.filter((v) => !v.usable).map((v) => v.unit), [
      "sub-006_ses-1_task-pieman_run-2",
    ]);
  });
});

Deno.test("scanBids: dataset-level problems are InputErrors naming the field", async () => {
  await withDataset(async (root) => {
    const fails = async (query: Parameters<typeof scanBids>[0], field: string, found: RegExp) =>
      await assert.rejects(scanBids(query), (e) => {
        assert.ok(e instanceof InputError, String(e));
        assert.equal(e.field, field, e.message);
        assert.match(e.found ?? "", found, e.message);
        return true;
      });
    await fails({ root: join(root, "nope") }, "bids.root", /no such folder/);
    await fails({ root: join(root, "participants.tsv") }, "bids.root", /a file/);
    await fails({ root: join(root, "stimuli") }, "bids.root", /gentle\//);
    await fails({ root, derivatives: "derivatives/nope" }, "bids.derivatives", /holds fmriprep/);
    await fails({ root, subjects: ["999"] }, "bids.subjects", /subjects in the dataset: 001, 002/);
    await fails(
      { root, tasks: ["nothere"] },
      "bids.tasks",
      /tasks of the subjects scanned: lucy, pieman, tunnel/,
    );
    await fails({ root, subjects: ["a_b"] }, "bids.subjects", /"a_b"/);
    await fails({ root, exclude: ["sub-01_task"] }, "bids.exclude", /"sub-01_task"/);
    // An absolute derivatives path is taken as it is.
    const abs = await scanBids({ root, derivatives: join(root, DERIV), subjects: ["001"] });
    assert.equal(abs.units.length, 1);
  });
});
