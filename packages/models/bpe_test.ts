import assert from "node:assert/strict";
import { havePython, runPython } from "../../test/python.ts";
import { BPE_PRE_TOKENIZERS, byteToUnicode, createBpeTokenizer, preTokenize } from "./bpe.ts";
import { createTokenizer, type Vocabulary } from "./tokenizer.ts";
import { CORPUS, trainBpe } from "./_bpe_fixture.ts";

/**
 * A vocabulary small enough to check by hand: the 256 byte pieces (id =
 * byte), six merges, one piece no merge reaches ("Ġtea") and three control
 * tokens.
 */
function handVocab(pre: string): Vocabulary {
  const pieces = [...byteToUnicode()];
  const merges = ["Ġ t", "h e", "Ġt he", "i n", "Ġ a", "in g"];
  for (const m of merges) pieces.push(m.replace(" ", "")); // 256 … 261
  pieces.push("Ġtea", "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"); // 262 … 265
  const types = new Int32Array(pieces.length).fill(1);
  types.fill(3, 263);
  return {
    pieces,
    scores: new Float32Array(pieces.length),
    bos: 263,
    eos: 264,
    unk: 0,
    kind: "bpe",
    merges,
    pre,
    types,
  };
}

const TEXTS = [
  "Hello world",
  "I'm 12345 apples!!\n\nok",
  "DON'T we'LL they'Re",
  "naïve café, Ωμέγα and Привет мир",
  "日本語のテキスト、中文字符。",
  "emoji 🦙🦙 ok 👩‍👩‍👧 ❤️ done",
  "tabs\tand  double  spaces   \n  indented\r\nwindows\r\n\r\nend ",
  "3.14159 + 2,718 = 1000000",
  "e\u0301 combining ...hello .hello",
];

Deno.test("GPT-2's byte-to-unicode map: printable bytes themselves, the other 68 from U+0100", () => {
  const m = byteToUnicode();
  assert.equal(new Set(m).size, 256);
  assert.equal(m[0x41], "A");
  assert.equal(m[0x20], "Ġ"); // U+0120
  assert.equal(m[0x0a], "Ċ"); // U+010A
  assert.equal(m[0x00], "\u0100");
  assert.equal(m[0x7f], "\u0121"); // after the 33 bytes 0 … 32
  assert.equal(m[0xad], "Ń"); // U+0143: the soft hyphen is the last unprintable byte
  assert.equal(m[0xff], "ÿ");
});

// Splits derived by hand from each regex, alternative by alternative (no
// reference tokenizer is installed here; the python test below compares with
// the `regex` module too).
Deno.test("pre-tokenizer splits follow each regex (derived by hand)", () => {
  const cases: [string, "llama3" | "gpt2" | "qwen2", string[]][] = [
    ["Hello world", "llama3", ["Hello", " world"]],
    ["I'm 12345 apples!!\n\nok", "llama3", [
      "I",
      "'m",
      " ",
      "123",
      "45",
      " apples",
      "!!\n\n",
      "ok",
    ]],
    ["I'm 12345 apples!!\n\nok", "gpt2", ["I", "'m", " 12345", " apples", "!!", "\n", "\n", "ok"]],
    ["I'm 12345 apples!!\n\nok", "qwen2", [
      "I",
      "'m",
      " ",
      "1",
      "2",
      "3",
      "4",
      "5",
      " apples",
      "!!\n\n",
      "ok",
    ]],
    ["a  b", "llama3", ["a", " ", " b"]],
    ["Don'T", "llama3", ["Don", "'T"]],
    ["Don'T", "gpt2", ["Don", "'", "T"]],
    ["hello\r\n\r\nworld", "llama3", ["hello", "\r\n\r\n", "world"]],
    ["  leading", "llama3", [" ", " leading"]],
    [".hello", "llama3", [".hello"]],
    ["...hello", "llama3", ["...", "hello"]],
    ["🦙🦙 ok", "llama3", ["🦙🦙", " ok"]],
    ["3.14159", "llama3", ["3", ".", "141", "59"]],
    ["end ", "llama3", ["end", " "]],
  ];
  for (const [text, pre, want] of cases) {
    assert.deepEqual(preTokenize(text, pre), want, `${pre}: ${JSON.stringify(text)}`);
  }
  for (const pre of ["llama3", "gpt2", "qwen2"] as const) {
    for (const t of TEXTS) assert.equal(preTokenize(t, pre).join(""), t);
  }
});

Deno.test("byte-level BPE on a hand-checkable vocabulary: merges by rank, bytes, specials whole", () => {
  const llama3 = createTokenizer(handVocab("llama-bpe"));
  const gpt2 = createTokenizer(handVocab("default"));
  const t = (c: number) => c; // a byte's token is the byte
  // "the": t,h,e → (h,e) is the only merge → [t, he].
  assert.deepEqual(gpt2.encode("the", { bos: false }), [t(0x74), 257]);
  // " the": Ġt (rank 0), then he (1), then Ġthe (2).
  assert.deepEqual(gpt2.encode(" the", { bos: false }), [258]);
  // A word, as running text has it: after a space.
  assert.deepEqual(gpt2.encode("the", { bos: false, word: true }), [258]);
  assert.deepEqual(gpt2.encode(" the", { bos: false, word: true }), [258]);
  // "Ġtea" is a token no merge reaches: Llama 3 takes it whole (ignore_merges), GPT-2 merges.
  assert.deepEqual(llama3.encode(" tea", { bos: false }), [262]);
  assert.deepEqual(gpt2.encode(" tea", { bos: false }), [256, t(0x65), t(0x61)]);
  // "Ġsing": Ġ,s,i,n,g → in (3) → ing (5); "Ġ s" has no merge.
  assert.deepEqual(gpt2.encode(" sing", { bos: false }), [t(0x20), t(0x73), 261]);
  // BOS first by default.
  assert.deepEqual(llama3.encode("the"), [263, t(0x74), 257]);
  // An emoji has no merges: its four UTF-8 bytes.
  assert.deepEqual(llama3.encode("🦙", { bos: false }), [0xf0, 0x9f, 0xa6, 0x99]);
  // Special tokens in the text are kept whole; decode drops control tokens.
  const ids = llama3.encode("<|begin_of_text|>the<|eot_id|> the", { bos: false });
  assert.deepEqual(ids, [263, t(0x74), 257, 265, 258]);
  assert.equal(llama3.decode(ids), "the the");
  assert.equal(llama3.piece(258), " the");
  assert.equal(llama3.piece(265), "<|eot_id|>");
  assert.equal(llama3.piece(0xf0), "\ufffd"); // a lone lead byte
  // Merge rank, not position, decides: "abc" with (b c) before (a b) gives a, bc; swapped, ab, c.
  const abc = (merges: string[]) => {
    const v = handVocab("default");
    const pieces = [...byteToUnicode(), "ab", "bc"];
    return createBpeTokenizer({ ...v, pieces, merges, types: undefined }).encode("abc", {
      bos: false,
    });
  };
  assert.deepEqual(abc(["b c", "a b"]), [0x61, 257]);
  assert.deepEqual(abc(["a b", "b c"]), [256, 0x63]);
  assert.throws(
    () => createBpeTokenizer({ ...handVocab("default"), pre: "tekken" }),
    /`vocab.pre` must be one of .*llama-bpe.*tekken/,
  );
});

Deno.test("byte-level BPE round trips: Unicode, emoji, digits, newlines, every pre-tokenizer", () => {
  for (const pre of Object.keys(BPE_PRE_TOKENIZERS)) {
    const vocab = trainBpe(CORPUS, 150, pre);
    const tok = createTokenizer(vocab);
    for (const text of [...TEXTS, CORPUS]) {
      const ids = tok.encode(text, { bos: false });
      assert.equal(tok.decode(ids), text, `${pre}: ${JSON.stringify(text)}`);
    }
    // Merges learned from the corpus do shorten it.
    assert.ok(tok.encode(CORPUS).length < new TextEncoder().encode(CORPUS).length / 2);
  }
});

// GPT-2's own encoder.py algorithm (all occurrences of the lowest-ranked pair
// merged at once) with the `regex` module's patterns, Llama 3's written with
// its (?i:…) group as published: independent of bpe.ts in both steps.
const PY_BPE = String.raw`
import json, sys, regex
job = json.load(open(sys.argv[1]))
PAT = {
  "llama-bpe": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
  "default": r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+",
  "qwen2": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
}[job["pre"]]
bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256)); cs = bs[:]; n = 0
for b in range(256):
    if b not in bs: bs.append(b); cs.append(256 + n); n += 1
enc = dict(zip(bs, map(chr, cs)))
ranks = {tuple(m.split(" ")): i for i, m in reversed(list(enumerate(job["merges"])))}
index = {}
for i, p in enumerate(job["pieces"]): index.setdefault(p, i)
def bpe(word):
    if job["pre"] == "llama-bpe" and word in index: return [word]
    w = list(word)
    while len(w) > 1:
        pair = min(zip(w, w[1:]), key=lambda p: ranks.get(p, float("inf")))
        if pair not in ranks: break
        out, i = [], 0
        while i < len(w):
            if i + 1 < len(w) and (w[i], w[i + 1]) == pair: out.append(w[i] + w[i + 1]); i += 2
            else: out.append(w[i]); i += 1
        w = out
    return w
res = []
for text in job["texts"]:
    parts = regex.findall(PAT, text); ids = []
    for p in parts:
        for s in bpe("".join(enc[b] for b in p.encode("utf-8"))):
            ids.extend([index[s]] if s in index else [index[c] for c in s])
    res.append({"parts": parts, "ids": ids})
print(json.dumps(res))
`;

Deno.test({
  name: "byte-level BPE equals GPT-2's encoder.py algorithm with the regex module's patterns",
  ignore: !havePython(["regex"], "byte-level BPE reference"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "brainorg-bpe-" });
    try {
      const texts = [...TEXTS, ...CORPUS.split("\n"), CORPUS.toUpperCase(), CORPUS];
      for (const pre of ["llama-bpe", "default", "qwen2"]) {
        const vocab = trainBpe(CORPUS, 200, pre);
        const job = `${dir}/${pre}.json`;
        await Deno.writeTextFile(
          job,
          JSON.stringify({ pre, merges: vocab.merges, pieces: vocab.pieces, texts }),
        );
        const ref = await runPython<{ parts: string[]; ids: number[] }[]>(PY_BPE, [job], [
          "regex",
        ]);
        const tok = createTokenizer(vocab), family = BPE_PRE_TOKENIZERS[pre];
        texts.forEach((text, i) => {
          assert.deepEqual(preTokenize(text, family), ref[i].parts, `${pre}: ${text}`);
          assert.deepEqual(tok.encode(text, { bos: false }), ref[i].ids, `${pre}: ${text}`);
        });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
