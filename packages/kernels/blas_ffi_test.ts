import assert from "node:assert/strict";
import { coreTypeConflict, loadBlas, openBlasCoreType, parseCpuInfo } from "./blas_ffi.ts";

/** A /proc/cpuinfo block as Linux writes it (tabs before the colons). */
function block(vendor: string, family: number, model: number, name: string, flags: string) {
  return [
    "processor\t: 0",
    `vendor_id\t: ${vendor}`,
    `cpu family\t: ${family}`,
    `model\t\t: ${model}`,
    `model name\t: ${name}`,
    "stepping\t: 1",
    `flags\t\t: ${flags}`,
    "bogomips\t: 5000.00",
    "",
  ].join("\n");
}

// Flag lines as these CPUs report them under KVM (cloud instances of each).
const BASE = "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush " +
  "mmx fxsr sse sse2 ht syscall nx rdtscp lm constant_tsc rep_good nopl xtopology cpuid pni " +
  "pclmulqdq ssse3";
const SAMPLES = {
  intelAvx512: block(
    "GenuineIntel",
    6,
    85,
    "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz",
    `${BASE} fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx ` +
      "f16c rdrand hypervisor lahf_lm abm 3dnowprefetch invpcid_single pti fsgsbase " +
      "tsc_adjust bmi1 avx2 smep bmi2 erms invpcid mpx avx512f avx512dq rdseed adx smap " +
      "clflushopt clwb avx512cd avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves ida arat " +
      "pku ospke avx512_vnni",
  ),
  intelAvx2: block(
    "GenuineIntel",
    6,
    63,
    "Intel(R) Xeon(R) CPU E5-2676 v3 @ 2.40GHz",
    `${BASE} fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx ` +
      "f16c rdrand hypervisor lahf_lm abm cpuid_fault invpcid_single pti fsgsbase bmi1 avx2 " +
      "smep bmi2 erms invpcid xsaveopt",
  ),
  intelAvx: block(
    "GenuineIntel",
    6,
    45,
    "Intel(R) Xeon(R) CPU E5-2670 0 @ 2.60GHz",
    `${BASE} cx16 pcid sse4_1 sse4_2 x2apic popcnt tsc_deadline_timer aes xsave avx ` +
      "hypervisor lahf_lm pti xsaveopt",
  ),
  zen2: block(
    "AuthenticAMD",
    23,
    49,
    "AMD EPYC 7R32",
    `${BASE} mmxext fxsr_opt pdpe1gb fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx f16c ` +
      "rdrand hypervisor lahf_lm cmp_legacy cr8_legacy abm sse4a misalignsse 3dnowprefetch " +
      "topoext ssbd ibrs ibpb stibp vmmcall fsgsbase bmi1 avx2 smep bmi2 rdseed adx smap " +
      "clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 clzero xsaveerptr rdpru wbnoinvd arat " +
      "npt nrip_save rdpid",
  ),
  zen3: block(
    "AuthenticAMD",
    25,
    1,
    "AMD EPYC 7B13",
    `${BASE} mmxext fxsr_opt pdpe1gb fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes ` +
      "xsave avx f16c rdrand hypervisor lahf_lm cmp_legacy cr8_legacy abm sse4a misalignsse " +
      "3dnowprefetch osvw topoext ssbd ibrs ibpb stibp vmmcall fsgsbase tsc_adjust bmi1 avx2 " +
      "smep bmi2 erms invpcid rdseed adx smap clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 " +
      "clzero xsaveerptr arat npt nrip_save umip pku ospke vaes vpclmulqdq rdpid fsrm",
  ),
  zen4: block(
    "AuthenticAMD",
    25,
    17,
    "AMD EPYC 9R14",
    `${BASE} mmxext fxsr_opt pdpe1gb fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes ` +
      "xsave avx f16c rdrand hypervisor lahf_lm cmp_legacy cr8_legacy abm sse4a misalignsse " +
      "3dnowprefetch topoext perfctr_core invpcid_single ssbd ibrs ibpb stibp vmmcall " +
      "fsgsbase bmi1 avx2 smep bmi2 invpcid avx512f avx512dq rdseed adx smap avx512ifma " +
      "clflushopt clwb avx512cd sha_ni avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves " +
      "avx512_bf16 clzero xsaveerptr rdpru wbnoinvd arat npt nrip_save avx512vbmi umip pku " +
      "ospke avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg avx512_vpopcntdq " +
      "rdpid fsrm",
  ),
  hygon: block(
    "HygonGenuine",
    24,
    1,
    "Hygon C86 7185 32-core Processor",
    `${BASE} mmxext fxsr_opt pdpe1gb fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx f16c ` +
      "rdrand lahf_lm cmp_legacy abm sse4a misalignsse 3dnowprefetch topoext bmi1 avx2 smep " +
      "bmi2 rdseed adx smap clflushopt sha_ni xsaveopt xsavec xgetbv1 clzero arat",
  ),
  // A hypervisor that passes avx512f through but hides avx512bw/vl.
  partialAvx512: block(
    "GenuineIntel",
    6,
    85,
    "Intel Xeon Processor (Skylake)",
    `${BASE} fma cx16 sse4_1 sse4_2 popcnt xsave avx f16c hypervisor bmi1 avx2 bmi2 avx512f`,
  ),
  arm: "processor\t: 0\nBogoMIPS\t: 243.75\n" +
    "Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid\n" +
    "CPU implementer\t: 0x41\nCPU architecture: 8\nCPU part\t: 0xd0c\n\n",
};

Deno.test("parseCpuInfo reads the first processor's vendor, model and flags", () => {
  const text = SAMPLES.zen4 + "\n" + SAMPLES.intelAvx2.replace("processor\t: 0", "processor\t: 1");
  const cpu = parseCpuInfo(text);
  assert.equal(cpu.vendor, "AuthenticAMD");
  assert.equal(cpu.modelName, "AMD EPYC 9R14");
  assert.equal(cpu.family, 25);
  assert.equal(cpu.model, 17);
  assert.ok(cpu.flags.includes("avx512_bf16"));
  assert.ok(!cpu.flags.includes("cpuid_fault"), "flags of the second processor leaked in");
  assert.deepEqual(parseCpuInfo(""), {
    vendor: "",
    modelName: "",
    family: undefined,
    model: undefined,
    flags: [],
  });
  assert.deepEqual(parseCpuInfo(SAMPLES.arm).flags, []);
});

Deno.test("openBlasCoreType names OpenBLAS's core for Intel and AMD, by flags", () => {
  const cases: [keyof typeof SAMPLES, string | undefined][] = [
    ["intelAvx512", "SkylakeX"],
    ["intelAvx2", "Haswell"],
    ["intelAvx", undefined],
    ["zen2", "Zen"],
    ["zen3", "Zen"],
    ["zen4", "SkylakeX"],
    ["hygon", "Zen"],
    ["partialAvx512", "Haswell"],
    ["arm", undefined],
  ];
  for (const [sample, want] of cases) {
    assert.equal(openBlasCoreType(parseCpuInfo(SAMPLES[sample])), want, sample);
  }
});

Deno.test("coreTypeConflict refuses AVX-512 kernels on AVX2 CPUs, in any case", () => {
  const zen3 = parseCpuInfo(SAMPLES.zen3);
  for (const name of ["SkylakeX", "skylakex", "COOPERLAKE"]) {
    const why = coreTypeConflict(name, zen3);
    assert.ok(why, name);
    assert.match(why, /avx512f, avx512bw, avx512vl/);
    assert.match(why, /SIGILL/);
    assert.match(why, /AMD EPYC 7B13/);
    assert.match(why, /brainorg then names Zen/);
  }
  assert.equal(coreTypeConflict("Zen", zen3), undefined);
  assert.equal(coreTypeConflict("Haswell", zen3), undefined);
  assert.equal(coreTypeConflict("SkylakeX", parseCpuInfo(SAMPLES.zen4)), undefined);
  assert.match(coreTypeConflict("Haswell", parseCpuInfo(SAMPLES.intelAvx)) ?? "", /avx2/);
  // Unknown needs, or no flags to judge by: nothing is claimed.
  assert.equal(coreTypeConflict("Prescott", zen3), undefined);
  assert.equal(coreTypeConflict("SkylakeX", parseCpuInfo(SAMPLES.arm)), undefined);
});

Deno.test("loadBlas declines an OPENBLAS_CORETYPE the CPU cannot run, before loading it", () => {
  const before = Deno.env.get("OPENBLAS_CORETYPE");
  Deno.env.set("OPENBLAS_CORETYPE", "SkylakeX");
  try {
    const r = loadBlas({ cpuInfo: SAMPLES.zen3 });
    if (!("reason" in r)) {
      r.close();
      assert.fail("a library was loaded with kernels this CPU lacks");
    }
    assert.match(r.reason, /^OPENBLAS_CORETYPE=SkylakeX .*AMD EPYC 7B13.*SIGILL/);
  } finally {
    if (before === undefined) Deno.env.delete("OPENBLAS_CORETYPE");
    else Deno.env.set("OPENBLAS_CORETYPE", before);
  }
});
