/**
 * The pipeline's ablation step: for each model run by the TypeScript
 * forward pass (a GGUF file, and its random-weights control), each atom's
 * sub-group zeroed and the next-token loss change on the story's first
 * tokens and on a held-out text tested against matched random ablations.
 *
 * The held-out text is the first words of The Little Prince
 * (`data:lpp/lpp_en_regressors.csv`, a reference file beside the Alice
 * data): a real story the model did not read for the atoms; where it cannot
 * be found the held-out columns are NaN and the log says why.
 *
 * @module
 */

import { resolveDataFile, type ResolveOptions } from "@brainorg/datasets";
import { createTokenizer, randomizeWeights, readGgufLlama } from "@brainorg/models";
import { ablateSubgroups, type ModelAblation } from "./ablation.ts";
import type { AnalysisConfig } from "./analysis_config.ts";
import { type CapturedModel, randomControl } from "./capture_atoms.ts";
import { fullCodes } from "./members.ts";
import { type AblationSummary, modelFiles, type ResultTable } from "./results.ts";

/** The reference file whose first words are the held-out text. */
export const HELD_OUT_TEXT = "lpp/lpp_en_regressors.csv";

/** Options of {@linkcode analyzeAblation}. */
export interface AblationStageOptions {
  /** Where reference data is looked for. */
  data?: ResolveOptions;
  /** Worker threads. Default: every core. */
  threads?: number;
  /** Lines of the run's narrative. */
  log?: (line: string) => void;
}

/**
 * Run the ablation step of an analysis.
 *
 * @param config the analysis (its `ablation`, `models` and `seed`)
 * @param models the captured models, with their atoms
 * @param words the story's words, in order (the first story's first tokens are used)
 * @param options data, threads, log
 * @returns the summary, the per-model tables, and per model its results
 */
export async function analyzeAblation(
  config: AnalysisConfig,
  models: CapturedModel[],
  words: string[],
  options: AblationStageOptions = {},
): Promise<{ summary: AblationSummary; tables: ResultTable[] }> {
  const log = options.log ?? (() => {});
  const a = config.ablation!;
  const R = a.randomAblations ?? 100, storyTokens = a.storyTokens ?? 512;
  const heldOutTokens = a.heldOutTokens ?? 256;
  const heldOutWords = heldOutTokens > 0 ? await readHeldOut(options.data ?? {}, log) : [];
  const summary: AblationSummary = {
    randomAblations: R,
    storyTokens,
    heldOutTokens,
    heldOutText: heldOutWords.length ? `The Little Prince, first words (${HELD_OUT_TEXT})` : "none",
    models: [],
    skipped: [],
  };
  const tables: ResultTable[] = [];
  for (const spec of config.models) {
    const control = (spec.randomControl ?? true) && (a.randomControls ?? true);
    const redrawn = randomControl(spec.name, config.seed);
    const names = [spec.name, ...(control ? [redrawn.name] : [])];
    if ((spec.randomControl ?? true) && !control) {
      const name = redrawn.name;
      const reason = "ablation.randomControls is false (random weights: a loss above chance)";
      summary.skipped.push({ name, reason });
      log(`ablation: ${name} skipped (${reason})`);
    }
    if (!spec.gguf || (spec.engine ?? "typescript") !== "typescript") {
      for (const name of names) {
        const reason = "run by onnxruntime: ablation needs the TypeScript forward pass";
        summary.skipped.push({ name, reason });
        log(`ablation: ${name} skipped (${reason})`);
      }
      continue;
    }
    const trained = await readGgufLlama(spec.gguf);
    const tok = createTokenizer(trained.vocab);
    const tokens = (ws: string[], n: number) =>
      ws.flatMap((w) => tok.encode(w, { bos: false, word: true })).slice(0, n);
    // Words tokenized one by one, as the capture reads them.
    const story = tokens(words.slice(0, storyTokens), storyTokens);
    const heldOut = tokens(heldOutWords.slice(0, heldOutTokens), heldOutTokens);
    for (const [i, name] of names.entries()) {
      const m = models.find((m) => m.name === name);
      if (!m) continue;
      const model = i === 0 ? trained : randomizeWeights(trained, redrawn.seed);
      const t0 = performance.now();
      const result = await ablateSubgroups(
        model,
        fullCodes(m.atoms.codes, m.atoms.kept, m.ans),
        { story, heldOut },
        {
          randomAblations: R,
          seed: config.seed + 1000 * (summary.models.length + 1),
          ...(options.threads ? { threads: options.threads } : {}),
        },
      );
      summary.models.push(modelSummary(name, result));
      tables.push({ ...modelFiles(name).ablation, rows: result.atoms });
      const s = summary.models.at(-1)!;
      log(
        `ablation: ${name} loss ${s.storyLoss.toFixed(3)} (story, ${story.length} tokens), ` +
          `${
            s.heldOutLoss.toFixed(3)
          } (held out, ${heldOut.length}); atoms that matter (q ≤ 0.05): ` +
          `${s.atomsMatterStory} on the story, ${s.atomsMatterHeldOut} held out ` +
          `(${K(result)} atoms × ${R + 1} ablations, ${
            ((performance.now() - t0) / 1000).toFixed(1)
          } s)`,
      );
    }
  }
  return { summary, tables };
}

const K = (r: ModelAblation) => r.atoms.length;

/** A model's line of the summary. */
function modelSummary(name: string, r: ModelAblation): AblationSummary["models"][number] {
  const matters = (q: number) => q <= 0.05;
  return {
    name,
    storyLoss: r.baseline.story,
    heldOutLoss: r.baseline.heldOut,
    atomsMatterStory: r.atoms.filter((a) => matters(a.storyQ)).length,
    atomsMatterHeldOut: r.atoms.filter((a) => matters(a.heldOutQ)).length,
    needed: r.atoms.filter((a) => matters(a.storyQ) || matters(a.heldOutQ)).map((a) => ({
      atom: a.atom,
      ans: a.ans,
      storyLossChange: a.storyLossChange,
      storyQ: a.storyQ,
      heldOutLossChange: a.heldOutLossChange,
      heldOutQ: a.heldOutQ,
    })),
  };
}

/** The held-out text's words (the CSV's first column), or none where the file is not found. */
async function readHeldOut(data: ResolveOptions, log: (line: string) => void): Promise<string[]> {
  try {
    const file = await resolveDataFile(HELD_OUT_TEXT, data);
    const lines = (await Deno.readTextFile(file.path)).split(/\r?\n/).slice(1);
    return lines.map((l) => l.split(",")[0].trim()).filter(Boolean);
  } catch (err) {
    log(`ablation: no held-out text (${err instanceof Error ? err.message : err})`);
    return [];
  }
}
