import assert from "node:assert/strict";
import { networkDisplayName, YEO17_NETWORKS, YEO7_NAMES } from "./network_names.ts";
import { dataPath } from "../../test/data.ts";
import { havePython, runPython } from "../../test/python.ts";

/** Yeo-7's labels as `atlases/Yeo-7.csv` has them (the networks tables keep them). */
const YEO7_RAW = [
  "1_Visual_Area",
  "2_Somatomotor_Area",
  "3_Dorsal_Area",
  "4_Ventral_Area",
  "5_Lymbic_Area",
  "6_Frontoparietal_Area",
  "7_Default_Network_Area",
];

Deno.test("every Yeo-7 label has its readable name", async () => {
  const expected = [
    "Visual",
    "Somatomotor",
    "Dorsal attention",
    "Ventral attention",
    "Limbic",
    "Frontoparietal",
    "Default",
  ];
  assert.deepEqual(YEO7_RAW.map((r) => networkDisplayName("Yeo-7", r)), expected);
  // The options' spelling of the set, and the labels a missing names file gives.
  assert.deepEqual(YEO7_RAW.map((r) => networkDisplayName("yeo7", r)), expected);
  assert.deepEqual(
    expected.map((_, i) => networkDisplayName("Yeo-7", `network ${i + 1}`)),
    expected,
  );
  // The labels are the reference file's, not a copy that could drift from it.
  const csv = await Deno.readTextFile(await dataPath("atlases/Yeo-7.csv"));
  const raw = csv.trim().split("\n").slice(1).map((l) => l.split(",")[1].trim());
  assert.deepEqual(raw, YEO7_RAW);
});

Deno.test("every Yeo-17 label has a readable name with its number", () => {
  const expected = [
    "Visual A (17-1)",
    "Visual B (17-2)",
    "Somatomotor A (17-3)",
    "Somatomotor B (17-4)",
    "Dorsal attention A (17-5)",
    "Dorsal attention B (17-6)",
    "Ventral attention A (17-7)",
    "Ventral attention B (17-8)",
    "Limbic A (temporal pole) (17-9)",
    "Limbic B (orbitofrontal) (17-10)",
    "Frontoparietal C (17-11)",
    "Frontoparietal A (17-12)",
    "Frontoparietal B (17-13)",
    "Temporal parietal (17-14)",
    "Default C (17-15)",
    "Default A (17-16)",
    "Default B (17-17)",
  ];
  // templates.ts names Yeo-17's labels `network N` (the atlas has no names file).
  const names = expected.map((_, i) => networkDisplayName("Yeo-17", `network ${i + 1}`));
  assert.deepEqual(names, expected);
  assert.deepEqual(
    expected.map((_, i) => networkDisplayName("yeo17", `17Networks_${i + 1}`)),
    expected,
  );
  // Each name but the temporal-parietal one begins with its 7-network group's name.
  YEO17_NETWORKS.forEach((n, i) => {
    if (i !== 13) assert.ok(n.name.startsWith(YEO7_NAMES[n.yeo7 - 1]), n.name);
  });
});

Deno.test("names it does not know, and Giles' maps, are kept as they are", () => {
  assert.equal(networkDisplayName("Giles-39", "map 3"), "map 3");
  assert.equal(networkDisplayName("giles", "5_Lymbic_Area"), "5_Lymbic_Area");
  assert.equal(networkDisplayName("Yeo-7", "network 8"), "network 8");
  assert.equal(networkDisplayName("Yeo-7", "0_empty"), "0_empty");
  assert.equal(networkDisplayName("Yeo-17", "network 18"), "network 18");
  assert.equal(networkDisplayName("Yeo-17", "Visual <b>"), "Visual <b>");
  assert.equal(networkDisplayName("Schaefer-400", "network 1"), "network 1");
});

Deno.test({
  name: "Yeo-17's grouping into Yeo-7 is the atlases' own: each network lies in its group",
  ignore: !havePython(["numpy", "nibabel"], "Yeo-17 → Yeo-7 overlap (nibabel)"),
  async fn() {
    const [yeo7, yeo17] = await Promise.all([
      dataPath("atlases/Yeo-7_space-MNI152NLin6_res-2x2x2.nii.gz"),
      dataPath("atlases/Yeo-17_space-MNI152NLin6_res-2x2x2.nii.gz"),
    ]);
    // For each 17-network label, its voxels in each 7-network label (1–7).
    const counts = await runPython<number[][]>(
      `
import sys, json, numpy as np, nibabel as nib
a7 = np.rint(np.asarray(nib.load(sys.argv[1]).dataobj)).astype(int).ravel()
a17 = np.rint(np.asarray(nib.load(sys.argv[2]).dataobj)).astype(int).ravel()
out = []
for n in range(1, 18):
    out.append(np.bincount(a7[(a17 == n) & (a7 > 0)], minlength=8)[1:].tolist())
print(json.dumps(out))
`,
      [yeo7, yeo17],
      ["numpy", "nibabel"],
    );
    // The 17-network solution is not nested in the 7-network one: each network's group holds at
    // least 40% of its voxels, the most of any group but for Ventral attention B (17-8), which
    // Yeo-7 splits evenly between ventral attention (48%) and frontoparietal (49%).
    const notMajority: number[] = [];
    YEO17_NETWORKS.forEach((n, i) => {
      const c = counts[i], total = c.reduce((a, b) => a + b, 0);
      assert.ok(c[n.yeo7 - 1] / total >= 0.4, `${n.name}: ${c[n.yeo7 - 1]} of ${total}`);
      if (c.indexOf(Math.max(...c)) !== n.yeo7 - 1) notMajority.push(i + 1);
    });
    assert.deepEqual(notMajority, [8]);
  },
});
