import assert from "node:assert/strict";
import { coreCheckLine, cpuLine, describeCpu, numpyVariants } from "./cpu.ts";

const cpuinfo = (vendor: string, name: string, flags: string) =>
  `processor\t: 0\nvendor_id\t: ${vendor}\ncpu family\t: 25\nmodel\t\t: 1\n` +
  `model name\t: ${name}\nflags\t\t: fpu sse sse2 avx ${flags}\n\nprocessor\t: 1\n`;

Deno.test("numpyVariants never names AVX-512 kernels on a CPU without AVX-512", () => {
  const zen3 = describeCpu(cpuinfo("AuthenticAMD", "AMD EPYC 7B13", "fma avx2"));
  assert.deepEqual(numpyVariants(zen3, "numpy").map((v) => v.env), [
    {},
    { OPENBLAS_CORETYPE: "Zen" },
  ]);
  const intel = describeCpu(cpuinfo("GenuineIntel", "Intel Xeon E5-2676 v3", "fma avx2"));
  assert.equal(numpyVariants(intel, "numpy")[1].impl, "numpy (OPENBLAS_CORETYPE=Haswell)");
  const zen4 = describeCpu(
    cpuinfo("AuthenticAMD", "AMD EPYC 9R14", "fma avx2 avx512f avx512bw avx512vl avx512_bf16"),
  );
  assert.equal(numpyVariants(zen4, "numpy")[1].env.OPENBLAS_CORETYPE, "SkylakeX");
  // A core type set in the environment is brainorg's too, unless the CPU cannot run it.
  const zen3Haswell = describeCpu(cpuinfo("AuthenticAMD", "AMD EPYC 7B13", "fma avx2"), "Haswell");
  assert.equal(numpyVariants(zen3Haswell, "numpy")[1].env.OPENBLAS_CORETYPE, "Haswell");
  const zen3SkylakeX = describeCpu(
    cpuinfo("AuthenticAMD", "AMD EPYC 7B13", "fma avx2"),
    "SkylakeX",
  );
  assert.equal(numpyVariants(zen3SkylakeX, "numpy")[1].env.OPENBLAS_CORETYPE, "Zen");
  // No flags (not Linux, or not x86): OpenBLAS as installed only.
  assert.deepEqual(numpyVariants(describeCpu(""), "numpy").map((v) => v.impl), [
    "numpy (OpenBLAS as installed)",
  ]);
});

Deno.test("describeCpu and cpuLine name the CPU and the flags that choose kernels", () => {
  const zen3 = describeCpu(cpuinfo("AuthenticAMD", "AMD EPYC 7B13", "fma avx2"), "SkylakeX");
  assert.equal(zen3.model, "AMD EPYC 7B13");
  assert.equal(zen3.vendor, "AuthenticAMD");
  assert.equal(zen3.family, 25);
  assert.equal(zen3.flags?.avx2, true);
  assert.equal(zen3.flags?.avx512f, false);
  assert.equal(zen3.openblasCoreTypeEnv, "SkylakeX");
  const line = cpuLine(zen3);
  assert.match(line, /AMD EPYC 7B13 \(AuthenticAMD, family 25, model 1\)/);
  assert.match(line, /avx2 fma; no avx512f avx512bw avx512vl avx512_bf16/);
  assert.match(line, /core type brainorg names: Zen/);
  assert.match(
    line,
    /OPENBLAS_CORETYPE=SkylakeX set in the environment \(this CPU cannot run it: brainorg does not/,
  );
  assert.match(zen3.openblasCoreTypeEnvConflict ?? "", /SIGILL/);
  assert.match(
    cpuLine(describeCpu(cpuinfo("AuthenticAMD", "AMD EPYC 7B13", "fma avx2"), "Zen")),
    /OPENBLAS_CORETYPE=Zen set in the environment \(brainorg uses it\)/,
  );
  assert.match(cpuLine(describeCpu("")), /flags not reported/);
});

Deno.test("coreCheckLine sets brainorg's OpenBLAS core, and how it was chosen, beside numpy's", () => {
  const probed = "probed (cached): SkylakeX 352.1 GFLOP/s, OpenBLAS's own (Cooperlake) " +
    "347.9 GFLOP/s → SkylakeX";
  assert.equal(
    coreCheckLine(
      { products: "openblas", core: "SkylakeX", coreTypeChoice: probed },
      [
        { api: "openblas", core: "Cooperlake", via: "threadpoolctl" },
        { api: "mkl", core: null, via: "threadpoolctl" },
      ],
    ),
    `OpenBLAS core: brainorg runs SkylakeX (${probed}); ` +
      "numpy's OpenBLAS runs Cooperlake (threadpoolctl)",
  );
  assert.equal(
    coreCheckLine({ products: "mlas" }, []),
    "OpenBLAS core: brainorg does not run OpenBLAS (products: mlas); " +
      "numpy's OpenBLAS core not reported",
  );
  assert.match(
    coreCheckLine({ products: "openblas", core: "Haswell" }, [
      { api: "openblas", core: null, via: "ctypes" },
    ]),
    /brainorg runs Haswell; numpy's OpenBLAS runs an unknown core \(ctypes\)$/,
  );
});
