import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { InputError } from "@brainorg/common";
import { createCpuBackend } from "@brainorg/kernels";
import { readNifti } from "@brainorg/neuro";
import { havePython, runPython } from "../../test/python.ts";
import { compCor, cosineBasis, dvars, framewiseDisplacement } from "./_bids_confounds.ts";
import { runFiles } from "./_phantom_bids_layout.ts";
import { captureModelAtoms } from "./capture_atoms.ts";
import { demoConfig } from "./demo.ts";
import { resolveSettings } from "./options.ts";
import { PHANTOM_BIDS_SPACE, readPhantomBidsTruth, writePhantomBids } from "./phantom_bids.ts";
import { resolveDataPaths } from "./pipeline.ts";
import { pearson } from "./stats.ts";
import { prepareStimulus } from "./stimulus.ts";
import { storiesStimulus } from "./stories.ts";

function walk(dir: string, root = dir): string[] {
  return [...Deno.readDirSync(dir)].flatMap((e) =>
    e.isDirectory ? walk(join(dir, e.name), root) : [relative(root, join(dir, e.name))]
  ).sort();
}

function readTsv(text: string): { header: string[]; rows: string[][] } {
  const [head, ...lines] = text.trimEnd().split("\n");
  return { header: head.split("\t"), rows: lines.map((l) => l.split("\t")) };
}

/** Residuals of y after least squares on the columns of x (with an intercept). */
function residuals(y: Float64Array, xs: Float64Array[]): Float64Array {
  const cols = [new Float64Array(y.length).fill(1), ...xs], p = cols.length;
  // Gram–Schmidt on the regressors, then subtract y's projection.
  const q: Float64Array[] = [];
  for (const c of cols) {
    const v = Float64Array.from(c);
    for (const b of q) {
      const d = v.reduce((s, x, i) => s + x * b[i], 0);
      v.forEach((_, i) => (v[i] -= d * b[i]));
    }
    const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    if (n > 1e-9) q.push(v.map((x) => x / n));
  }
  assert.ok(q.length <= p);
  const r = Float64Array.from(y);
  for (const b of q) {
    const d = r.reduce((s, x, i) => s + x * b[i], 0);
    r.forEach((_, i) => (r[i] -= d * b[i]));
  }
  return r;
}

Deno.test("the BIDS phantom: layout, fMRIPrep's confounds, the speech-locked artefact, headers and truth", async (t) => {
  const backend = await createCpuBackend();
  const dir = await Deno.makeTempDir();
  const root = join(dir, "mini-narratives");
  try {
    const truth = await writePhantomBids(root, backend, { subjects: 1, seed: 0 });
    const tasks = truth.stories.map((s) => s.task);

    await t.step("the layout has Narratives' and fMRIPrep's names", () => {
      const expected = [
        "README",
        "dataset_description.json",
        "participants.tsv",
        "derivatives/fmriprep/dataset_description.json",
        "derivatives/brainorg-phantom/dataset_description.json",
        "derivatives/brainorg-phantom/truth.json",
        "derivatives/brainorg-phantom/atoms.tsv",
        `derivatives/brainorg-phantom/space-${PHANTOM_BIDS_SPACE}_res-4_desc-networks_dseg.nii.gz`,
        "stimuli/gentle/alice/align.json",
        "stimuli/gentle/alice/transcript.txt",
        "stimuli/gentle/lpp/align.csv",
        "stimuli/gentle/lpp/transcript.txt",
        ...tasks.flatMap((task) => [
          `task-${task}_bold.json`,
          ...Object.values(runFiles("sub-01", task)),
        ]),
      ].sort();
      assert.deepEqual(walk(root), expected);
      assert.deepEqual(tasks, ["alice", "lpp"]);
      assert.match(
        runFiles("sub-01", "lpp").preproc,
        /^derivatives\/fmriprep\/sub-01\/func\/sub-01_task-lpp_space-MNI152NLin2009cAsym_res-4_desc-preproc_bold\.nii\.gz$/,
      );
    });

    await t.step("BIDS descriptions and events", async () => {
      const raw = JSON.parse(await Deno.readTextFile(join(root, "dataset_description.json")));
      assert.deepEqual([raw.Name, raw.BIDSVersion], [
        "mini-Narratives (brainorg phantom)",
        "1.8.0",
      ]);
      const der = JSON.parse(
        await Deno.readTextFile(join(root, "derivatives/fmriprep/dataset_description.json")),
      );
      assert.equal(der.DatasetType, "derivative");
      assert.ok(der.GeneratedBy[0].Name);
      assert.match(await Deno.readTextFile(join(root, "README")), /STAND-INS/);
      for (const s of truth.stories) {
        const ev = readTsv(await Deno.readTextFile(join(root, runFiles("sub-01", s.task).events)));
        assert.deepEqual(ev.header, ["onset", "duration", "trial_type", "stim_file"]);
        assert.deepEqual(ev.rows.map((r) => Number(r[0])), [6]);
        // Enough volumes for the story and 20 s of the HRF's tail, no more.
        assert.ok(
          s.volumes * 2 >= 6 + s.duration + 20 && (s.volumes - 1) * 2 < 6 + s.duration + 20,
        );
      }
    });

    await t.step("the grid and the TR in the NIfTI headers agree with the sidecars", async () => {
      for (const s of truth.stories) {
        const f = runFiles("sub-01", s.task);
        const sidecar = JSON.parse(await Deno.readTextFile(join(root, `task-${s.task}_bold.json`)));
        assert.deepEqual([sidecar.TaskName, sidecar.RepetitionTime], [s.task, 2]);
        const pre = JSON.parse(await Deno.readTextFile(join(root, f.preprocJson)));
        assert.equal(pre.RepetitionTime, sidecar.RepetitionTime);
        const bold = await readNifti(join(root, f.preproc));
        assert.deepEqual(bold.shape, [45, 54, 45, s.volumes]);
        assert.equal(bold.tr, sidecar.RepetitionTime);
        assert.deepEqual([bold.affine[0], bold.affine[5], bold.affine[10]].map(Math.abs), [
          4,
          4,
          4,
        ]);
        const mask = await readNifti(join(root, f.mask));
        assert.deepEqual(mask.shape, [45, 54, 45]);
        assert.deepEqual(Array.from(mask.affine), Array.from(bold.affine));
        assert.equal(mask.data.reduce((a, v) => a + (v > 0 ? 1 : 0), 0), truth.voxels);
        const stand = await readNifti(join(root, f.rawBold));
        assert.deepEqual([stand.shape, stand.tr], [[2, 2, 2, s.volumes], 2]);
      }
    });

    const confounds = async (task: string) =>
      readTsv(await Deno.readTextFile(join(root, runFiles("sub-01", task).confounds)));

    await t.step(
      "the confounds have fMRIPrep's columns, with n/a where fMRIPrep puts it",
      async () => {
        for (const s of truth.stories) {
          const { header, rows } = await confounds(s.task);
          assert.equal(rows.length, s.volumes);
          const motion = ["trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z"];
          const required = [
            ...[...motion, "white_matter", "csf", "global_signal"].flatMap((c) => [
              c,
              `${c}_derivative1`,
              `${c}_power2`,
              `${c}_derivative1_power2`,
            ]),
            ...Array.from({ length: 6 }, (_, i) => `a_comp_cor_0${i}`),
            ...Array.from({ length: 3 }, (_, i) => `t_comp_cor_0${i}`),
            "cosine00",
            "framewise_displacement",
            "std_dvars",
            "dvars",
          ];
          for (const c of required) assert.ok(header.includes(c), `${s.task}: column ${c}`);
          assert.ok(!header.some((c) => c.startsWith("non_steady_state_outlier")));
          // nilearn's cosine_drift at 128 s: ⌊2 T TR / 128⌋ − 1 columns.
          const cosines = header.filter((c) => c.startsWith("cosine")).length;
          assert.equal(cosines, Math.floor((2 * s.volumes * 2) / 128) - 1);
          const firstNa = header.filter((_, j) => rows[0][j] === "n/a").sort();
          assert.deepEqual(
            firstNa,
            header.filter((c) =>
              c.includes("derivative1") ||
              ["framewise_displacement", "std_dvars", "dvars"].includes(c)
            ).sort(),
          );
          assert.ok(rows.slice(1).every((r) => r.every((v) => v !== "n/a" && Number.isFinite(+v))));
          // FD from the table's own motion columns (Power et al., 50 mm).
          const col = (c: string) => Float64Array.from(rows, (r) => Number(r[header.indexOf(c)]));
          const m = motion.map(col);
          const fd = col("framewise_displacement");
          for (let i = 1; i < rows.length; i++) {
            const want = m.reduce((a, x, c) => a + (c < 3 ? 1 : 50) * Math.abs(x[i] - x[i - 1]), 0);
            assert.ok(Math.abs(fd[i] - want) < 1e-9 * Math.max(1, want));
          }
        }
        const sidecar = JSON.parse(
          await Deno.readTextFile(join(root, runFiles("sub-01", "alice").confoundsJson)),
        );
        assert.equal(sidecar.a_comp_cor_00.Method, "aCompCor");
        assert.ok(sidecar.a_comp_cor_05.CumulativeVarianceExplained < 1);
      },
    );

    await t.step(
      "the pipeline's atoms on the dataset's files are the planted atoms; the artefact follows the word rate and is removed by its confounds",
      async () => {
        // The pipeline's path: the dataset's alignments → storiesStimulus → prepareStimulus → capture.
        const scratch = join(dir, "scratch");
        const section = await storiesStimulus(
          truth.stories.map((s) => ({
            story: s.task,
            transcript: join(root, s.transcript),
            tr: truth.tr,
            volumes: s.volumes,
            stimulusOffset: s.stimulusOffset,
          })),
          scratch,
        );
        const described = await demoConfig({
          ...resolveSettings("demo", {}, { scope: "analysis" }),
          phantom: false,
        });
        const { config } = await resolveDataPaths(described, {});
        const stimulus = await prepareStimulus(
          { ...config, stimulus: section },
          section.transcript,
        );
        const [model] = await captureModelAtoms(
          backend,
          stimulus,
          [{ ...config.models[0], randomControl: false }],
          { atoms: 16, targetDensity: 0.2, seed: 0 },
        );
        const planted = readTsv(
          await Deno.readTextFile(join(root, "derivatives/brainorg-phantom/atoms.tsv")),
        );
        const K = model.atoms.atoms.cols;
        assert.equal(planted.rows.length, model.atoms.atoms.rows);
        let worst = 0;
        planted.rows.forEach((r, t) => {
          for (let k = 0; k < K; k++) {
            worst = Math.max(worst, Math.abs(Number(r[2 + k]) - model.atoms.atoms.data[t * K + k]));
          }
        });
        assert.ok(worst < 1e-5, `atoms differ by ${worst}`);

        const art = truth.artefact;
        assert.ok(!truth.links.some((l) => l.network === art.network || l.atom === art.rateAtom));
        assert.deepEqual(art.confoundColumns, ["trans_z", "rot_x"]);
        const netImg = await readNifti(
          join(
            root,
            `derivatives/brainorg-phantom/space-${PHANTOM_BIDS_SPACE}_res-4_desc-networks_dseg.nii.gz`,
          ),
        );
        for (const s of truth.stories) {
          const { header, rows } = await confounds(s.task);
          const col = (c: string) => Float64Array.from(rows, (r) => Number(r[header.indexOf(c)]));
          const rate = stimulus.rate.subarray(s.rows[0], s.rows[1]);
          const series = art.confoundColumns.map(col);
          const centred = series.map((x) => {
            const mu = x.reduce((a, b) => a + b, 0) / x.length;
            const sd = Math.sqrt(x.reduce((a, b) => a + (b - mu) ** 2, 0) / x.length);
            return x.map((v) => (v - mu) / sd);
          });
          const artefact = centred[0].map((v, i) => v + centred[1][i]);
          assert.ok(pearson(artefact, rate) > 0.3, `${s.task}: artefact ~ word rate`);
          assert.ok(pearson(series[0], rate) > 0.3, `${s.task}: trans_z ~ word rate`);
          // The artefact network's mean BOLD follows the artefact, and not once it is regressed out.
          const bold = await readNifti(join(root, runFiles("sub-01", s.task).preproc));
          const n = netImg.data.length;
          const mean = (label: number) =>
            Float64Array.from({ length: s.volumes }, (_, t) => {
              let sum = 0, count = 0;
              for (let i = 0; i < n; i++) {
                if (netImg.data[i] === label) (sum += bold.data[t * n + i]), count++;
              }
              return sum / count;
            });
          const limbic = mean(art.network + 1);
          assert.ok(pearson(limbic, artefact) > 0.3, `${s.task}: network BOLD ~ artefact`);
          const cleaned = residuals(limbic, series);
          assert.ok(
            Math.abs(pearson(cleaned, artefact)) < 0.1,
            `${s.task}: removed by trans_z, rot_x`,
          );
          // A driven network carries no artefact: regressing motion barely changes it.
          const other = mean(truth.links[0].network + 1);
          assert.ok(Math.abs(pearson(other, artefact)) < 0.3);
        }
      },
    );

    await t.step("truth.json round-trips", async () => {
      assert.deepEqual(await readPhantomBidsTruth(root), truth);
      assert.equal(truth.schema, "brainorg.phantom-bids/1");
      assert.deepEqual(truth.stories.map((s) => s.rows), [
        [0, truth.stories[0].volumes],
        [truth.stories[0].volumes, truth.volumes],
      ]);
    });
  } finally {
    backend.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the BIDS phantom refuses a folder that holds something else, and leaves it as it was", async () => {
  const backend = await createCpuBackend();
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "dataset_description.json"), '{"Name": "mine"}');
    await assert.rejects(
      () => writePhantomBids(dir, backend, { subjects: 1 }),
      (err: unknown) =>
        err instanceof InputError && /holds something else than a phantom/.test(err.message) &&
        /dataset_description\.json/.test(err.message),
    );
    assert.deepEqual(walk(dir), ["dataset_description.json"]);
  } finally {
    backend.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

const REFERENCE = `
import json, sys, numpy as np
d = json.load(open(sys.argv[1]))
T, V = d["T"], d["V"]
x = np.array(d["x"], dtype=np.float64).reshape(T, V)
m = np.array(d["motion"]).reshape(T, 6)
# Power's FD
dm = np.abs(np.diff(m, axis=0)); dm[:, 3:] *= 50
fd = dm.sum(1)
# nipype's compute_dvars (intensity normalization to a median of 1000)
f = x.T / np.median(x) * 1000
sd = (np.percentile(f, 75, axis=1) - np.percentile(f, 25, axis=1)) / 1.349
c = f - f.mean(1, keepdims=True)
ar1 = (c[:, 1:] * c[:, :-1]).sum(1) / (c * c).sum(1)
diff_sd_mean = (np.sqrt(2 * (1 - ar1)) * sd).mean()
dv = np.sqrt(np.square(np.diff(f, axis=1)).mean(0))
# nilearn's cosine_drift at 128 s, without its constant
n = np.arange(T); order = int(np.floor(2 * T * 2 / 128))
cos = np.array([np.sqrt(2.0 / T) * np.cos(np.pi / T * (n + .5) * k) for k in range(1, order)])
# nipype's CompCor: cosine high-pass (with the mean), variance normalization, SVD
B = np.column_stack([np.ones(T) / np.sqrt(T)] + list(cos))
r = x - B @ (B.T @ x)
r = r / r.std(0)
u, s, vt = np.linalg.svd(r, full_matrices=False)
print(json.dumps({"fd": fd.tolist(), "dvars": dv.tolist(), "std": (dv / diff_sd_mean).tolist(),
  "cos": cos.tolist(), "u": u[:, :4].T.tolist(), "s": s[:4].tolist(),
  "var": (s[:4] ** 2 / (s ** 2).sum()).tolist()}))
`;

Deno.test({
  name: "FD, DVARS, the cosine basis and CompCor agree with numpy (Power, nipype, nilearn)",
  ignore: !havePython(["numpy"], "BIDS phantom confounds against numpy"),
  fn: async () => {
    const T = 90, V = 300;
    let seed = 3;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    // Voxels sharing three slow components, plus noise, around 500.
    const comps = Array.from(
      { length: 3 },
      (_, c) =>
        Float64Array.from({ length: T }, (_, t) => Math.sin((t + 5 * c) / (4 + 3 * c)) + rand()),
    );
    const x = new Float32Array(T * V);
    for (let v = 0; v < V; v++) {
      const w = comps.map(() => rand() * 3);
      for (let t = 0; t < T; t++) {
        x[t * V + v] = 500 + comps.reduce((a, c, k) => a + w[k] * c[t], 0) + rand();
      }
    }
    const motion = Float64Array.from({ length: T * 6 }, () => rand() * 0.1);
    const dir = await Deno.makeTempDir();
    try {
      const file = join(dir, "in.json");
      await Deno.writeTextFile(file, JSON.stringify({ T, V, x: [...x], motion: [...motion] }));
      const ref = await runPython<Record<string, number[] & number[][]>>(REFERENCE, [file]);
      const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) => {
        assert.equal(a.length, b.length, what);
        for (let i = 0; i < a.length; i++) {
          assert.ok(Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(b[i])), `${what}[${i}]`);
        }
      };
      close(framewiseDisplacement(motion, T).subarray(1), ref.fd, 1e-12, "fd");
      const dv = dvars(x, T, V);
      close(dv.dvars.subarray(1), ref.dvars, 1e-5, "dvars");
      close(dv.std.subarray(1), ref.std, 1e-5, "std_dvars");
      const cos = cosineBasis(T, 2);
      assert.equal(cos.length, ref.cos.length);
      cos.forEach((b, k) => close(b, ref.cos[k], 1e-12, `cosine${k}`));
      const backend = await createCpuBackend();
      try {
        const cc = await compCor(backend, x, { volumes: T, voxels: V, components: 4, tr: 2 });
        close(cc.singularValues, ref.s, 1e-3, "singular values");
        close(cc.varianceExplained, ref.var, 1e-3, "variance explained");
        for (let j = 0; j < 4; j++) {
          const mine = Float64Array.from({ length: T }, (_, t) => cc.components[t * 4 + j]);
          // Singular vectors are defined up to sign.
          assert.ok(Math.abs(pearson(mine, ref.u[j])) > 0.999, `component ${j}`);
        }
      } finally {
        backend.dispose();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
