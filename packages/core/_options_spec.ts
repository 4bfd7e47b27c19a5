/**
 * The descriptions of brainorg's options, with their precise types: the
 * analysis file's fields ({@linkcode FILE_SPEC}) and the command line's
 * options ({@linkcode OPTION_DEFS}). Private to the package: its public
 * face is `options.ts`, whose exports carry explicit types (the types here
 * are inferred, and `options_types.ts` is generated from these values and
 * checked against them).
 *
 * @module
 */

import {
  boolean,
  choice,
  type Cursor,
  custom,
  fieldAt,
  filePath,
  type Infer,
  integer,
  list,
  number,
  object,
  type Spec,
  text,
} from "./options_schema.ts";
import type { OptionName } from "./options_types.ts";

/** Where an option applies: the demo, an analysis file (`--config`), the phantom command. */
export type Mode = "demo" | "config" | "phantom";

/** How an option is used in one mode, where it differs from its value's description. */
export interface ModeUse {
  /** The default in this mode. */
  readonly default?: unknown;
  /** A stricter lower bound in this mode. */
  readonly min?: number;
  /** What the option does in this mode. */
  readonly doc?: string;
  /** The default in words, where it is computed (e.g. from the analysis file's name). */
  readonly defaultDoc?: string;
  /** The flag's name in this mode, where it differs; false: no flag, the default is used. */
  readonly flag?: string | false;
}

/**
 * `analysis`: an option that changes the results, recorded in provenance;
 * `run`: where and how a run works (folders, backend, output).
 */
export type Scope = "run" | "analysis";

/** One option of a command or of a run. */
export interface OptionDef {
  /** Its value: type, range or choices, default, doc line. */
  readonly spec: Spec;
  /** Whether it changes the results (`analysis`) or how the run works (`run`). */
  readonly scope: Scope;
  /** The command-line flag, without `--`; absent where the option has none. */
  readonly flag?: string;
  /** The flag's argument in help (`N`, `DIR`); absent for a switch. */
  readonly arg?: string;
  /** A switch that turns the option off (`--no-phantom` sets `phantom` false). */
  readonly negated?: boolean;
  /**
   * The analysis file's field (JSON path) the option is. Its value comes
   * from there; with `--config` the flag overrides the file.
   */
  readonly file?: string;
  /** The modes it applies to, each with what changes there. */
  readonly modes: Readonly<Partial<Record<Mode, ModeUse>>>;
}

/** A check across options of one mode. */
export interface ModeCheck {
  /** The mode it applies in. */
  mode: Mode;
  /** The option the error names. */
  option: OptionName;
  /** What it must be, in words (after "must be"). */
  expected: string;
  /** Whether resolved settings pass. */
  holds: (settings: Record<string, unknown>) => boolean;
}

// Upper bounds keep a typing slip (an extra digit, a wrong unit) from
// becoming an allocation of terabytes or a run of years; each is far beyond
// any real study.
const MAX_VOLUMES = 100_000;
const MAX_ATOMS = 4096;
const MAX_PERMUTATIONS = 100_000;

/** Atoms the phantom plants (the default plan of `phantom.ts`: 7 links over 7 networks). */
export const PLANTED_ATOMS = 7;

/**
 * Atoms learned from stories260K by the demo and the phantom command: its
 * 320 ANs are too few for the paper's 64.
 */
const STORIES260K_ATOMS = 16;

/**
 * nilearn's `load_confounds` presets (`load_confounds_strategy`), and none;
 * what each selects is `CONFOUND_PRESETS` in `@brainorg/neuro`, checked
 * against these names by a test.
 */
export const CONFOUND_PRESET_NAMES = ["none", "simple", "scrubbing", "compcor"] as const;
const CONFOUND_PRESET_DOC = "none; simple (motion 24, WM/CSF 2, cosine high-pass); scrubbing " +
  "(simple + volumes censored by framewise displacement and DVARS); compcor (motion 24, " +
  "anatomical CompCor, high-pass)";

/** The network template sets brainorg knows. */
export const NETWORK_CHOICES = ["yeo7", "yeo17", "giles"] as const;

const NAME = /^[A-Za-z0-9._-]+$/;
/** A name that becomes part of a results path. */
const name = (doc: string) =>
  text({
    doc,
    expected: "a name of letters, digits, . _ - (at most 100)",
    test: (s) => NAME.test(s) && s.length <= 100,
  });

/** Volumes dropped at the start (of a run or of every file). */
const discarded = (doc: string) => integer({ min: 0, max: MAX_VOLUMES, default: 0, doc });

const ONE_FILE = filePath({ doc: "a file" });
/** A file, or one file per run (a list). */
function runFiles<const O extends boolean = false>(doc: string, optional?: O) {
  const expected = "a file path, or a list of them (one per run)";
  return custom({
    doc,
    optional: optional as O,
    expected,
    tsType: "string | string[]",
    read: (v: unknown, at: Cursor): string | string[] =>
      Array.isArray(v) && v.length > 0
        ? v.map((f, i) => ONE_FILE.read(f, { ...at, path: `${at.path}[${i}]` }))
        : Array.isArray(v)
        ? at.fail(at.path, expected, v)
        : ONE_FILE.read(v, at),
  });
}

/** A Hugging Face layout: a folder, or a Hub repository fetched into the cache. */
const HF_FOLDER = filePath({ doc: "a Hugging Face layout folder" });
const HF_REPO = /^hf:[\w.-]+\/[\w.-]+(@[\w.-]+)?$/;

/**
 * The analysis file (`deno task analyze --config FILE`): a story's transcript
 * and timing, models, brain data (voxels, ROI tables or both), network
 * templates and the method's settings. Paths are relative to the file; keys
 * starting with `_` or `$` are comments. Adding a field is one entry here:
 * the reader, the type (`AnalysisFile`, generated) and the README's table
 * follow.
 */
export const FILE_SPEC = object({
  stimulus: object({
    transcript: filePath({
      doc: "the story's words with onsets: TextGrid, CSV/TSV (word,onset[,offset][,run]) or " +
        "Gentle alignment",
    }),
    tier: text({
      optional: true,
      expected: "the name of a TextGrid tier",
      test: (s) => s !== "",
      doc: "the TextGrid tier of the words (default: the tier named word or words, else the " +
        "only interval tier)",
    }),
    tr: number({ min: 0.01, max: 100, doc: "repetition time, seconds" }),
    runs: list(
      object({
        volumes: integer({ min: 1, max: MAX_VOLUMES, doc: "volumes kept for analysis" }),
        discarded: discarded("volumes acquired before those and discarded"),
        stimulusOffset: number({
          min: 0,
          max: 1e6,
          default: 0,
          doc: "scanner time (s) at which the run's audio (time 0 of the transcript) starts",
        }),
        story: text({
          optional: true,
          expected: "a name of letters, digits, . _ - (at most 100)",
          test: (s) => NAME.test(s) && s.length <= 100,
          doc: "the story the run belongs to, where runs hold several stories: each story's " +
            "words are captured on their own and cross-validation leaves one story out",
        }),
      }, { doc: "one scanner run's timing" }),
      { doc: "one entry per run of the transcript, in order" },
    ),
    hrf: choice(["spm", "glover"], { default: "spm", doc: "haemodynamic response function" }),
    method: choice(["hrf", "lanczos", "fir"], {
      default: "hrf",
      doc: "words → volumes: HRF convolution, or word features resampled onto the TR grid " +
        "(Lanczos, as Huth et al. do; with delays for FIR)",
    }),
    check: object({
      name: text({
        default: "reference",
        expected: "a short label",
        test: (s) => s !== "" && s.length <= 100,
        doc: "what the reference regressors are, for the results",
      }),
      subjects: list(
        object({
          id: name("the subject's name in the results"),
          regressor: filePath({ doc: "one value per volume (a column of text)" }),
        }, { doc: "a subject's reference regressor", expected: 'an object {"id", "regressor"}' }),
        {
          min: 1,
          tooFew: "a list of at least 1 subject",
          unique: { by: "id", expected: "a name used once" },
          doc: "the reference regressors to check the word rate against",
        },
      ),
    }, {
      optional: true,
      doc: "a check of the timing: the word-rate regressor correlated with each subject's " +
        "reference regressor (e.g. the authors' own)",
    }),
  }, {
    optional: true,
    doc: "the story as heard in the scanner (with bids: read from the dataset)",
  }),
  bids: object({
    root: filePath({ doc: "the BIDS dataset's folder (holding dataset_description.json)" }),
    derivatives: filePath({
      optional: true,
      doc: "the fMRIPrep derivatives' folder (default: <root>/derivatives/fmriprep)",
    }),
    tasks: list(name("a BIDS task (a story)"), {
      optional: true,
      unique: { expected: "a task, each named once" },
      doc: "the tasks (stories) to analyse (default: every task with preprocessed BOLD)",
    }),
    subjects: list(name("a subject label, with or without sub-"), {
      optional: true,
      unique: { expected: "a subject, each named once" },
      doc: "the subjects to analyse (default: all)",
    }),
    space: text({
      default: "MNI152NLin2009cAsym",
      expected: "a BIDS space label (e.g. MNI152NLin2009cAsym, MNI152NLin6Asym)",
      test: (s) => /^[A-Za-z0-9]+$/.test(s),
      doc: "the space of the preprocessed BOLD to use; an MNI space (templates are MNI)",
    }),
    res: text({
      optional: true,
      expected: "a BIDS res label (e.g. 2, native)",
      test: (s) => /^[A-Za-z0-9]+$/.test(s),
      doc: "the res- entity of the preprocessed BOLD, where several exist",
    }),
    exclude: list(
      text({
        expected: "sub-<label>, or a run as sub-<label>_task-<label>[_run-<index>]",
        test: (s) => /^sub-[A-Za-z0-9]+(_[a-z]+-[A-Za-z0-9]+)*$/.test(s),
        doc: "a subject or run",
      }),
      { optional: true, doc: "subjects or runs left out, e.g. after visual QC" },
    ),
    mask: filePath({
      optional: true,
      doc: "the analysis mask (default: the intersection of the subjects' brain masks)",
    }),
  }, {
    optional: true,
    doc: "a BIDS dataset with fMRIPrep derivatives: stories, subjects, runs, masks and " +
      "confounds are found by their names",
  }),
  models: list(
    object({
      name: name("the model's name in the results (its control: <name>-random)"),
      gguf: filePath({
        optional: true,
        doc: "a Llama-architecture GGUF file",
      }),
      hf: custom({
        optional: true,
        doc: "a Hugging Face layout folder (transformers.js export), or hf:owner/name[@revision] " +
          "fetched once from the Hub",
        expected: "a folder path (relative to the analysis file) or hf:owner/name[@revision]",
        tsType: "string",
        read: (v: unknown, at: Cursor): string =>
          typeof v === "string" && v.startsWith("hf:")
            ? (HF_REPO.test(v) ? v : at.fail(at.path, "hf:owner/name or hf:owner/name@revision", v))
            : HF_FOLDER.read(v, at),
      }),
      engine: choice(["typescript", "onnx"], {
        optional: true,
        doc: "for gguf: our TypeScript forward pass (default), or onnxruntime after a conversion",
      }),
      units: choice(["ffn_out", "ffn_hidden", "residual"], {
        optional: true,
        doc: "for hf: the FFN's second linear layer (default), the FFN hidden units, or the " +
          "residual stream after the block",
      }),
      tensors: list(
        text({ expected: "a tensor name, one per layer", doc: "a graph tensor" }),
        {
          optional: true,
          unique: { expected: "a tensor name, one per layer, each used once" },
          doc: "the graph's tensors to record, one per layer, where no known naming matches",
        },
      ),
      randomControl: boolean({
        default: true,
        doc: "also the same model with its weight matrices redrawn (seeded)",
      }),
      streamed: custom({
        optional: true,
        doc: "for gguf on the TypeScript engine: read the weights block by block from the file " +
          '(true), whole into memory (false), or "auto" (default): streamed when in memory they ' +
          "would take more than half the machine's memory",
        expected: '"auto", true or false',
        tsType: '"auto" | boolean',
        read: (v: unknown, at: Cursor): "auto" | boolean =>
          v === "auto" || typeof v === "boolean" ? v : at.fail(at.path, '"auto", true or false', v),
      }),
    }, {
      doc: "a model",
      check: (m, at) => {
        if ((m.gguf === undefined) === (m.hf === undefined)) {
          at.fail(
            at.path,
            '"gguf" (a GGUF file) or "hf" (a Hugging Face layout folder), one of them',
            m.gguf === undefined ? "neither" : "both",
            true,
          );
        }
      },
    }),
    {
      doc: "the language models",
      // Results are filed by model name, controls as "<name>-random": no two may meet.
      check: (models, at) => {
        const names = new Set<string>();
        models.forEach((m, i) => {
          const outputs = m.randomControl ? [m.name, `${m.name}-random`] : [m.name];
          if (outputs.some((n) => names.has(n))) {
            at.fail(
              `${at.path}[${i}].name`,
              "a name used once (controls are named <name>-random)",
              m.name,
            );
          }
          outputs.forEach((n) => names.add(n));
        });
      },
    },
  ),
  voxels: object({
    mask: filePath({ optional: true, doc: "the brain mask (NIfTI), in MNI space" }),
    subjects: list(
      object({
        id: name("the subject's name in the results"),
        bold: runFiles("4-D NIfTI on the mask's grid; a list: one file per run, in order"),
        confounds: runFiles(
          "fMRIPrep's desc-confounds_timeseries.tsv of the same volumes (one per run)",
          true,
        ),
      }, { doc: "a subject", expected: 'an object {"id", "bold"[, "confounds"]}' }),
      {
        optional: true,
        min: 2,
        tooFew: "a list of at least 2 subjects (group maps)",
        unique: { by: "id", expected: "a name used once" },
        doc: "the subjects' 4-D NIfTI files",
      },
    ),
    phantom: object({
      subjects: integer({ min: 3, max: 1000, default: 6, doc: "phantom subjects" }),
      r2: number({
        above: 0,
        below: 1,
        default: 0.1,
        doc: "median true R² in driven voxels (0.1 as Sun et al. report)",
      }),
      resolution: choice(["4", "2"], { default: "4", doc: "MNI grid, mm" }),
      networks: choice(NETWORK_CHOICES, {
        default: "yeo7",
        doc: "the networks the atoms are planted in",
      }),
      model: text({
        optional: true,
        expected: "the name of one of the models",
        test: (s) => NAME.test(s) && s.length <= 100,
        doc: "the model whose atoms are planted (default: the first model)",
      }),
    }, {
      optional: true,
      doc: "instead of mask and subjects: a phantom generated from a model's atoms, planted in " +
        "real networks inside the MNI brain mask, whose links are then scored against the truth",
    }),
    permutations: integer({
      min: 2,
      max: MAX_PERMUTATIONS,
      optional: true,
      doc: "surrogates of the voxel null (default: permutations)",
    }),
    discarded: discarded("volumes dropped at the start of every file"),
    confounds: choice(CONFOUND_PRESET_NAMES, {
      default: "simple",
      doc: "nilearn's load_confounds strategy regressed out of every run where confounds " +
        "are given (bids, or subjects' confounds files): " + CONFOUND_PRESET_DOC,
    }),
    highPassSeconds: number({
      min: 0,
      max: 1e5,
      default: 128,
      doc: "cut-off (s) of the DCT high-pass applied to voxels and atoms",
    }),
    voxelP: number({
      min: 1e-12,
      max: 0.5,
      default: 0.01,
      doc: "one-sided voxel p (per sign) that puts a voxel in an atom's map",
    }),
    variancePartition: boolean({
      optional: true,
      doc: "per voxel, the held-out R² the atoms explain uniquely, the low-level regressors " +
        "(the stimulus's word rate and voxels.lowLevel) uniquely, and the two share, by banded " +
        "ridge with one penalty per band (maps unique_atoms_r2, unique_lowlevel_r2, shared_r2); " +
        "default: off",
    }),
    lowLevel: list(filePath({ doc: "one value per volume (a column of text)" }), {
      optional: true,
      doc: "low-level regressors besides the word rate (e.g. sound power), one file each, for " +
        "the variance partitioning (implies variancePartition)",
    }),
    spatialNull: integer({
      min: 0,
      max: MAX_PERMUTATIONS,
      optional: true,
      doc: "variogram-matched surrogate maps per atom (Burt et al. 2020) for a second, spatial " +
        "null of each network link (e.g. 100); 0 or absent: off",
    }),
    maps: choice(["ridge", "lasso"], {
      default: "ridge",
      doc: "coefficient maps by ridge, or LASSO with α per voxel by CV (the paper's choice)",
    }),
    bootstrap: integer({
      min: 0,
      max: 100_000,
      optional: true,
      doc: "resamples of the subjects (with replacement) for each link's reappearance, the " +
        "organization metrics' 95% intervals and the maps' reliability (e.g. 200); " +
        "0 or absent: none",
    }),
    seedSpread: boolean({
      optional: true,
      doc: "the organization metrics and links with each of stability's other dictionary " +
        "seeds too (its atoms aligned by the Hungarian matching, voxels encoded without a " +
        "null): their values, min–max and SD across seeds and each link's reappearance " +
        "(voxels/<model>/seed_spread_*.csv); default: on where stability.seeds > 0",
    }),
    maxBadVoxelShare: number({
      min: 0,
      max: 1,
      default: 0.1,
      doc: "largest share of the mask's voxels a kept subject may lose (non-finite or constant)",
    }),
    memoryGiB: number({
      min: 0.0001,
      max: 1e6,
      optional: true,
      doc: "memory (GiB) the subjects' series and per-voxel state may take at once; beyond it " +
        "the voxel stage runs by blocks of voxels, each read from disk at its turn " +
        "(default: 3, or a quarter of the machine's memory where that is less)",
    }),
    blockVoxels: integer({
      min: 1,
      max: 100_000_000,
      optional: true,
      doc: "run the voxel stage by blocks of this many voxels, whatever the memory " +
        "(default: blocks only where memoryGiB needs them)",
    }),
  }, {
    optional: true,
    doc: "voxel-level brain data",
    check: (v, at) => {
      const real = v.mask !== undefined || v.subjects !== undefined;
      if (v.phantom !== undefined && real) {
        at.fail(
          at.path,
          '"mask" and "subjects" (your fMRI), or "phantom" (a generated one), one of them',
          "both",
          true,
        );
      }
    },
  }),
  rois: object({
    subjects: list(
      object({
        id: name("the subject's name in the results"),
        table: filePath({ doc: "the ROI time courses: volumes × regions, header optional" }),
        baseline: list(filePath({ doc: "one value per volume (a column of text)" }), {
          optional: true,
          doc: "the subject's baseline regressors, one file each, in the order of rois.baseline",
        }),
      }, { doc: "a subject", expected: 'an object {"id", "table"[, "baseline"]}' }),
      { unique: { by: "id", expected: "a name used once" }, doc: "the subjects' ROI tables" },
    ),
    baseline: list(
      text({ expected: "a regressor's name", doc: "a baseline regressor" }),
      {
        optional: true,
        unique: { expected: "a regressor's name, each used once" },
        doc: "names of a baseline model (e.g. word rate, sound power): encoded alone, and with " +
          "each model's atoms, whose gain over it is tested",
      },
    ),
    permutations: integer({
      min: 0,
      max: MAX_PERMUTATIONS,
      optional: true,
      doc: "circular shifts of the ROI null (default: permutations)",
    }),
    bootstrap: integer({
      min: 0,
      max: 100_000,
      optional: true,
      doc: "resamples of the subjects (with replacement) for the 95% intervals of each group " +
        "mean r and gain over the baseline (e.g. 200); 0 or absent: none",
    }),
    columns: list(
      text({ expected: "a region name", doc: "a region" }),
      {
        optional: true,
        unique: { expected: "a region name, each used once" },
        doc: "region names, for tables without a header row",
      },
    ),
    discarded: discarded("rows dropped at the start of every table"),
  }, {
    optional: true,
    doc: "ROI time courses per subject",
    check: (r, at) => {
      const names = r.baseline?.length ?? 0;
      r.subjects.forEach((s, i) => {
        if ((s.baseline?.length ?? 0) !== names) {
          at.fail(
            `${at.path}.subjects[${i}].baseline`,
            names
              ? `${names} files, one per name of rois.baseline`
              : "nothing (rois.baseline names none)",
            `${s.baseline?.length ?? 0} files`,
          );
        }
      });
    },
  }),
  ablation: object({
    randomAblations: integer({
      min: 1,
      max: MAX_PERMUTATIONS,
      default: 100,
      doc: "random size- and layer-matched ablations per atom (R)",
    }),
    storyTokens: integer({
      min: 1,
      max: 1_000_000,
      default: 512,
      doc: "the story's first tokens the loss is measured on",
    }),
    heldOutTokens: integer({
      min: 0,
      max: 1_000_000,
      default: 256,
      doc: "tokens of the held-out text (The Little Prince's first words, data:lpp/...); 0: none",
    }),
    randomControls: boolean({
      default: true,
      doc: "also ablate the random-weights controls (their loss is above chance: nothing to lose)",
    }),
  }, {
    optional: true,
    doc: "causal test of the sub-groups: each atom's ANs zeroed in the forward pass (GGUF " +
      "models on the TypeScript engine), the next-token loss change against random ablations",
  }),
  networks: list(
    choice(NETWORK_CHOICES, { doc: "a template set" }),
    {
      default: ["yeo7"],
      unique: { expected: "each template set once" },
      doc: "network templates the maps are matched with: Yeo-7, Yeo-17, Giles' 39 ICA maps",
    },
  ),
  atoms: integer({
    min: 1,
    max: MAX_ATOMS,
    default: 64,
    doc: "atoms (K) per model, as in the paper",
  }),
  targetDensity: number({
    above: 0,
    below: 1,
    default: 0.2,
    doc: "share of non-zero codes the sparsity penalty is calibrated to",
  }),
  dictionaryAlpha: number({
    above: 0,
    optional: true,
    doc: "the sparsity penalty itself, instead of calibrating it to targetDensity",
  }),
  stability: object({
    seeds: integer({
      min: 0,
      max: 100,
      default: 4,
      doc: "dictionaries learned again on all volumes, with other seeds",
    }),
    halves: boolean({
      default: true,
      doc: "also learned on each half of the volumes (each story, where there are several)",
    }),
    minStability: number({
      min: 0,
      max: 1,
      default: 0,
      doc: "links of atoms less stable than this are left out of the summary's links " +
        "(the networks tables keep them)",
    }),
  }, {
    optional: true,
    doc: "stability of each atom: median |r| with its Hungarian match among dictionaries " +
      "learned again (models/<model>/stability.csv)",
  }),
  null: choice(["shift", "phase"], {
    default: "shift",
    doc: "surrogates of the nulls: circular shifts or phase randomization",
  }),
  permutations: integer({
    min: 2,
    max: MAX_PERMUTATIONS,
    default: 100,
    doc: "surrogates of the ROI and voxel nulls",
  }),
  seed: integer({ min: 0, max: 2 ** 32 - 1, default: 0, doc: "seed of every random choice" }),
}, {
  doc: "an analysis file",
  rename: { null: "nullMethod" },
  check: (file, at) => {
    if ((file.stimulus === undefined) === (file.bids === undefined)) {
      at.fail(
        "stimulus",
        '"stimulus" (your story\'s transcript and timing) or "bids" (a BIDS dataset), one of them',
        file.stimulus === undefined ? "neither" : "both",
        true,
      );
    }
    const v = file.voxels;
    if (file.bids) {
      if (v?.mask !== undefined || v?.subjects !== undefined || v?.phantom !== undefined) {
        at.fail(
          "voxels",
          "no mask, subjects or phantom with bids (the dataset gives them)",
          v.mask !== undefined ? "mask" : v.subjects !== undefined ? "subjects" : "phantom",
          true,
        );
      }
      if (file.rois !== undefined) {
        at.fail("rois", "no ROI tables with bids (voxels only)", "rois", true);
      }
      return;
    }
    if (v === undefined && file.rois === undefined) {
      at.fail(
        "voxels",
        '"voxels" (4-D NIfTI and a mask) or "rois" (tables), or both',
        undefined,
      );
    }
    if (v && v.phantom === undefined && (v.mask === undefined || v.subjects === undefined)) {
      at.fail(
        "voxels",
        '"mask" and "subjects" (your fMRI), or "phantom" (a generated one), one of them',
        v.mask === undefined ? "no mask" : "no subjects",
        true,
      );
    }
  },
});

type SpecAt<S, P extends string> = S extends { fields: infer F }
  ? P extends `${infer H}.${infer T}` ? H extends keyof F ? SpecAt<F[H], T> : never
  : P extends keyof F ? F[P]
  : never
  : never;

/** An option that is a field of the analysis file: its value's description is the field's. */
function fileOption<const P extends string, const D extends Omit<OptionDef, "spec" | "scope">>(
  file: P,
  def: D,
): D & { scope: "analysis"; file: P; spec: SpecAt<typeof FILE_SPEC, P> } {
  return {
    ...def,
    scope: "analysis",
    file,
    spec: fieldAt(FILE_SPEC, file) as SpecAt<typeof FILE_SPEC, P>,
  };
}

const EVERY_MODE = { demo: {}, config: {}, phantom: {} } as const;
const FOLDER = "a folder path";
const USER_CACHE = "$BRAINORG_CACHE, else $XDG_CACHE_HOME/brainorg, else ~/.cache/brainorg";
const ALL_CORES = "every core, or $BRAINORG_THREADS";
const DATA_SEARCH = "$BRAINORG_DATA, then ../shared/data, then the cache; see deno task data where";

/**
 * The options of the commands (`analyze`, `phantom`) and of the runs they
 * start, by property name, in the order help lists them. Each says its flag,
 * its value and the modes it applies to; a flag outside its modes is refused.
 */
export const OPTION_DEFS = {
  config: {
    scope: "run",
    flag: "config",
    arg: "FILE",
    spec: filePath({
      optional: true,
      doc: "an analysis file (JSON) describing your story, models and fMRI; without it, the " +
        "built-in demo runs",
    }),
    modes: { config: {} },
  },
  out: {
    scope: "run",
    flag: "out",
    arg: "DIR",
    spec: text({ optional: true, expected: FOLDER, doc: "results folder; replaced atomically" }),
    modes: {
      demo: { default: "results/demo" },
      config: { defaultDoc: "results/<name of the analysis file>" },
      phantom: { default: "phantom", doc: "folder to write the phantom to; replaced atomically" },
    },
  },
  dataDir: {
    scope: "run",
    flag: "data-dir",
    arg: "DIR",
    spec: text({
      optional: true,
      expected: FOLDER,
      doc: "folder holding the reference data, looked in first",
    }),
    modes: {
      demo: { defaultDoc: DATA_SEARCH },
      config: { defaultDoc: DATA_SEARCH },
      phantom: { defaultDoc: DATA_SEARCH },
    },
  },
  cacheDir: {
    scope: "run",
    flag: "cache-dir",
    arg: "DIR",
    spec: text({
      optional: true,
      expected: FOLDER,
      doc: "downloads, model activations, phantoms and voxel results are cached here",
    }),
    modes: {
      demo: { defaultDoc: USER_CACHE },
      config: { defaultDoc: USER_CACHE },
      phantom: { defaultDoc: USER_CACHE },
    },
  },
  offline: {
    scope: "run",
    flag: "offline",
    spec: boolean({
      default: false,
      doc: "never download reference data (same as BRAINORG_OFFLINE=1)",
    }),
    modes: EVERY_MODE,
  },
  backend: {
    scope: "run",
    flag: "backend",
    arg: "NAME",
    spec: choice(["auto", "webgpu", "cpu"], {
      default: "auto",
      doc: "compute backend: auto (WebGPU on a hardware adapter that passes the kernel " +
        "self-check, else the CPU), webgpu or cpu",
    }),
    modes: EVERY_MODE,
  },
  threads: {
    scope: "run",
    flag: "threads",
    arg: "N",
    spec: integer({
      min: 1,
      optional: true,
      doc: "threads for products, LASSO and the null's refits",
    }),
    modes: {
      demo: { defaultDoc: ALL_CORES },
      config: { defaultDoc: ALL_CORES },
      phantom: { defaultDoc: ALL_CORES },
    },
  },
  quiet: {
    scope: "run",
    flag: "quiet",
    spec: boolean({ default: false, doc: "print nothing but errors" }),
    modes: EVERY_MODE,
  },
  atoms: fileOption("atoms", {
    flag: "atoms",
    arg: "K",
    modes: {
      demo: { default: STORIES260K_ATOMS, doc: "atoms per model; stories260K has 320 ANs" },
      config: {},
      phantom: {
        default: STORIES260K_ATOMS,
        min: PLANTED_ATOMS,
        doc: "atoms learned from stories260K",
      },
    },
  }),
  permutations: fileOption("permutations", {
    flag: "permutations",
    arg: "N",
    modes: {
      demo: { default: 200, min: 0, doc: "circular shifts per subject for the ROI p-values" },
      config: {},
    },
  }),
  seed: fileOption("seed", { flag: "seed", arg: "N", modes: EVERY_MODE }),
  bidsRoot: fileOption("bids.root", {
    flag: "bids",
    arg: "DIR",
    modes: {
      config: {
        doc: "a BIDS dataset with fMRIPrep derivatives; without --config, analysed with " +
          "packages/core/bids_default.json (stories260K and its control, Yeo-7 and Giles)",
      },
    },
  }),
  bidsSpace: fileOption("bids.space", { flag: "space", arg: "LABEL", modes: { config: {} } }),
  bidsTasks: fileOption("bids.tasks", { flag: "tasks", arg: "A,B", modes: { config: {} } }),
  bidsSubjects: fileOption("bids.subjects", {
    flag: "subjects",
    arg: "A,B",
    modes: { config: {} },
  }),
  confounds: fileOption("voxels.confounds", {
    flag: "confounds",
    arg: "NAME",
    modes: { config: {} },
  }),
  blockVoxels: fileOption("voxels.blockVoxels", {
    flag: "block-voxels",
    arg: "N",
    modes: { config: {} },
  }),
  list: {
    scope: "run",
    flag: "list",
    spec: boolean({
      default: false,
      doc: "with --bids: list what would be analysed and what is set aside (and why), then stop",
    }),
    modes: { config: {} },
  },
  plan: {
    scope: "run",
    flag: "plan",
    arg: "DIR",
    spec: text({
      optional: true,
      expected: FOLDER,
      doc: "split the study into shards instead of running it: DIR/plan.json and " +
        'DIR/submit.sbatch (Slurm); see the README, "Clusters (Slurm)"',
    }),
    modes: { demo: {}, config: {} },
  },
  local: {
    scope: "run",
    flag: "local",
    arg: "N",
    spec: integer({
      min: 1,
      optional: true,
      doc: "with --plan: run the shards as N local processes, then merge",
    }),
    modes: { demo: {}, config: {} },
  },
  shardVoxels: {
    scope: "run",
    flag: "shard-voxels",
    arg: "N",
    spec: integer({
      min: 1,
      default: 50000,
      doc: "with --plan: voxels per shard",
    }),
    modes: { demo: {}, config: {} },
  },
  phantomBids: {
    scope: "run",
    flag: "bids",
    arg: "DIR",
    spec: text({
      optional: true,
      expected: FOLDER,
      doc: "write a mini-Narratives instead: a BIDS dataset (two stories, fMRIPrep-style " +
        "derivatives, a speech-locked motion artefact, 4 subjects unless --subjects) to this " +
        "folder, which must be new, empty or a previous one",
    }),
    modes: { phantom: {} },
  },
  voxelPermutations: {
    scope: "analysis",
    flag: "voxel-permutations",
    arg: "N",
    spec: integer({
      min: 2,
      max: MAX_PERMUTATIONS,
      default: 100,
      doc: "circular shifts of the voxel-level null",
    }),
    modes: { demo: {} },
  },
  phantomSubjects: {
    scope: "analysis",
    flag: "phantom-subjects",
    arg: "N",
    spec: integer({ min: 1, default: 6, doc: "subjects of the voxel-level phantom" }),
    // The demo's group maps and their null need a few subjects.
    modes: { demo: { min: 3 }, phantom: { flag: "subjects", doc: "subjects of the phantom" } },
  },
  ablation: {
    scope: "analysis",
    flag: "ablation",
    spec: boolean({
      default: false,
      doc: "also the causal test: each atom's sub-group ablated in the model against matched " +
        "random ablations (the demo's file sets its budget; about 30 s on 2 cores)",
    }),
    modes: { demo: {} },
  },
  phantom: {
    scope: "analysis",
    flag: "no-phantom",
    negated: true,
    spec: boolean({
      default: true,
      doc: "the voxel level, on a phantom",
    }),
    modes: { demo: { doc: "skip the voxel level (the phantom)" } },
  },
  resolution: {
    scope: "analysis",
    flag: "resolution",
    arg: "MM",
    spec: choice([4, 2], { default: 4, doc: "voxel size of the phantom's MNI grid, mm" }),
    modes: { phantom: {} },
  },
  networks: {
    scope: "analysis",
    flag: "networks",
    arg: "NAME",
    spec: choice(NETWORK_CHOICES, {
      default: "yeo7",
      doc: "the atlas whose networks the phantom's atoms drive",
    }),
    modes: { phantom: {} },
  },
  r2: {
    scope: "analysis",
    flag: "r2",
    arg: "X",
    spec: number({
      above: 0,
      below: 1,
      default: 0.1,
      doc: "median true R² in the phantom's driven voxels; the default is what the paper reports",
    }),
    modes: { phantom: {}, demo: { flag: false } },
  },
  targetDensity: fileOption("targetDensity", { modes: { demo: { flag: false } } }),
  voxelP: fileOption("voxels.voxelP", { modes: { demo: { flag: false } } }),
} as const satisfies Record<string, OptionDef>;

/** The registry as TypeScript infers it, for the settings' types below. */
type Options = typeof OPTION_DEFS;
type Name = keyof Options;
type InMode<K extends Name, M extends Mode> = M extends keyof Options[K]["modes"]
  // With --config an option of the file is an override of the file, not a setting.
  ? M extends "config" ? Options[K] extends { file: string } ? never : K : K
  : never;
type HasDefault<O, M extends Mode> = O extends { spec: { presence: "default" } } ? true
  : O extends { modes: { [X in M]: { default: unknown } } } ? true
  : false;
type Keys<M extends Mode, S extends Scope> = {
  [K in Name]: Options[K]["scope"] extends S ? InMode<K, M> : never;
}[Name];
type Simplify<T> = { [K in keyof T]: T[K] } & unknown;

/**
 * The settings of mode `M` and scope `S` as the registry's types say: an
 * option without a default in the mode is optional. `options_types.ts`
 * (generated) must equal it; `options_test.ts` checks.
 */
export type InferredSettings<M extends Mode, S extends Scope> = Simplify<
  & {
    -readonly [K in Keys<M, S> as HasDefault<Options[K], M> extends true ? K : never]: Infer<
      Options[K]["spec"]
    >;
  }
  & {
    -readonly [K in Keys<M, S> as HasDefault<Options[K], M> extends true ? never : K]?: Infer<
      Options[K]["spec"]
    >;
  }
>;

/** The analysis file as the schema's types say (see {@linkcode InferredSettings}). */
export type InferredFile = Infer<typeof FILE_SPEC>;

/** Checks across options: a value that is fine alone but not with another. */
export const MODE_CHECKS: readonly ModeCheck[] = [{
  mode: "demo",
  option: "atoms",
  expected: `≥ ${PLANTED_ATOMS} for the phantom, which plants ${PLANTED_ATOMS} atoms ` +
    "(or add --no-phantom)",
  holds: (s) => s.phantom === false || (s.atoms as number) >= PLANTED_ATOMS,
}];
