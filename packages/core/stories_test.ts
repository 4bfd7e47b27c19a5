import assert from "node:assert/strict";
import { join } from "node:path";
import { readTranscript } from "@brainorg/neuro";
import { storiesStimulus, storySpans } from "./stories.ts";
import { keptLayout } from "./voxel_analysis.ts";

Deno.test("story spans: runs with one story name in a row form one story", () => {
  assert.deepEqual(
    storySpans([
      { volumes: 10, story: "a" },
      { volumes: 5, story: "b" },
      { volumes: 7, story: "b" },
    ]),
    [
      { story: "a", runs: [0], rows: [0, 10] },
      { story: "b", runs: [1, 2], rows: [10, 22] },
    ],
  );
  assert.deepEqual(storySpans([{ volumes: 4 }, { volumes: 6 }]), [
    { story: "", runs: [0, 1], rows: [0, 10] },
  ]);
});

Deno.test("stories stimulus: one run per story, each story's words on its own timeline", async () => {
  const dir = await Deno.makeTempDir({ prefix: "brainorg-stories-" });
  try {
    await Deno.writeTextFile(join(dir, "a.csv"), "word,onset,offset\nonce,1,1.4\nupon,1.5,1.9\n");
    await Deno.writeTextFile(join(dir, "b.csv"), 'word,onset,offset\n"a, quoted",0.5,0.9\n');
    const st = await storiesStimulus([
      { story: "a", transcript: join(dir, "a.csv"), tr: 2, volumes: 20, stimulusOffset: 6 },
      { story: "b", transcript: join(dir, "b.csv"), tr: 2, volumes: 12, stimulusOffset: 0 },
    ], join(dir, "work"));
    assert.deepEqual(st.runs.map((r) => [r.story, r.volumes, r.stimulusOffset]), [
      ["a", 20, 6],
      ["b", 12, 0],
    ]);
    const t = await readTranscript(st.transcript);
    assert.equal(t.runCount, 2);
    assert.deepEqual(t.words.map((w) => [w.word, w.onset, w.run]), [
      ["once", 1, 0],
      ["upon", 1.5, 0],
      ["a, quoted", 0.5, 1],
    ]);
    await assert.rejects(
      storiesStimulus([
        { story: "a", transcript: join(dir, "a.csv"), tr: 2, volumes: 20, stimulusOffset: 0 },
        { story: "b", transcript: join(dir, "b.csv"), tr: 1.5, volumes: 12, stimulusOffset: 0 },
      ], dir),
      /differ in TR/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("censored rows: runs and story folds count the rows kept", () => {
  const keep = new Uint8Array(10).fill(1);
  keep[2] = keep[7] = keep[8] = 0;
  assert.deepEqual(keptLayout(10, [6, 4], [[0, 6], [6, 10]], keep), {
    runs: [5, 2],
    folds: [[0, 5], [5, 7]],
  });
  assert.deepEqual(keptLayout(10, undefined, 5, keep), { folds: 5 });
  assert.deepEqual(keptLayout(10, [6, 4], 2, undefined), { runs: [6, 4], folds: 2 });
});
