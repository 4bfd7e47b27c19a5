/**
 * What a scan of a BIDS dataset with fMRIPrep derivatives is asked for and
 * what it finds (see `scanBids`).
 *
 * @module
 */

/** Which runs of a BIDS dataset to scan, and in which fMRIPrep output space. */
export interface BidsQuery {
  /** The dataset's top folder (holds `dataset_description.json` and `sub-*`). */
  root: string;
  /**
   * fMRIPrep's output folder; a relative path is relative to `root`.
   * Default: `derivatives/fmriprep`.
   */
  derivatives?: string;
  /** Task labels to keep, with or without `task-`. Default: every task. */
  tasks?: string[];
  /** Subject labels to keep, with or without `sub-`. Default: every subject. */
  subjects?: string[];
  /** fMRIPrep output space of the preprocessed BOLD. Default: `MNI152NLin2009cAsym`. */
  space?: string;
  /**
   * Resolution label (`res-`) of the preprocessed BOLD, e.g. `2` or
   * `native` (`native` also matches outputs without `res-`). Default: any;
   * with several, the first by name, and the run's verdict says so.
   */
  res?: string;
  /**
   * Runs to leave out: a subject (`sub-01`), or entities of runs
   * (`sub-01_task-alice`, `sub-01_task-alice_run-1`, `sub-01_ses-2`): a run
   * is excluded when it has every entity listed. Default: none.
   */
  exclude?: string[];
  /**
   * Whether a run without fMRIPrep's `desc-confounds_timeseries.tsv` is
   * unusable; when false it is kept, with a remark. Default: true.
   */
  requireConfounds?: boolean;
}

/**
 * One BOLD series, by subject, session, task and run, with the files an
 * analysis needs. Paths are `root` (or the derivatives folder) joined with
 * the file's place in the dataset.
 */
export interface BidsRun {
  /** Its entities in BIDS order, e.g. `sub-01_ses-2_task-alice_run-1` (as in `exclude`). */
  id: string;
  /** Subject label without `sub-`, e.g. `001`. */
  subject: string;
  /** Session label without `ses-`, when the dataset has sessions. */
  session?: string;
  /** Task label without `task-`, e.g. `pieman`. */
  task: string;
  /** Run index, when the files have `run-`. */
  run?: number;
  /** fMRIPrep's preprocessed BOLD (`…_space-S[_res-R]_desc-preproc_bold.nii.gz`). */
  bold: string;
  /** fMRIPrep's brain mask in the same space and resolution, when there is one. */
  mask?: string;
  /** fMRIPrep's confounds table (`…_desc-confounds_timeseries.tsv`), when there is one. */
  confounds?: string;
  /** The closest applicable `events.tsv` in the raw dataset (BIDS inheritance), when there is one. */
  events?: string;
  /** The raw BOLD, when it is in the dataset. */
  rawBold?: string;
  /**
   * Repetition time, seconds: `RepetitionTime` of the raw BOLD's sidecars,
   * else of the preprocessed BOLD's, else the header's `pixdim[4]` (the
   * verdict says so).
   */
  tr: number;
  /** Volumes of the preprocessed BOLD (`dim[4]`). */
  volumes: number;
  /**
   * Seconds from the first volume to the story's start: the onset of the
   * first `events.tsv` row whose `trial_type` or `stim_file` names the
   * task, else of its first row; 0 without an events file (the verdict
   * says so).
   */
  stimulusOnset: number;
  /** The preprocessed BOLD's space, e.g. `MNI152NLin2009cAsym`. */
  space: string;
  /** The preprocessed BOLD's resolution label, when its name has one. */
  res?: string;
  /** The task's word timings (Gentle `align.json`/`align.csv`, a TextGrid or a CSV). */
  transcript?: string;
}

/** Whether a run (or a misnamed file) can be used, and why not. */
export interface BidsVerdict {
  /** The run's id (see {@linkcode BidsRun}), or the file name of a misnamed file. */
  unit: string;
  /** Subject label, when known. */
  subject?: string;
  /** Task label, when known. */
  task?: string;
  /** Whether the run goes into the analysis. */
  usable: boolean;
  /**
   * Why not, or remarks on a usable run (`TR from the NIfTI header (no
   * sidecar)`), `; `-separated, problems first; `""` for a usable run
   * with nothing to remark.
   */
  reason: string;
  /** The files the verdict is about (those found). */
  files: string[];
}

/** One task of a scan: its transcript, TR and how many of its runs are usable. */
export interface BidsTaskSummary {
  /** Task label. */
  task: string;
  /** The transcript used, when one was found and read. */
  transcript?: string;
  /** Words in the transcript. */
  words?: number;
  /** Why there is no transcript, when there is none. */
  transcriptProblem?: string;
  /** The task's most common TR (s) among its runs, when any run has one. */
  tr?: number;
  /** Runs of the task (excluded ones included). */
  runs: number;
  /** Runs of the task that are usable. */
  usable: number;
}

/** What {@linkcode BidsQuery}'s scan found. */
export interface BidsScan {
  /** The dataset's top folder, as given. */
  root: string;
  /** fMRIPrep's output folder. */
  derivatives: string;
  /** The space asked for. */
  space: string;
  /** The resolution asked for, if any. */
  res?: string;
  /** The usable runs, by subject, task, session, run. */
  units: BidsRun[];
  /** Every run (usable or not) and every misnamed file, by subject, task, session, run. */
  verdicts: BidsVerdict[];
  /** Task labels among the runs scanned, sorted. */
  tasks: string[];
  /** Subject labels among the runs scanned, sorted. */
  subjects: string[];
  /** Spaces of the preprocessed BOLD series of the runs scanned, sorted. */
  spaces: string[];
  /** Per task: transcript, TR, runs. */
  taskSummaries: BidsTaskSummary[];
  /**
   * What the query asked for that is not there (a subject, a task, an
   * `exclude` entry that matches nothing) and folders skipped.
   */
  warnings: string[];
}
