import assert from "node:assert/strict";
import { InputError } from "@brainorg/common";
import { dataPath } from "../../test/data.ts";
import { parseTranscript, readTranscript } from "./transcript.ts";

const ALICE = "alice/alice_stim_shared/DownTheRabbitHoleFinal_exp120_pad_1.TextGrid";

Deno.test("Alice TextGrid (long format): the word tier without silences", async () => {
  const t = await readTranscript(await dataPath(ALICE));
  assert.equal(t.format, "textgrid");
  assert.equal(t.words.length + t.dropped[0].count, 2423);
  assert.equal(t.words.length, 2127);
  assert.deepEqual(t.words[0], {
    word: "Alice",
    onset: 20.05891632653599,
    offset: 20.621637414967992,
    run: 0,
  });
  assert.equal(t.words.at(-1)!.word, "cake");
  assert.ok(t.words.every((w, i) => i === 0 || w.onset >= t.words[i - 1].onset));
});

const SHORT = `File type = "ooTextFile"
Object class = "TextGrid"

0
3.5
<exists>
2
"IntervalTier"
"phones"
0
3.5
1
0
3.5
"AH"
"IntervalTier"
"words"
0
3.5
4
0
1
"sil"
1
2
"say ""hi"""
2
2.5
""
2.5
3.5
"there"
`;

Deno.test("short-format TextGrid, quoted quotes, tier chosen by name", () => {
  const t = parseTranscript(SHORT, "s.TextGrid");
  assert.deepEqual(t.words.map((w) => w.word), ['say "hi"', "there"]);
  assert.deepEqual(t.words.map((w) => w.onset), [1, 2.5]);
  assert.deepEqual(t.dropped, [{ count: 2, reason: "silence or empty interval" }]);
  assert.deepEqual(parseTranscript(SHORT, "s.TextGrid", { tier: "phones" }).words[0].word, "AH");
});

Deno.test("TextGrid errors: no word tier, empty word tier, malformed", () => {
  const twoTiers = SHORT.replace('"words"', '"ortho"');
  assert.throws(
    () => parseTranscript(twoTiers, "s.TextGrid"),
    /cannot choose the word tier .*found: "phones" \(IntervalTier\), "ortho" \(IntervalTier\); file: s\.TextGrid/,
  );
  const silent = SHORT.replace('"say ""hi"""', '"sp"').replace('"there"', '"SIL"');
  assert.throws(
    () => parseTranscript(silent, "e.TextGrid"),
    (e: unknown) =>
      e instanceof InputError && e.file === "e.TextGrid" && e.field === 'tier "words"' &&
      /the word tier holds no words/.test(e.message),
  );
  assert.throws(
    () => parseTranscript(SHORT.slice(0, SHORT.length - 30), "cut.TextGrid"),
    /malformed TextGrid .*found: end of file; file: cut\.TextGrid/,
  );
});

Deno.test("Le Petit Prince CSV: the clock restarts in each of 9 runs", async () => {
  const t = await readTranscript(await dataPath("lpp/lpp_en_regressors.csv"));
  assert.equal(t.format, "table");
  assert.equal(t.runCount, 9);
  assert.deepEqual(t.words[0], { word: "once", onset: 0.113, offset: 0.728, run: 0 });
  const perRun = Array.from({ length: 9 }, (_, r) => t.words.filter((w) => w.run === r).length);
  assert.ok(perRun.every((n) => n > 500), `words per run: ${perRun}`);
  for (let i = 1; i < t.words.length; i++) {
    if (t.words[i].run === t.words[i - 1].run) {
      assert.ok(t.words[i].onset >= t.words[i - 1].onset - 1);
    }
  }
});

Deno.test("TSV with a run column; CSV errors name the line and column", () => {
  const t = parseTranscript("word\tonset\toffset\trun\na\t0.5\t0.7\t1\nb\t0.2\t0.4\t2\n", "w.tsv");
  assert.deepEqual(t.words.map((w) => w.run), [0, 1]);
  assert.equal(t.runCount, 2);
  assert.throws(
    () => parseTranscript("word,onset\nhello,abc\n", "w.csv"),
    /not a number at line 2 \(field: onset; expected: a finite number of seconds; found: "abc"; file: w\.csv\)/,
  );
  assert.throws(
    () => parseTranscript("token,when\nx,1\n", "w.csv"),
    /lacks a word or onset column/,
  );
});

Deno.test("Gentle alignments: align.csv and JSON, unaligned words dropped and counted", () => {
  const csv = "Once,once,0.10,0.40\nupon,upon,0.40,0.62\nuh,,,\na,a,0.70,0.75\n";
  const t = parseTranscript(csv, "align.csv");
  assert.equal(t.format, "gentle-csv");
  assert.deepEqual(t.words.map((w) => [w.word, w.onset]), [["Once", 0.1], ["upon", 0.4], [
    "a",
    0.7,
  ]]);
  assert.deepEqual(t.dropped, [{ count: 1, reason: "not aligned to the audio" }]);
  const json = JSON.stringify({
    transcript: "Once upon a",
    words: [
      { case: "success", word: "Once", alignedWord: "once", start: 0.1, end: 0.4 },
      { case: "not-found-in-audio", word: "upon" },
      { case: "success", word: "a", alignedWord: "a", start: 0.7, end: 0.75 },
    ],
  });
  const j = parseTranscript(json, "align.json");
  assert.equal(j.format, "gentle-json");
  assert.deepEqual(j.words.map((w) => w.word), ["Once", "a"]);
  assert.throws(() => parseTranscript("{", "align.json"), /not valid JSON.*file: align\.json/);
});
